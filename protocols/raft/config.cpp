#include "protocols/raft/config.hpp"

#include <algorithm>

namespace faultline::raft {

const std::vector<std::string>& bug_names() {
  static const std::vector<std::string> names = {
      "no_election_restriction", "commit_old_term_by_count", "forget_voted_for",
      "reply_before_commit",     "stale_leader_reads",       "no_dedup"};
  return names;
}

const std::string& bug_name(Bug bug) { return bug_names().at(static_cast<std::size_t>(bug)); }

bool Config::has_bug(Bug bug) const {
  return std::find(bugs.begin(), bugs.end(), bug_name(bug)) != bugs.end();
}

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
  schema.push_back(ParamSpec{"snapshot_threshold", ParamType::Integer, "0",
                             "log compaction (§7): a server snapshots its state machine and "
                             "discards its log up to last_applied when more than this many "
                             "applied entries are kept since its last snapshot; 0 = off",
                             0.0, std::nullopt, {}});
  std::string bug_help =
      "deliberately broken variants for teaching (docs/protocols/raft.md, \"Broken variants\"), "
      "any of: ";
  for (const auto& name : bug_names()) {
    bug_help += (&name == &bug_names().front() ? "" : ", ") + name;
  }
  schema.push_back(ParamSpec{"bugs", ParamType::StringList, "[]", std::move(bug_help), std::nullopt,
                             std::nullopt, bug_names()});
  return schema;
}

Config config_from(const ParamValues& params) {
  Config config;
  config.election_timeout = params.range("election_timeout");
  config.heartbeat_interval = params.duration("heartbeat_interval");
  config.max_entries_per_append = params.integer("max_entries_per_append");
  config.max_inflight_appends = params.integer("max_inflight_appends");
  config.snapshot_threshold = params.integer("snapshot_threshold");
  config.bugs = params.list("bugs");
  return config;
}

}  // namespace faultline::raft
