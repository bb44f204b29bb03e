#include "protocols/raft/client.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "protocols/raft/check.hpp"

namespace faultline::raft {
namespace {

Command::Op op_from_name(const std::string& name) {
  if (name == "get") return Command::Op::Get;
  if (name == "put") return Command::Op::Put;
  if (name == "append") return Command::Op::Append;
  RAFT_CHECK(name == "cas", "unknown raft workload operation '" + name + "'");
  return Command::Op::Cas;
}

nlohmann::json argument(const Command& c) {
  switch (c.op) {
    case Command::Op::Get:
      return nullptr;
    case Command::Op::Cas:
      return nlohmann::json::array({c.expected, c.value});
    default:
      return c.value;
  }
}

}  // namespace

Client::Client(NodeId id, std::vector<NodeId> servers, const ClientConfig& config, Rng rng,
               Time now)
    : id_(id),
      servers_(std::move(servers)),
      config_(config),
      rng_(rng),
      open_loop_(config.rate_per_s.has_value()),
      session_id_(static_cast<std::int64_t>(id) +
                  (static_cast<std::int64_t>(config.incarnation) << 32)),
      process_base_(static_cast<std::int64_t>(config.incarnation) * config.num_clients *
                    kProcessesPerIncarnation),
      process_(process_base_ + config.client_index) {
  RAFT_CHECK(!servers_.empty(), "a client needs servers");
  RAFT_CHECK(config_.num_clients >= 1 && config_.client_index >= 0 &&
                 config_.client_index < config_.num_clients,
             "client_index out of range");
  RAFT_CHECK(config_.keys >= 1, "keys must be at least 1");
  RAFT_CHECK(config_.rpc_timeout > 0 && config_.client_timeout > 0, "timeouts must be positive");
  RAFT_CHECK(!open_loop_ || *config_.rate_per_s > 0, "rate must be positive");
  double total = 0;
  for (const auto& [name, weight] : config_.mix) {
    op_from_name(name);
    RAFT_CHECK(weight >= 0, "mix weights must not be negative");
    total += weight;
  }
  RAFT_CHECK(total > 0, "the mix needs a positive weight");
  believed_leader_ = servers_[static_cast<std::size_t>(config_.client_index) % servers_.size()];
  if (more_to_issue()) {
    const Time first = std::max(config_.start, now);
    next_issue_at_ = open_loop_ ? first + draw_interarrival() : first;
  }
}

// ------------------------------------------------------------------------------------------

void Client::step(const Envelope<Message>& in, Time now, Out& out) {
  if (const auto* reply = std::get_if<ClientReply>(&in.msg)) on_reply(in.from, *reply, now, out);
}

void Client::tick(Time now, Out& out) {
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    Operation& op = it->second;
    if (op.give_up_at <= now) {
      // The outcome is unknown: it may still take effect at any time, or never (an `info`,
      // as Jepsen records it). The client continues under a new process id, because a process
      // has at most one operation open (SCENARIOS.md).
      record(op, OpType::Info, now, out);
      ++info_;
      it = outstanding_.erase(it);
      if (!open_loop_) {
        process_ += config_.num_clients;
        if (more_to_issue()) next_issue_at_ = now;
      }
      continue;
    }
    if (op.attempt_deadline <= now) {
      // No answer within rpc_timeout: the server may be down or cut off; try the next one with
      // the same (client_id, seq), which keeps the retry one operation (at-most-once, §8).
      if (!op.resend_at_deadline) op.target = next_server(op.target);
      send_attempt(op, now, out);
    }
    ++it;
  }
  while (next_issue_at_ <= now) {
    issue(now, out);
    if (!more_to_issue()) {
      next_issue_at_ = kNever;
    } else if (open_loop_) {
      next_issue_at_ += draw_interarrival();
    } else {
      next_issue_at_ = kNever;  // closed loop: the next one starts when this one finishes
    }
  }
}

Time Client::next_deadline() const {
  Time t = next_issue_at_;
  for (const auto& [seq, op] : outstanding_) t = std::min({t, op.give_up_at, op.attempt_deadline});
  return t;
}

bool Client::done() const { return !more_to_issue() && outstanding_.empty(); }

void Client::check_invariants() const {
  RAFT_CHECK(open_loop_ || outstanding_.size() <= 1, "a closed-loop client has one op open");
  RAFT_CHECK(!config_.ops || issued_ <= *config_.ops, "issued more operations than configured");
  RAFT_CHECK(issued_ == ok_ + info_ + static_cast<std::int64_t>(outstanding_.size()),
             "every issued operation is ok, info or outstanding");
  if (!outstanding_.empty()) {  // ordered by seq: the last one bounds them all
    RAFT_CHECK(outstanding_.rbegin()->first < next_seq_, "outstanding seq bookkeeping");
  }
  RAFT_CHECK(!done() || next_deadline() == kNever, "a done client arms no timer");
}

// ------------------------------------------------------------------------------------------

void Client::issue(Time now, Out& out) {
  Operation op;
  op.seq = next_seq_++;
  // Closed loop: the client's current process. Open loop: every operation its own process,
  // unique across clients (client_index + k * num_clients for the k-th operation).
  op.process = open_loop_ ? process_base_ + config_.client_index + issued_ * config_.num_clients
                          : process_;
  op.command = draw_command(op.seq);
  op.invoked_at = now;
  op.give_up_at = now + config_.client_timeout;
  op.target = believed_leader_;
  ++issued_;
  record(op, OpType::Invoke, now, out);
  auto [it, inserted] = outstanding_.emplace(op.seq, std::move(op));
  RAFT_CHECK(inserted, "seq reused");
  send_attempt(it->second, now, out);
}

Command Client::draw_command(std::int64_t seq) {
  double total = 0;
  for (const auto& [name, weight] : config_.mix) total += weight;
  double x = rng_.unit() * total;
  std::string chosen;
  for (const auto& [name, weight] : config_.mix) {
    if (weight <= 0) continue;
    chosen = name;
    if (x < weight) break;
    x -= weight;
  }
  Command c;
  c.op = op_from_name(chosen);
  c.key = "k" + std::to_string(rng_.below(static_cast<std::uint64_t>(config_.keys)));
  c.client_id = session_id_;
  c.seq = seq;
  // Values are unique per operation, so a history checker can tell every write apart; appends
  // end with ';' so the concatenation splits back into the individual appends.
  const std::string unique =
      "c" + std::to_string(config_.client_index + 1) +
      (config_.incarnation ? "/" + std::to_string(config_.incarnation) : std::string()) + "." +
      std::to_string(seq);
  switch (c.op) {
    case Command::Op::Put:
      c.value = unique;
      break;
    case Command::Op::Append:
      c.value = unique + ";";
      break;
    case Command::Op::Cas: {
      auto it = last_seen_.find(c.key);
      c.expected = it == last_seen_.end() ? std::string() : it->second;
      c.value = unique;
      break;
    }
    default:
      break;
  }
  return c;
}

void Client::send_attempt(Operation& op, Time now, Out& out) {
  op.attempt_deadline = now + config_.rpc_timeout;
  op.resend_at_deadline = false;
  believed_leader_ = op.target;
  Message msg = ClientRequest{session_id_, op.seq, ack_below(), op.command};
  const auto size = wire_size(msg);
  out.send(op.target, std::move(msg), size);
}

void Client::on_reply(NodeId from, const ClientReply& reply, Time now, Out& out) {
  if (reply.client_id != session_id_) return;
  auto it = outstanding_.find(reply.seq);
  if (it == outstanding_.end()) return;  // already finished (a late or duplicate reply)
  Operation& op = it->second;

  if (reply.status == ClientReply::Status::Ok) {
    // Any server's Ok is valid: a server replies only after the command was applied.
    believed_leader_ = from;
    record(op, OpType::Ok, now, out, &reply);
    ++ok_;
    const Command& c = op.command;
    const bool acked_write = c.op == Command::Op::Put || c.op == Command::Op::Append ||
                             (c.op == Command::Op::Cas && reply.cas_matched);
    if (acked_write) {
      acked_writes_.push_back(AckedWrite{session_id_, op.seq, op_name(c.op), c.key, c.value});
    }
    if (c.op == Command::Op::Get || c.op == Command::Op::Cas) last_seen_[c.key] = reply.value;
    if (c.op == Command::Op::Put) last_seen_[c.key] = c.value;
    outstanding_.erase(it);
    if (!open_loop_ && more_to_issue()) {
      issue(now, out);  // closed loop: the next operation starts at once
      if (!more_to_issue()) next_issue_at_ = kNever;
    }
    return;
  }

  // NotLeader. A redirect from a server we are no longer talking to is stale.
  if (from != op.target) return;
  if (reply.leader_hint != kNoNode && reply.leader_hint != from) {
    // §8: the follower supplies the most recent leader it has heard from; go there at once.
    op.target = reply.leader_hint;
    op.redirects_without_hint = 0;
    send_attempt(op, now, out);
    return;
  }
  op.target = next_server(op.target);
  if (++op.redirects_without_hint < servers_.size()) {
    send_attempt(op, now, out);
    return;
  }
  // A full round of servers without a leader (an election is under way): pause one
  // rpc_timeout instead of cycling through the servers at network speed.
  op.redirects_without_hint = 0;
  op.attempt_deadline = now + config_.rpc_timeout;
  op.resend_at_deadline = true;
  believed_leader_ = op.target;
}

void Client::record(const Operation& op, OpType type, Time now, Out& out,
                    const ClientReply* reply) const {
  const Command& c = op.command;
  HistoryEntry e;
  e.process = op.process;
  e.type = type;
  e.f = op_name(c.op);
  e.key = c.key;
  e.time = now;
  e.client = id_;
  e.value = argument(c);
  if (type == OpType::Ok && reply) {
    if (c.op == Command::Op::Get) e.value = reply->value;
    if (c.op == Command::Op::Cas) e.result = reply->cas_matched;
  }
  out.history.push_back(std::move(e));
}

NodeId Client::next_server(NodeId after) const {
  auto it = std::upper_bound(servers_.begin(), servers_.end(), after);
  return it == servers_.end() ? servers_.front() : *it;
}

std::int64_t Client::ack_below() const {
  return outstanding_.empty() ? next_seq_ : outstanding_.begin()->first;
}

Duration Client::draw_interarrival() {
  // Poisson arrivals: exponential gaps with mean 1/rate, by inversion (our own helper, not
  // std::exponential_distribution, whose output differs between standard libraries).
  const double gap_s = -std::log1p(-rng_.unit()) / *config_.rate_per_s;
  return static_cast<Duration>(std::llround(gap_s * 1e9));
}

}  // namespace faultline::raft
