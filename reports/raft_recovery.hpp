// Recovery from a leader crash as the extended Raft paper's Figure 16 measures it (§9.3): the
// time from the crash of the leader until every surviving server has heard from a new leader
// (received its first AppendEntries). `stop_when: recovered_after_crash == 1` ends an
// experiment trial the moment this is known.
#pragma once

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline::reports {

/// report.json keys:
///   recovered_after_crash  1 once every server up has heard a leader elected after the first
///                          crash of a leader; 0 before (or when no leader ever crashed)
///   recovery_time_ms       that crash -> that moment (null until then)
///   recovery_leader_ms     that crash -> the new leader's election (null until then)
nlohmann::json raft_recovery_metrics(const RunRecord& record);

}  // namespace faultline::reports
