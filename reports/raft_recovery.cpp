#include "reports/raft_recovery.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>

namespace faultline::reports {

nlohmann::json raft_recovery_metrics(const RunRecord& record) {
  auto is_server = [&](NodeId id) {
    return id != kNoNode && record.nodes.at(static_cast<std::size_t>(id)).kind == NodeKind::Server;
  };
  struct Leader {
    NodeId node = kNoNode;
    std::uint64_t term = 0;
  };
  std::optional<Leader> leader;         // the leader of the highest term seen so far
  std::set<NodeId> up;                  // servers running
  std::optional<Time> crashed_at;       // the first crash of a leader
  std::uint64_t crashed_term = 0;
  std::optional<Time> elected_at;       // a leader of a later term was elected
  std::optional<Time> recovered_at;
  // What each server last heard: (term, leader). A server that moves on to a newer term without
  // hearing its leader no longer counts as having heard the older one.
  std::map<NodeId, std::pair<std::uint64_t, NodeId>> heard;

  auto all_heard = [&] {
    if (!leader || leader->term <= crashed_term) return false;
    for (NodeId id : up) {
      if (id == leader->node) continue;
      auto it = heard.find(id);
      if (it == heard.end() || it->second != std::make_pair(leader->term, leader->node)) return false;
    }
    return true;
  };

  for (const auto& e : record.events) {
    if (recovered_at) break;
    if (!is_server(e.node)) continue;
    const auto term = e.fields.is_object() ? e.fields.value("term", std::uint64_t{0}) : 0;
    if (e.kind == "start" || e.kind == "restart") {
      up.insert(e.node);
    } else if (e.kind == "crash") {
      up.erase(e.node);
      heard.erase(e.node);
      if (!crashed_at && leader && leader->node == e.node) {
        crashed_at = e.time;
        crashed_term = leader->term;
      }
    } else if (e.kind == "became_leader") {
      if (!leader || term > leader->term) leader = Leader{e.node, term};
      if (crashed_at && term > crashed_term && !elected_at) elected_at = e.time;
    } else if (e.kind == "leader_heard") {
      heard[e.node] = {term, e.fields.value("leader", kNoNode)};
    } else if (e.kind == "became_candidate") {
      heard.erase(e.node);
    }
    if (crashed_at && (e.kind == "leader_heard" || e.kind == "became_leader" || e.kind == "crash") &&
        all_heard())
      recovered_at = e.time;
  }

  auto ms_since_crash = [&](const std::optional<Time>& t) {
    return t ? nlohmann::json(to_ms(*t - *crashed_at)) : nlohmann::json(nullptr);
  };
  return {{"recovered_after_crash", recovered_at ? 1 : 0},
          {"recovery_time_ms", ms_since_crash(recovered_at)},
          {"recovery_leader_ms", ms_since_crash(elected_at)}};
}

}  // namespace faultline::reports
