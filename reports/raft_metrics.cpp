#include "reports/raft_metrics.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "reports/raft_lab_metrics.hpp"
#include "reports/raft_recovery.hpp"
#include "reports/raft_snapshot_metrics.hpp"  // log compaction (issue 4 part 6)
#include "reports/stats.hpp"

namespace faultline::reports {

nlohmann::json raft_metrics(const RunRecord& record) {
  std::size_t servers = 0;
  for (const auto& n : record.nodes)
    if (n.kind == NodeKind::Server) ++servers;
  auto is_server = [&](const std::string& name) {
    for (const auto& n : record.nodes)
      if (n.name == name) return n.kind == NodeKind::Server;
    return false;
  };

  struct Leader {
    std::string node;
    std::uint64_t term = 0;
  };
  std::optional<Leader> leader;
  bool lost = false;  // the current leader was lost at `lost_at`, no successor known yet
  Time lost_at = 0;
  std::optional<Time> first_leader;
  std::vector<double> election_ms;
  Time unavailable = 0;
  nlohmann::json windows = nlohmann::json::array();  // [start_s, end_s] without a usable leader
  auto window = [&](Time from, Time to) {
    unavailable += to - from;
    windows.push_back({to_seconds(from), to_seconds(to)});
  };
  std::int64_t elections = 0;
  std::uint64_t max_term = 0, commit_index = 0;
  std::int64_t truncations = 0, entries_truncated = 0, commits_deferred = 0;
  nlohmann::json leaders = nlohmann::json::array();

  std::set<std::string> down;  // servers crashed and not yet restarted
  auto lose = [&](Time t) {
    if (leader && !lost) {
      lost = true;
      lost_at = t;
    }
  };

  for (const auto& e : record.events) {
    if (e.fields.is_object()) {
      if (auto it = e.fields.find("term"); it != e.fields.end() && it->is_number_integer() && *it >= 0)
        max_term = std::max(max_term, it->get<std::uint64_t>());
    }
    const std::string node = e.node == kNoNode ? "" : record.name(e.node);
    if (e.kind == "became_leader") {
      const auto term = e.fields.value("term", std::uint64_t{0});
      if (leader && term <= leader->term) continue;
      ++elections;
      if (!first_leader) {
        first_leader = e.time;
      } else if (lost) {
        election_ms.push_back(to_ms(e.time - lost_at));
        window(lost_at, e.time);
      }
      lost = false;
      leader = Leader{node, term};
      leaders.push_back({{"time_s", to_seconds(e.time)}, {"node", node}, {"term", term}});
    } else if (e.kind == "commit_deferred") {
      ++commits_deferred;
    } else if (e.kind == "log_truncated") {
      ++truncations;
      entries_truncated += static_cast<std::int64_t>(e.fields.value("last_log_index", std::uint64_t{0})) -
                           static_cast<std::int64_t>(e.fields.value("from_index", std::uint64_t{0})) + 1;
    } else if (e.kind == "committed") {
      commit_index = std::max(commit_index, e.fields.value("index", std::uint64_t{0}));
      if (lost && leader && node == leader->node) {
        // The same leader committed again (a minority partition healed before anyone else was
        // elected): it was unavailable meanwhile, but no election happened.
        window(lost_at, e.time);
        lost = false;
      }
    } else if (leader && node == leader->node &&
               (e.kind == "crash" || e.kind == "became_follower" || e.kind == "stepped_down")) {
      if (e.kind == "crash") down.insert(node);
      lose(e.time);
    } else if (e.kind == "crash" && is_server(node)) {
      // Crashes of followers: the leader cannot commit once fewer than a majority are up.
      down.insert(node);
      if (2 * (servers - down.size()) <= servers) lose(e.time);
    } else if (e.kind == "restart") {
      down.erase(node);
    } else if (leader && e.kind == "fault") {
      const std::string fault = e.fields.value("fault", "");
      const auto& target = e.fields["target"];
      auto targets_leader = [&] {
        if (!target.is_array()) return false;
        return std::find(target.begin(), target.end(), leader->node) != target.end();
      };
      if (fault == "isolate" && targets_leader()) lose(e.time);
      if (fault == "partition" && e.fields.contains("groups")) {
        // The leader is lost when its side of the partition lacks a majority of servers.
        for (const auto& group : e.fields["groups"]) {
          if (std::find(group.begin(), group.end(), leader->node) == group.end()) continue;
          std::size_t side = 0;
          for (const auto& n : group)
            if (is_server(n.get<std::string>()) && !down.count(n.get<std::string>())) ++side;
          if (2 * side <= servers) lose(e.time);
        }
      }
    }
  }
  if (lost) window(lost_at, std::max(lost_at, record.end_time));
  window(0, first_leader ? *first_leader : record.end_time);
  std::sort(windows.begin(), windows.end());

  nlohmann::json rpcs = nlohmann::json::object();
  for (const auto& [kind, n] : record.messages_sent) rpcs[kind] = n;
  for (const char* k : {"request_vote", "append_entries", "heartbeat", "client_request"})
    if (!rpcs.contains(k)) rpcs[k] = 0;

  nlohmann::json metrics = {{"leader_changes", std::max<std::int64_t>(0, elections - 1)},
          {"elections", elections},
          {"terms", max_term},
          {"first_leader_ms", first_leader ? nlohmann::json(to_ms(*first_leader)) : nlohmann::json(nullptr)},
          {"election_time_ms", to_json(summarize(election_ms))},
          {"unavailable_ms", to_ms(unavailable)},
          {"unavailable_windows", windows},
          {"commit_index", commit_index},
          {"leader_at_end", leader && !lost ? 1 : 0},
          {"log_truncations", truncations},
          {"commits_deferred", commits_deferred},
          {"entries_truncated", entries_truncated},
          {"rpcs", rpcs},
          {"leaders", leaders}};
  metrics.update(raft_recovery_metrics(record));
  add_raft_lab_metrics(record, metrics);  // rpcs.total, RPC rates, agreement (6.824 labs)
  add_raft_snapshot_metrics(record, metrics);  // snapshots, log_entries_max (§7)
  return metrics;
}

}  // namespace faultline::reports
