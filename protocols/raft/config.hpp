// Raft's parameters (`params:` of a raft scenario). Every field: meaning, unit, default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/params.hpp"
#include "common/time.hpp"

namespace faultline::raft {

/// The deliberately broken variants (`params.bugs`). Each is one minimal, commented deviation
/// from the extended paper in node.cpp or kv.cpp; see docs/protocols/raft.md "Broken variants".
enum class Bug {
  NoElectionRestriction,  // votes without the §5.4.1 up-to-date check
  CommitOldTermByCount,   // commits earlier-term entries by counting replicas (Figure 8, §5.4.2)
  ForgetVotedFor,         // voted_for is not persisted (Figure 2, persistent state)
  ReplyBeforeCommit,      // the leader answers a client when it appends, before commit (§8)
  StaleLeaderReads,       // the leader answers gets from its state machine at once (§8)
  NoDedup,                // the state machine ignores client sessions (§8, at-most-once)
};
inline constexpr int kBugCount = 6;

/// The name of each Bug in `params.bugs` ("no_election_restriction", ...), indexed by Bug.
const std::vector<std::string>& bug_names();
const std::string& bug_name(Bug bug);

struct Config {
  /// Election timeout drawn uniformly from this range at every reset (extended paper §5.2).
  DurationRange election_timeout{150 * kMillisecond, 300 * kMillisecond};
  /// Leader heartbeat period: AppendEntries (possibly empty) to every follower (§5.2).
  Duration heartbeat_interval = 50 * kMillisecond;
  /// Upper bound on entries carried by one AppendEntries.
  std::int64_t max_entries_per_append = 64;
  /// Unanswered AppendEntries a leader keeps in flight to one follower whose log is known to
  /// match (pipelining, as etcd raft's MaxInflightMsgs). 1 = one at a time (LogCabin).
  std::int64_t max_inflight_appends = 8;
  /// Log compaction (extended paper §7): a server snapshots its state machine as of
  /// last_applied, and discards the log up to it, when more than this many applied entries are
  /// kept in its log since the last snapshot. 0 (the default) switches compaction off: logs
  /// grow for the whole run and no InstallSnapshot is ever sent.
  std::int64_t snapshot_threshold = 0;
  /// Deliberately broken variants for teaching (the bug zoo, docs/protocols/raft.md "Broken
  /// variants"): names from bug_names(). Empty (the default) for the correct protocol.
  std::vector<std::string> bugs;

  /// Whether the broken variant `bug` is switched on.
  bool has_bug(Bug bug) const;
};

/// The `params:` schema of raft (names, types, defaults, help).
std::vector<ParamSpec> param_schema();
/// Builds the typed Config from validated params (every schema key present).
Config config_from(const ParamValues& params);

}  // namespace faultline::raft
