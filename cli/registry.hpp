// What faultline knows about each protocol: its params schema, roles, checks and metrics.
// `faultline list` and `explain` print it; the scenario loader validates against it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/params.hpp"

namespace faultline {

struct MetricSpec {
  std::string path;  // dotted report.json path, e.g. "leader_changes" or "latency_ms"
  std::string help;
  bool stats = false;  // a statistics object: path.mean, .p50, .p90, .p99, .p999, .max (and .min)
};

struct CheckSpec {
  std::string name;  // e.g. "raft.safety"
  std::string help;
  bool available = true;  // false: reserved name, not implemented yet (rejected with a message)
};

struct ProtocolInfo {
  std::string name;
  std::string summary;
  bool implemented = false;
  std::vector<ParamSpec> params;
  std::vector<std::string> roles;  // protocol roles, beyond random, random-N, crashed, all
  std::vector<CheckSpec> checks;
  std::vector<std::string> default_checks;
  std::vector<MetricSpec> metrics;  // protocol metrics, beyond common_metrics()
  std::vector<std::string> workload_ops;  // operations allowed in workload.mix
  std::vector<std::string> message_kinds;  // names for network `kinds:` and `rpcs.<kind>`
};

const std::vector<ProtocolInfo>& protocols();
const ProtocolInfo* find_protocol(std::string_view name);
/// Metrics every run with client operations reports (ops_ok, latency_ms, violations, ...).
const std::vector<MetricSpec>& common_metrics();
/// True when `path` names a metric of `protocol` (stats objects accept .mean/.p50/...).
bool is_known_metric(const ProtocolInfo& protocol, std::string_view path);
/// Every metric path of the protocol, stats expanded (for did-you-mean suggestions).
std::vector<std::string> metric_paths(const ProtocolInfo& protocol);

}  // namespace faultline
