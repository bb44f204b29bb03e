// Raft log compaction metrics (extended paper §7), from the run record's events: snapshots
// taken and installed, and how many log entries the servers kept on stable storage.
#pragma once

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline::reports {

/// Adds to `metrics`: snapshots (taken by servers compacting their own log), snapshots_installed
/// (InstallSnapshot accepted by a follower), snapshot_bytes_max (largest snapshot taken or
/// installed), log_entries_max (the most log entries any server held on stable storage after
/// any step of the run) and log_entries_at_end_max (the most any server holds at the end).
void add_raft_snapshot_metrics(const RunRecord& record, nlohmann::json& metrics);

}  // namespace faultline::reports
