// Client operations reconstructed from the history (an invocation and its completion), their
// counts and latencies, overall and per phase (the intervals between fault instants).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/history.hpp"
#include "common/run_record.hpp"
#include "reports/stats.hpp"

namespace faultline::reports {

struct Operation {
  std::int64_t process = 0;
  std::string f;
  Time invoke = 0;
  std::optional<Time> complete;  // absent: never completed (counts as info)
  OpType outcome = OpType::Info;
  NodeId client = kNoNode;         // the client node that issued it
  std::optional<std::string> key;  // kv model
};

std::vector<Operation> pair_operations(const std::vector<HistoryEntry>& history);

struct Phase {
  std::string name;
  Time start = 0;
  Time end = 0;
};

/// Phases of a run: before the first fault, then after each distinct fault instant.
std::vector<Phase> phases_of(const RunRecord& record);

/// ops_ok, ops_failed, ops_info, throughput_ops_s, latency_ms and `phases` as report.json keys.
nlohmann::json operation_metrics(const std::vector<Operation>& ops, const std::vector<Phase>& phases);

}  // namespace faultline::reports
