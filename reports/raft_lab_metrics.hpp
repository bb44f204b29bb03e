// RPC counts and rates, and agreement across servers: the quantities the MIT 6.824 Raft lab tests
// check (scenarios/raft/labs/README.md). Computed from the run record's per-kind send buckets
// (RunRecord::messages_sent_per_bucket) and from events.jsonl.
#pragma once

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline::reports {

/// Adds these keys to `metrics`, the Raft metrics object (whose `rpcs` object must exist):
///   rpcs.total            server-to-server messages sent: every kind but client_request and
///                         client_reply (requests and replies count separately)
///   rpcs_to_first_leader  rpcs.total sent up to the end of the 10 ms bucket in which the first
///                         leader was elected (null without a leader)
///   rpcs_per_s_max        most rpcs.total sent in any 1 s window that starts after the first
///                         leader's election and ends before the run does (windows slide by
///                         10 ms; null when there is none)
///   idle_rpcs_per_s_max   the same over idle windows only: no client message sent and no fault
///                         fired in the window (null when there is none)
///   commit_index_min      lowest commit_index among the servers up at the end (null if none is)
///   commit_after_heal_ms  stats: for each heal (and nemesis end), the time until the highest
///                         commit_index of any server next advances (no sample if it never does)
void add_raft_lab_metrics(const RunRecord& record, nlohmann::json& metrics);

}  // namespace faultline::reports
