#include "cli/registry.hpp"

#include <algorithm>

#include "protocols/mapreduce/config.hpp"
#include "protocols/mapreduce/messages.hpp"
#include "protocols/raft/config.hpp"

namespace faultline {
namespace {

const char* const kStatKeys[] = {"mean", "p50", "p90", "p99", "p999", "max", "min"};

/// MapReduce: metrics from reports/mapreduce_metrics.hpp (events of the coordinator and worker
/// cores, protocols/mapreduce/coordinator.hpp and worker.hpp).
ProtocolInfo mapreduce_info() {
  ProtocolInfo p;
  p.name = "mapreduce";
  p.summary = "MapReduce (Dean & Ghemawat, OSDI 2004): re-execution, locality, backup tasks";
  p.implemented = true;
  p.params = mapreduce::param_schema();
  p.roles = {"coordinator", "worker"};
  p.checks = {
      {"mapreduce.output",
       "real mode: every reduce output file equals the sequential single-process run of the "
       "same functions byte for byte (§2, §3.3 semantics)",
       true},
      {"mapreduce.commit",
       "every reduce task committed exactly once through an atomic rename; no partial or "
       "duplicate output visible (§3.3)",
       true},
  };
  p.default_checks = {"mapreduce.output", "mapreduce.commit"};
  p.metrics = {
      {"job_done", "1 when the job completed (every reduce output committed), else 0", false},
      {"job_failed", "1 when the job was abandoned (e.g. the coordinator crashed, §3.3), else 0",
       false},
      {"job_time_s",
       "job start to completion, start-up included (§5: 891 s for the sort); no value unless "
       "job_done",
       false},
      {"tasks", "M + R, the map and reduce tasks of the job", false},
      {"maps", "M, the map tasks (one per input split)", false},
      {"reduces", "R, the reduce tasks", false},
      {"attempts", "task executions started (assignments, backups included)", false},
      {"reexecuted",
       "executions started because an earlier one was lost or its output reset: assignments "
       "that are neither the first of their task nor a backup (§3.3)",
       false},
      {"backup_tasks", "backup executions launched near the end of a phase (§3.6)", false},
      {"backups_won", "tasks whose accepted completion came from a backup execution", false},
      {"wasted_work_pct",
       "percent of task-seconds spent in executions that ended without being kept: duplicate, "
       "aborted, lost, reset or orphaned (running ones count in the total only)",
       false},
      {"maps_local", "maps whose kept execution read its split from the worker's own disk (§3.4)",
       false},
      {"maps_rack", "maps whose kept execution read its split from the same rack (§3.4)", false},
      {"maps_remote", "maps whose kept execution read its split from another rack", false},
      {"map_assignments_local", "map executions started on a worker holding a replica", false},
      {"map_assignments_rack", "map executions started in the rack of a replica", false},
      {"map_assignments_remote", "map executions started away from every replica's rack", false},
      {"input_bytes_local", "input bytes read from the map worker's own disk", false},
      {"input_bytes_remote", "input bytes read over the network from a replica holder", false},
      {"input_mb", "input read by map executions, MB (10^6 bytes)", false},
      {"shuffle_mb", "intermediate data moved to reducers, MB", false},
      {"output_mb", "output written, replicas included, MB", false},
      {"input_peak_mb_s", "highest input rate over 1 s intervals, MB/s (Figures 2 and 3)", false},
      {"shuffle_peak_mb_s", "highest shuffle rate over 1 s intervals, MB/s (Figure 3)", false},
      {"output_peak_mb_s", "highest output rate over 1 s intervals, MB/s (Figure 3)", false},
      {"maps_done_s", "time of the last map completion accepted (no map completes after it)",
       false},
      {"shuffle_done_s", "end of the last shuffle transfer", false},
      {"output_done_s", "end of the last output write", false},
      {"map_backup_phase_s", "time the first map backup was launched (§3.6)", false},
      {"reduce_backup_phase_s", "time the first reduce backup was launched (§3.6)", false},
      {"workers_dead", "workers the coordinator declared dead (no ping answer, §3.3)", false},
      {"crashes_self", "workers crashed by the 6.824 crash test (crash_test_crash_p)", false},
      {"calls_delayed", "map/reduce calls delayed by the 6.824 crash test", false},
      {"duplicate_completions",
       "completions of a task already completed by another execution (ignored, §3.3)", false},
      {"outputs_committed", "final reduce output files at the end of the run", false},
      {"temporaries_left", "temporary output files left at the end of the run", false},
      {"duplicate_renames",
       "renames onto an already committed output file (atomic rename keeps one, §3.3)", false},
      {"map_time_s", "duration of map executions whose completion was accepted, s", true},
      {"reduce_time_s", "duration of reduce executions whose completion was accepted, s", true},
  };
  for (const auto& kind : mapreduce::kind_names())
    p.metrics.push_back({"rpcs." + kind, kind + " messages sent", false});
  p.message_kinds = mapreduce::kind_names();
  return p;
}

std::vector<ProtocolInfo> build_protocols() {
  std::vector<ProtocolInfo> all;

  ProtocolInfo raft;
  raft.name = "raft";
  raft.summary = "Raft consensus (Ongaro & Ousterhout, extended paper) with a linearizable KV store";
  raft.implemented = true;
  raft.params = raft::param_schema();
  raft.roles = {"leader", "follower", "candidate"};
  raft.checks = {
      {"raft.safety",
       "election safety, log matching, leader completeness and state machine safety after every "
       "event, and no acknowledged write lost at the end (extended paper Figure 3)",
       true},
      {"linearizable",
       "linearizability of the client history against the kv model (Wing & Gong search with "
       "Lowe's memoization, per key), within `checks_budget` (default 10 s; past it: unknown)",
       true},
  };
  raft.default_checks = {"raft.safety", "linearizable"};
  raft.metrics = {
      {"leader_changes", "times a new leader was elected after the first", false},
      {"terms", "highest term reached", false},
      {"elections", "elections won (leaders elected, the first one included)", false},
      {"election_time_ms",
       "time from losing the leader (crash, isolation, minority partition, step-down) to the next "
       "leader",
       true},
      {"first_leader_ms", "time until the first leader was elected", false},
      {"recovered_after_crash",
       "1 once every server up has heard a new leader after the first crash of a leader (the "
       "extended paper's Figure 16 measure), else 0",
       false},
      {"recovery_time_ms",
       "first crash of a leader -> every server up has received the new leader's first "
       "AppendEntries (Figure 16)",
       false},
      {"recovery_leader_ms", "first crash of a leader -> the next leader is elected", false},
      {"unavailable_ms", "total time without a leader able to commit", false},
      {"rpcs.request_vote", "RequestVote messages sent", false},
      {"rpcs.append_entries", "AppendEntries messages sent that carry log entries", false},
      {"rpcs.heartbeat", "AppendEntries messages sent without entries (heartbeats, probes)", false},
      {"rpcs.client_request", "client requests sent", false},
      {"rpcs.request_vote_reply", "RequestVote replies sent", false},
      {"rpcs.append_entries_reply", "AppendEntries replies sent", false},
      {"rpcs.client_reply", "client replies sent", false},
      {"commit_index", "highest commit index reached", false},
      {"leader_at_end", "1 when a leader (not since lost) exists at the end of the run", false},
      {"log_truncations", "times a follower deleted conflicting uncommitted entries (§5.3)", false},
      {"entries_truncated", "log entries deleted by those truncations", false},
      {"commits_deferred",
       "times a leader saw an earlier-term entry on a majority and did not commit it by counting "
       "(the Figure 8 rule, §5.4.2)",
       false},
      // RPC counts and rates, agreement across servers (reports/raft_lab_metrics.hpp; the
      // 6.824 lab checks in scenarios/raft/labs/).
      {"rpcs.total",
       "server-to-server messages sent: every kind but client_request and client_reply", false},
      {"rpcs_to_first_leader",
       "rpcs.total sent until the first leader was elected (to the end of its 10 ms interval)",
       false},
      {"rpcs_per_s_max",
       "most rpcs.total sent in any 1 s window after the first leader's election", false},
      {"idle_rpcs_per_s_max",
       "most rpcs.total sent in any idle 1 s window after the first leader's election: no client "
       "message sent and no fault fired in it",
       false},
      {"commit_index_min", "lowest commit index among the servers up at the end of the run",
       false},
      {"commit_after_heal_ms",
       "for each heal (or nemesis end): time until the highest commit index advances again",
       true},
      // Log compaction (extended paper §7; reports/raft_snapshot_metrics.hpp).
      {"snapshots", "snapshots taken by servers compacting their own log (§7)", false},
      {"snapshots_installed",
       "snapshots a follower installed from the leader (InstallSnapshot, Figure 13)", false},
      {"snapshot_bytes_max", "largest snapshot taken or installed, in bytes", false},
      {"log_entries_max",
       "most log entries any server held on stable storage after any step of the run (bounded by "
       "compaction, params.snapshot_threshold)",
       false},
      {"log_entries_at_end_max", "most log entries any server holds on stable storage at the end",
       false},
      {"rpcs.install_snapshot", "InstallSnapshot messages sent (§7)", false},
      {"rpcs.install_snapshot_reply", "InstallSnapshot replies sent", false},
  };
  raft.workload_ops = {"get", "put", "append", "cas"};
  raft.message_kinds = {"request_vote",         "request_vote_reply", "append_entries", "heartbeat",
                        "append_entries_reply", "client_request",     "client_reply",
                        "install_snapshot",     "install_snapshot_reply"};
  all.push_back(raft);

  for (const auto& [name, summary] : std::vector<std::pair<std::string, std::string>>{
           {"chain", "chain replication (van Renesse & Schneider, OSDI 2004)"},
           {"primary-backup", "primary/backup replication"},
           {"craq", "CRAQ (Terrace & Freedman, ATC 2009)"},
           {"gfs", "the Google File System (SOSP 2003)"},
           {"mapreduce", ""},
           {"vmft", "VMware fault-tolerant virtual machines (2010)"}}) {
    if (name == "mapreduce") {
      all.push_back(mapreduce_info());
      continue;
    }
    ProtocolInfo p;
    p.name = name;
    p.summary = summary + " (not implemented yet)";
    all.push_back(p);
  }
  return all;
}

}  // namespace

const std::vector<ProtocolInfo>& protocols() {
  static const std::vector<ProtocolInfo> all = build_protocols();
  return all;
}

const ProtocolInfo* find_protocol(std::string_view name) {
  for (const auto& p : protocols())
    if (p.name == name) return &p;
  return nullptr;
}

const std::vector<MetricSpec>& common_metrics() {
  static const std::vector<MetricSpec> metrics = {
      {"violations", "distinct violation records from all checks", false},
      {"faults_without_target", "faults whose target matched nobody when they fired", false},
      {"sim_time_s", "simulated time at the end of the run", false},
      {"events", "events recorded in events.jsonl", false},
      {"ops_ok", "client operations completed ok", false},
      {"ops_failed", "client operations that certainly did not happen", false},
      {"ops_info", "client operations with unknown outcome (timed out)", false},
      {"throughput_ops_s", "ok operations per simulated second of client activity", false},
      {"latency_ms", "latency of ok operations, nearest-rank percentiles", true},
      {"final_phase.ops_ok", "ok operations completed after the last fault instant", false},
      {"final_phase.ops_info", "operations with unknown outcome in the last phase", false},
      {"final_phase.throughput_ops_s", "throughput in the last phase", false},
      {"final_phase.latency_ms", "latency of ok operations in the last phase", true},
  };
  return metrics;
}

std::vector<std::string> metric_paths(const ProtocolInfo& protocol) {
  std::vector<std::string> paths;
  auto add = [&](const MetricSpec& m) {
    if (!m.stats) {
      paths.push_back(m.path);
      return;
    }
    for (const char* key : kStatKeys) paths.push_back(m.path + "." + key);
  };
  for (const auto& m : common_metrics()) add(m);
  for (const auto& m : protocol.metrics) add(m);
  return paths;
}

bool is_known_metric(const ProtocolInfo& protocol, std::string_view path) {
  const auto paths = metric_paths(protocol);
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

}  // namespace faultline
