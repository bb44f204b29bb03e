#include "protocols/raft/kv.hpp"

namespace faultline::raft {

std::string KvStore::get(const std::string& key) const {
  auto it = state_.data.find(key);
  return it == state_.data.end() ? std::string() : it->second;
}

void KvStore::put(const std::string& key, std::string value) { state_.data[key] = std::move(value); }

void KvStore::append(const std::string& key, const std::string& suffix) { state_.data[key] += suffix; }

bool KvStore::cas(const std::string& key, const std::string& expected, std::string value) {
  if (get(key) != expected) return false;
  state_.data[key] = std::move(value);
  return true;
}

KvStore::Result KvStore::execute(const Command& command) {
  ++executed_;
  Result result;
  switch (command.op) {
    case Command::Op::Noop:
      break;
    case Command::Op::Get:
      result.value = get(command.key);
      break;
    case Command::Op::Put:
      put(command.key, command.value);
      break;
    case Command::Op::Append:
      append(command.key, command.value);
      break;
    case Command::Op::Cas:
      result.cas_matched = cas(command.key, command.expected, command.value);
      result.value = get(command.key);
      break;
  }
  return result;
}

KvStore::Result KvStore::apply(const Command& command, Outcome* outcome) {
  auto set_outcome = [outcome](Outcome o) {
    if (outcome) *outcome = o;
  };
  if (command.client_id < 0) {
    set_outcome(Outcome::Executed);
    return execute(command);
  }
  if (ignore_sessions_) {
    // BUG no_dedup (teaching variant, off by default): every client command is executed, even
    // a (client_id, seq) executed before; no session is kept. Violates §8: "The state machine
    // tracks the latest serial number processed for each client ... If it receives a command
    // whose serial number has already been executed, it responds immediately without
    // re-executing the request." A retry whose first copy was applied (its reply was lost or
    // late) is appended again and applied twice: an append shows up twice in the value.
    set_outcome(Outcome::Executed);
    Result result = execute(command);
    if (command.op == Command::Op::Put || command.op == Command::Op::Append ||
        command.op == Command::Op::Cas) {
      applied_writes_.emplace(command.client_id, command.seq);
    }
    return result;
  }
  ClientSession& session = state_.sessions[command.client_id];
  if (auto it = session.results.find(command.seq); it != session.results.end()) {
    set_outcome(Outcome::Duplicate);
    return it->second;
  }
  if (command.seq < session.ack_below) {
    set_outcome(Outcome::Stale);
    return Result{};
  }
  set_outcome(Outcome::Executed);
  Result result = execute(command);
  if (command.op == Command::Op::Put || command.op == Command::Op::Append ||
      command.op == Command::Op::Cas) {
    applied_writes_.emplace(command.client_id, command.seq);
  }
  session.results.emplace(command.seq, result);
  // The client promises never to need results below its ack_below again (thesis §6.3): forget
  // them, so sessions stay small however long the run.
  if (command.ack_below > session.ack_below) {
    session.ack_below = command.ack_below;
    session.results.erase(session.results.begin(), session.results.lower_bound(session.ack_below));
  }
  return result;
}

KvStore::Result KvStore::preview(const Command& command) const {
  Result result;
  switch (command.op) {
    case Command::Op::Get:
      result.value = get(command.key);
      break;
    case Command::Op::Cas:
      result.cas_matched = get(command.key) == command.expected;
      result.value = result.cas_matched ? command.value : get(command.key);
      break;
    default:
      break;
  }
  return result;
}

const KvStore::Result* KvStore::remembered(std::int64_t client_id, std::int64_t seq) const {
  auto s = state_.sessions.find(client_id);
  if (s == state_.sessions.end()) return nullptr;
  auto r = s->second.results.find(seq);
  return r == s->second.results.end() ? nullptr : &r->second;
}

bool KvStore::stale(std::int64_t client_id, std::int64_t seq) const {
  auto s = state_.sessions.find(client_id);
  if (s == state_.sessions.end()) return false;
  return seq < s->second.ack_below && s->second.results.count(seq) == 0;
}

bool KvStore::applied(std::int64_t client_id, std::int64_t seq) const {
  return applied_writes_.count({client_id, seq}) != 0;
}

}  // namespace faultline::raft
