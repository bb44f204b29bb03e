// Raft's messages, log entries and what a server persists (extended paper, Figure 2).
//
// Log indices are 1-based and absolute: index 0 is the empty sentinel of term 0, so
// `prev_log_index == 0` always matches. With log compaction (§7) the log is stored with an
// offset: PersistentState::log[0] holds the entry of index snapshot.last_included_index + 1
// (index 1 when there is no snapshot).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "common/ids.hpp"
#include "protocols/raft/snapshot.hpp"

namespace faultline::raft {

/// A state machine command (the KV store of kv.hpp). Client commands carry the issuing
/// client's (client_id, seq) so that the state machine executes each one at most once
/// (extended paper §8, "Client interaction").
struct Command {
  enum class Op { Noop, Get, Put, Append, Cas };
  Op op = Op::Noop;
  std::string key;
  std::string value;            // put/append: the argument; cas: the new value
  std::string expected;         // cas only: the value the key must hold for the swap to happen
  std::int64_t client_id = -1;  // -1: not a client command (the leader's Noop)
  std::int64_t seq = 0;
  /// EXTENSION (not in the original interface): the client's ack_below at the time of the
  /// request, copied by the leader from ClientRequest. It travels in the log so that every
  /// replica forgets the same session results at the same log index (state machines must stay
  /// deterministic functions of the log, §8).
  std::int64_t ack_below = 0;

  bool operator==(const Command&) const = default;
};

/// "noop" | "get" | "put" | "append" | "cas".
const char* op_name(Command::Op op);

struct LogEntry {
  std::uint64_t term = 0;
  Command command;

  bool operator==(const LogEntry&) const = default;
};

/// Invoked by candidates to gather votes (§5.2).
struct RequestVote {
  std::uint64_t term = 0;
  NodeId candidate_id = kNoNode;
  std::uint64_t last_log_index = 0;
  std::uint64_t last_log_term = 0;
};

struct RequestVoteReply {
  std::uint64_t term = 0;  // the voter's current_term, for the candidate to update itself
  bool vote_granted = false;
};

/// Invoked by the leader to replicate log entries (§5.3); also used as heartbeat (§5.2).
struct AppendEntries {
  std::uint64_t term = 0;
  NodeId leader_id = kNoNode;
  std::uint64_t prev_log_index = 0;
  std::uint64_t prev_log_term = 0;
  std::vector<LogEntry> entries;  // empty for a heartbeat
  std::uint64_t leader_commit = 0;
};

struct AppendEntriesReply {
  std::uint64_t term = 0;
  bool success = false;
  /// On success: the index of the last entry the request made the follower's log agree on
  /// (prev_log_index + entries.size()), not the follower's log length (which may hold stale
  /// entries past it).
  std::uint64_t match_index = 0;
  /// On a failed consistency check (the §5.3 "optimization" paragraph): the term of the
  /// follower's entry at prev_log_index (0 if the follower's log is too short) ...
  std::uint64_t conflict_term = 0;
  /// ... and the first index the follower stores for conflict_term (its last index + 1 when
  /// the log is too short), so the leader can skip a whole term per round trip.
  std::uint64_t conflict_index = 0;
};

struct ClientRequest {
  std::int64_t client_id = -1;
  std::int64_t seq = 0;
  /// Every seq below this one is finished for the client (completed or given up), so the
  /// state machine may forget their results (§8; thesis §6.3 "Implementing linearizable
  /// semantics").
  std::int64_t ack_below = 0;
  Command command;
};

struct ClientReply {
  enum class Status { Ok, NotLeader };
  std::int64_t client_id = -1;
  std::int64_t seq = 0;
  Status status = Status::NotLeader;
  NodeId leader_hint = kNoNode;  // with NotLeader: the leader the server believes in, if any
  std::string value;             // get: the value read; cas: the key's value after the op
  bool cas_matched = false;
};

/// Invoked by the leader to send a snapshot to a follower that lags behind the leader's log
/// (extended paper §7, Figure 13). The whole snapshot travels in one message: Figure 13's
/// chunking (`offset`, `done`) is not modelled, every InstallSnapshot is offset 0, done = true
/// (the two fields are counted in the wire size all the same).
struct InstallSnapshot {
  std::uint64_t term = 0;
  NodeId leader_id = kNoNode;
  /// last_included_index, last_included_term and the state machine state ("data[]").
  Snapshot snapshot;
};

struct InstallSnapshotReply {
  std::uint64_t term = 0;  // the follower's current_term, for the leader to update itself
  /// EXTENSION (Figure 13's reply has only the term): the snapshot's last_included_index, so the
  /// leader knows which snapshot is answered (a reordered reply must not move match_index past
  /// what that snapshot covered).
  std::uint64_t last_included_index = 0;
};

// New alternatives go at the end: kind_name() indexes a name table by the variant's index.
using Message = std::variant<RequestVote, RequestVoteReply, AppendEntries, AppendEntriesReply,
                             ClientRequest, ClientReply, InstallSnapshot, InstallSnapshotReply>;

/// Bytes of one entry on the wire or on disk: term, op, ids, and length-prefixed strings.
std::uint64_t entry_size(const LogEntry& entry);
/// Realistic byte size of a message (fixed header + fields + strings + per-entry overhead).
std::uint64_t wire_size(const Message& message);
/// "request_vote", "request_vote_reply", "append_entries" (carrying entries), "heartbeat" (an
/// AppendEntries without entries), "append_entries_reply", "client_request", "client_reply",
/// "install_snapshot", "install_snapshot_reply".
const char* kind_name(const Message& message);

// ---- What a server keeps on stable storage (Figure 2, "Persistent state on all servers").

/// current_term and voted_for change together: a vote is only meaningful with its term.
struct SetTermVote {
  std::uint64_t current_term = 0;
  NodeId voted_for = kNoNode;
};
/// Deletes the entries at from_index and after (a conflict, §5.3).
struct TruncateLog {
  std::uint64_t from_index = 0;
};
/// Writes entries at first_index, first_index + 1, ... Any entries at or after first_index are
/// replaced (the core always emits TruncateLog first; this keeps `apply` total).
struct AppendLog {
  std::uint64_t first_index = 0;
  std::vector<LogEntry> entries;
};
/// Saves a snapshot, replacing the previous one, and discards the log entries it covers (§7).
/// The same op serves a server compacting its own log and a follower installing the leader's
/// snapshot (Figure 13, receiver steps 6-8): if the log holds an entry with the snapshot's last
/// included index and term, the entries following it are retained; otherwise the entire log is
/// discarded.
struct SaveSnapshot {
  Snapshot snapshot;
};
/// Incremental changes only: runs have thousands of entries, a step never re-saves the log.
using PersistOp = std::variant<SetTermVote, TruncateLog, AppendLog, SaveSnapshot>;

/// Bytes a PersistOp writes to disk.
std::uint64_t persist_size(const PersistOp& op);

struct PersistentState {
  std::uint64_t current_term = 0;
  NodeId voted_for = kNoNode;
  /// The latest snapshot (§7); last_included_index 0 when the server never took or installed one.
  Snapshot snapshot;
  /// The entries after the snapshot: log[0] is the entry of index first_index().
  std::vector<LogEntry> log;

  /// Absolute index of log[0]: snapshot.last_included_index + 1.
  std::uint64_t first_index() const { return snapshot.last_included_index + 1; }
  /// Absolute index of the last entry (the snapshot's last included index if the log is empty).
  std::uint64_t last_index() const { return snapshot.last_included_index + log.size(); }
  /// The entry at an absolute index in [first_index(), last_index()].
  const LogEntry& entry(std::uint64_t index) const { return log[index - first_index()]; }

  void apply(const PersistOp& op);
};

}  // namespace faultline::raft
