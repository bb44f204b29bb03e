#include "protocols/raft/config.hpp"

namespace faultline::raft {

std::vector<ParamSpec> param_schema() {
  std::vector<ParamSpec> schema;
  schema.push_back(ParamSpec{"election_timeout", ParamType::DurationRange, "[150ms, 300ms]",
                             "election timeout, drawn uniformly from the range at every reset (§5.2)",
                             1.0, std::nullopt, {}});
  schema.push_back(ParamSpec{"heartbeat_interval", ParamType::Duration, "50ms",
                             "period of the leader's AppendEntries heartbeats (§5.2)", 1.0,
                             std::nullopt, {}});
  schema.push_back(ParamSpec{"max_entries_per_append", ParamType::Integer, "64",
                             "most log entries carried by one AppendEntries", 1.0, std::nullopt, {}});
  schema.push_back(ParamSpec{"max_inflight_appends", ParamType::Integer, "8",
                             "most unanswered AppendEntries a leader pipelines to one follower "
                             "(1 = one at a time)",
                             1.0, std::nullopt, {}});
  return schema;
}

Config config_from(const ParamValues& params) {
  Config config;
  config.election_timeout = params.range("election_timeout");
  config.heartbeat_interval = params.duration("heartbeat_interval");
  config.max_entries_per_append = params.integer("max_entries_per_append");
  config.max_inflight_appends = params.integer("max_inflight_appends");
  return config;
}

}  // namespace faultline::raft
