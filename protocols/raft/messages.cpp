#include "protocols/raft/messages.hpp"

#include <iterator>
#include <string>
#include <type_traits>

#include "protocols/raft/check.hpp"

namespace faultline::raft {
namespace {

// Sizes of a plausible binary encoding (fixed-width integers, length-prefixed strings), in the
// spirit of LogCabin's protobuf RPCs: exact to within a few bytes is all the network model needs.
constexpr std::uint64_t kHeaderBytes =
    32;  // RPC header: type tag, sender, addressee, RPC id, length
constexpr std::uint64_t kStringPrefixBytes = 4;
constexpr std::uint64_t kU64 = 8;

std::uint64_t string_size(const std::string& s) { return kStringPrefixBytes + s.size(); }

std::uint64_t command_size(const Command& c) {
  // op tag (1) + client_id, seq, ack_below + three strings
  return 1 + 3 * kU64 + string_size(c.key) + string_size(c.value) + string_size(c.expected);
}

}  // namespace

const char* op_name(Command::Op op) {
  switch (op) {
    case Command::Op::Noop:
      return "noop";
    case Command::Op::Get:
      return "get";
    case Command::Op::Put:
      return "put";
    case Command::Op::Append:
      return "append";
    case Command::Op::Cas:
      return "cas";
  }
  return "?";
}

std::uint64_t entry_size(const LogEntry& entry) { return kU64 + command_size(entry.command); }

std::uint64_t wire_size(const Message& message) {
  return std::visit(
      [](const auto& m) -> std::uint64_t {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, RequestVote>) {
          return kHeaderBytes + 4 * kU64;
        } else if constexpr (std::is_same_v<T, RequestVoteReply>) {
          return kHeaderBytes + kU64 + 1;
        } else if constexpr (std::is_same_v<T, AppendEntries>) {
          std::uint64_t bytes = kHeaderBytes + 5 * kU64 + kStringPrefixBytes;  // + entry count
          for (const auto& e : m.entries) bytes += entry_size(e);
          return bytes;
        } else if constexpr (std::is_same_v<T, AppendEntriesReply>) {
          return kHeaderBytes + 4 * kU64 + 1;
        } else if constexpr (std::is_same_v<T, ClientRequest>) {
          return kHeaderBytes + 3 * kU64 + command_size(m.command);
        } else if constexpr (std::is_same_v<T, ClientReply>) {
          return kHeaderBytes + 3 * kU64 + 2 + string_size(m.value);
        } else if constexpr (std::is_same_v<T, InstallSnapshot>) {
          // term, leader_id, offset (always 0), done (always true), then the snapshot itself:
          // its size is what makes catching up by snapshot cost network time.
          return kHeaderBytes + 3 * kU64 + 1 + snapshot_size(m.snapshot);
        } else {
          static_assert(std::is_same_v<T, InstallSnapshotReply>);
          return kHeaderBytes + 2 * kU64;
        }
      },
      message);
}

const char* kind_name(const Message& message) {
  static constexpr const char* kNames[] = {"request_vote",     "request_vote_reply",
                                           "append_entries",   "append_entries_reply",
                                           "client_request",   "client_reply",
                                           "install_snapshot", "install_snapshot_reply"};
  static_assert(std::variant_size_v<Message> == std::size(kNames));
  // An AppendEntries without entries is the heartbeat of §5.2: counted (rpcs.heartbeat) and
  // filtered (network `kinds:`) apart from AppendEntries that carry log entries.
  if (const auto* ae = std::get_if<AppendEntries>(&message); ae && ae->entries.empty())
    return "heartbeat";
  return kNames[message.index()];
}

std::uint64_t persist_size(const PersistOp& op) {
  return std::visit(
      [](const auto& o) -> std::uint64_t {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, SetTermVote>) {
          return 2 * kU64;
        } else if constexpr (std::is_same_v<T, TruncateLog>) {
          return kU64;
        } else if constexpr (std::is_same_v<T, SaveSnapshot>) {
          // The snapshot file, plus the new start of the log (the discarded prefix costs no
          // write: the log's first index moves).
          return snapshot_size(o.snapshot) + kU64;
        } else {
          std::uint64_t bytes = kU64;
          for (const auto& e : o.entries) bytes += entry_size(e);
          return bytes;
        }
      },
      op);
}

void PersistentState::apply(const PersistOp& op) {
  if (const auto* tv = std::get_if<SetTermVote>(&op)) {
    current_term = tv->current_term;
    voted_for = tv->voted_for;
  } else if (const auto* t = std::get_if<TruncateLog>(&op)) {
    RAFT_CHECK(t->from_index >= first_index(),
               "TruncateLog from index " + std::to_string(t->from_index) +
                   " would delete the sentinel or entries inside the snapshot (first index " +
                   std::to_string(first_index()) + ")");
    if (t->from_index - first_index() < log.size()) log.resize(t->from_index - first_index());
  } else if (const auto* a = std::get_if<AppendLog>(&op)) {
    RAFT_CHECK(a->first_index >= first_index() && a->first_index <= last_index() + 1,
               "AppendLog at index " + std::to_string(a->first_index) +
                   " would leave a gap after " + std::to_string(last_index()) +
                   " or write inside the snapshot");
    log.resize(a->first_index - first_index());
    log.insert(log.end(), a->entries.begin(), a->entries.end());
  } else {
    const Snapshot& s = std::get<SaveSnapshot>(op).snapshot;
    RAFT_CHECK(s.last_included_index > snapshot.last_included_index,
               "SaveSnapshot at index " + std::to_string(s.last_included_index) +
                   " does not replace the snapshot at " +
                   std::to_string(snapshot.last_included_index));
    const std::uint64_t index = s.last_included_index;
    if (index <= last_index() && entry(index).term == s.last_included_term) {
      // Figure 13, step 7: "If existing log entry has same index and term as snapshot's last
      // included entry, retain log entries following it".
      log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(index - first_index() + 1));
    } else {
      // Step 8: "Discard the entire log".
      log.clear();
    }
    snapshot = s;
  }
}

}  // namespace faultline::raft
