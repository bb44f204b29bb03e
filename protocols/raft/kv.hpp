// The replicated state machine: a string key-value store with get/put/append/cas, executing each
// client command at most once (extended paper §8: "The state machine tracks the latest serial
// number processed for each client, along with the associated response. If it receives a command
// whose serial number has already been executed, it responds immediately without re-executing
// the request.").
//
// Clients may have several operations outstanding (open-loop workloads), so a session remembers
// the results of every applied seq at or above the client's `ack_below` (thesis §6.3), not only
// the last one. Everything here is a deterministic function of the sequence of applied commands,
// so all replicas agree.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "protocols/raft/messages.hpp"
#include "protocols/raft/snapshot.hpp"

namespace faultline::raft {

class KvStore {
 public:
  /// value (get: the value read; cas: the key's value after the op) and cas_matched.
  using Result = SessionResult;

  /// What apply() did with a command.
  enum class Outcome {
    Executed,   // first time: the command changed (or read) the state
    Duplicate,  // (client_id, seq) already executed: the remembered result, nothing re-executed
    Stale,      // seq below the session's ack_below and not remembered: the client has moved on
                // and does not wait for it; not executed (it completed or was given up earlier)
  };

  /// `ignore_sessions`: the no_dedup teaching variant (Config::bugs), see apply(). False for
  /// the correct state machine.
  explicit KvStore(bool ignore_sessions = false) : ignore_sessions_(ignore_sessions) {}

  // ---- Plain operations (keys start as "": an absent key reads as the empty string).
  std::string get(const std::string& key) const;
  void put(const std::string& key, std::string value);
  void append(const std::string& key, const std::string& suffix);
  /// Sets key to `value` if it currently holds `expected`; returns whether it did.
  bool cas(const std::string& key, const std::string& expected, std::string value);

  /// Applies a committed command with at-most-once semantics per (client_id, seq). Commands with
  /// client_id < 0 (the leader's Noop) bypass sessions.
  Result apply(const Command& command, Outcome* outcome = nullptr);

  /// The result `command` would have if it were executed now, without executing it (get: the
  /// value now; cas: whether it would match, and the value after). For the teaching variants
  /// that answer clients from the leader's current state (stale_leader_reads,
  /// reply_before_commit).
  Result preview(const Command& command) const;

  /// The remembered result of an executed (client_id, seq), if the session still holds it.
  const Result* remembered(std::int64_t client_id, std::int64_t seq) const;
  /// True when apply() would drop this (client_id, seq) as Stale.
  bool stale(std::int64_t client_id, std::int64_t seq) const;
  /// True when this store executed the write (put, append or cas) (client_id, seq) itself; a
  /// test aid. Never forgotten (unlike session results), and not part of the state: writes that
  /// arrived inside a restored snapshot are not listed (the monitor's end-of-run check judges
  /// snapshots by the indices they cover).
  bool applied(std::int64_t client_id, std::int64_t seq) const;

  const std::map<std::string, std::string>& data() const { return state_.data; }
  /// The whole state machine state (data and sessions): what a snapshot saves (§7).
  const KvState& state() const { return state_; }
  /// Replaces the state with a snapshot's (§7, Figure 13 step 9: "Reset state machine using
  /// snapshot contents").
  void restore(const KvState& state) { state_ = state; }
  /// Commands executed by this store (duplicates and stale ones excluded; Noops included).
  std::uint64_t executed() const { return executed_; }

 private:
  Result execute(const Command& command);

  bool ignore_sessions_ = false;
  KvState state_;  // data (absent key == "") and client_id -> session
  std::set<std::pair<std::int64_t, std::int64_t>> applied_writes_;  // (client_id, seq)
  std::uint64_t executed_ = 0;
};

}  // namespace faultline::raft
