// Cluster-wide safety checks for Raft (extended paper, Figure 3), run continuously: the adapter
// calls observe() after every step, tick, control and restart of a server. Breaches are
// recorded as results, never asserted (DESIGN.md: "Protocol invariant breaches are reported,
// never asserted"), one record per distinct breach.
//
// Checks (names as in report.json):
//   election_safety       at most one leader per term (§5.2)           one record per term
//   log_matching          same (index, term) => same command and same preceding term (§5.3)
//                                                                      one record per term
//   leader_completeness   a new leader holds every entry committed in earlier terms (§5.4)
//                                                                      one record per election
//   state_machine_safety  no two servers commit or apply different entries at one index
//                         (§5.4.3)                          one record per pair of entry terms
//   no_lost_write         (end of run) every acknowledged write is in the state machine
//                                                                      one record per client
//
// Everything is incremental: the monitor learns new log entries from how far it has already
// looked at each server's log (lowered by the core's "log_truncated" events, by a snapshot
// install that discards the log, and by crashes), new commits from commit_index, applies from
// "applied" events. Memory grows with the number of distinct entries of the run, not with the
// number of steps.
//
// Log compaction (§7): indices are absolute, and entries a snapshot has discarded are never
// read again (they are committed, and were checked while they were in the logs). A snapshot's
// last included entry is compared with the entry committed at its index; the end-of-run check
// counts a write as present on a server whose snapshot covers the index it was applied at.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "common/effects.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"
#include "protocols/raft/client.hpp"
#include "protocols/raft/messages.hpp"
#include "protocols/raft/node.hpp"

namespace faultline::raft {

struct Violation {
  Time time = 0;
  std::vector<NodeId> nodes;
  std::string check;
  std::string detail;
  std::uint64_t term = 0;
  std::uint64_t index = 0;
};

class SafetyMonitor {
 public:
  /// Names for violation details ("n1" rather than "node 0"), indexed by NodeId. Optional.
  void set_node_names(std::vector<std::string> names) { names_ = std::move(names); }
  /// After every step/tick/control/restart of server `node`, with the events that call emitted.
  void observe(const Node& node, const std::vector<TraceEvent>& events, Time now);
  /// The server lost its volatile state; its log is re-read from scratch when it restarts.
  void on_crash(NodeId node, Time now);
  /// End of run: every acknowledged write must be in a majority of the servers' persisted states
  /// (`logs`: every server's stable storage, crashed or not: its log, or the snapshot that
  /// replaced a prefix of it), i.e. part of the final state.
  void check_no_lost_writes(const std::vector<AckedWrite>& acked,
                            const std::vector<const PersistentState*>& logs, Time now);

  const std::vector<Violation>& violations() const { return violations_; }

 private:
  std::string node_name(NodeId id) const;
  std::vector<std::string> names_;
  struct EntryRecord {  // the first time an (index, term) was seen in any log
    Command command;
    std::uint64_t prev_term = 0;
    NodeId holder = kNoNode;
  };
  struct CommitRecord {
    std::uint64_t term = 0;         // the entry's term
    std::uint64_t commit_term = 0;  // current_term of the server that first reported it committed
    NodeId reporter = kNoNode;
  };
  struct ApplyRecord {
    std::uint64_t term = 0;
    std::string fingerprint;  // the entry's term and whole command
    NodeId node = kNoNode;
    std::int64_t client_id = -1;  // the command's session: which write a snapshot covering this
    std::int64_t seq = 0;         // index contains (no_lost_write)
  };
  struct PerNode {
    std::uint64_t log_seen = 0;     // entries up to log_seen (absolute) are recorded in entries_
    std::uint64_t commit_seen = 0;  // commit_index at the last observation
  };

  void record_log(const Node& node, PerNode& seen, Time now);
  void record_commits(const Node& node, PerNode& seen, Time now);
  void check_leader(const Node& node, std::uint64_t term, Time now);
  void check_applied(const Node& node, const nlohmann::json& fields, Time now);
  /// A "snapshot" or "snapshot_installed" event: its last included entry must be the committed one.
  void check_snapshot(const Node& node, const nlohmann::json& fields, Time now);
  /// What makes two records "the same breach". A run of conflicting entries between the same
  /// two terms (a broken variant overwrote a committed suffix) is one breach, not one per index.
  using BreachKey = std::tuple<std::string, std::uint64_t, std::uint64_t, std::int64_t>;
  /// Records a violation unless its key was recorded before.
  void report(Time now, std::vector<NodeId> nodes, const std::string& check, std::string detail,
              std::uint64_t term, std::uint64_t index, const BreachKey& key);

  std::map<NodeId, PerNode> nodes_;
  std::map<std::uint64_t, NodeId> leaders_;  // term -> the first leader seen in it
  std::map<std::pair<std::uint64_t, std::uint64_t>, EntryRecord> entries_;  // (index, term)
  std::map<std::uint64_t, CommitRecord> committed_;                         // index ->
  std::map<std::uint64_t, ApplyRecord> applied_;                            // index ->
  std::set<BreachKey> reported_;
  std::vector<Violation> violations_;
};

}  // namespace faultline::raft
