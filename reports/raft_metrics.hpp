// Raft's run metrics, computed from the run record's events (became_leader, crash, fault ...):
// leader changes, elections, terms, election time after each leader loss, unavailability.
#pragma once

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline::reports {

/// report.json keys: leader_changes, elections, terms, first_leader_ms, election_time_ms,
/// unavailable_ms, commit_index, rpcs, leaders (the timeline of leaders).
nlohmann::json raft_metrics(const RunRecord& record);

}  // namespace faultline::reports
