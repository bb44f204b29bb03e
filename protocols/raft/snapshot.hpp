// What a Raft snapshot holds (extended paper §7, "Log compaction"; thesis ch. 5): the state
// machine's whole state as of the last included entry, plus that entry's index and term so the
// AppendEntries consistency check still works for the first entry after the snapshot.
//
// The state machine is the KV store of kv.hpp: its data, and its client sessions (§8). The
// sessions are part of the state machine, not an optimisation: a command that was executed
// before the snapshot and is retried after it must still be recognised as a duplicate, or it
// would be executed twice (thesis §6.3).
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace faultline::raft {

/// The outcome of one executed client command, remembered by its session so that a retry gets
/// the same answer without a second execution (§8).
struct SessionResult {
  std::string value;         // get: the value read; cas: the key's value after the op
  bool cas_matched = false;  // cas: whether `expected` matched (and the swap happened)

  bool operator==(const SessionResult&) const = default;
};

/// One client's at-most-once session (§8; thesis §6.3).
struct ClientSession {
  std::int64_t ack_below = 0;                     // results below this seq are forgotten
  std::map<std::int64_t, SessionResult> results;  // seq -> result, for seqs >= ack_below

  bool operator==(const ClientSession&) const = default;
};

/// The replicated state machine's state (KvStore): everything a replica needs to continue
/// applying the log after the snapshot's last included entry.
struct KvState {
  std::map<std::string, std::string> data;         // absent key == ""
  std::map<std::int64_t, ClientSession> sessions;  // client_id ->

  bool operator==(const KvState&) const = default;
};

/// Figure 12 of the extended paper: "A server replaces the committed entries in its log
/// (indexes 1 through 5) with a new snapshot, which stores just the current state ... The
/// snapshot's last included index and term serve to position the snapshot in the log preceding
/// entry 6." last_included_index 0 means "no snapshot" (the empty state before index 1).
struct Snapshot {
  std::uint64_t last_included_index = 0;
  std::uint64_t last_included_term = 0;
  KvState state;

  bool operator==(const Snapshot&) const = default;
};

/// Bytes of the snapshot on disk or on the wire: its index and term, every key and value
/// (length-prefixed), and the session table (client id, ack_below, each remembered seq with its
/// result). A plausible binary encoding, so that SimGrid charges realistic transfer and disk
/// time for it (DESIGN.md, "Costs that must stay modelled").
std::uint64_t snapshot_size(const Snapshot& snapshot);

}  // namespace faultline::raft
