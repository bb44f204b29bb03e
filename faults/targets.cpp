#include "faults/targets.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <utility>

namespace faultline::faults {
namespace {

void add_unique(std::vector<NodeId>& out, NodeId id) {
  if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
}

/// Picks `n` distinct entries of `pool` (pool order is deterministic; draws come from `rng`).
std::vector<NodeId> pick(std::vector<NodeId> pool, std::size_t n, Rng& rng) {
  std::vector<NodeId> chosen;
  while (!pool.empty() && chosen.size() < n) {
    const auto i = static_cast<std::size_t>(rng.below(pool.size()));
    chosen.push_back(pool[i]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(i));
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

/// "worker-200" -> ("worker", 200); nullopt unless `item` is a word, '-' and digits.
std::optional<std::pair<std::string, std::size_t>> role_count(const std::string& item) {
  const auto dash = item.rfind('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == item.size()) return std::nullopt;
  std::size_t n = 0;
  const char* first = item.data() + dash + 1;
  const char* last = item.data() + item.size();
  auto [ptr, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || ptr != last) return std::nullopt;
  return std::make_pair(item.substr(0, dash), n);
}

}  // namespace

std::vector<NodeId> resolve(const TargetSpec& target, sim::World& world, Rng& rng) {
  std::vector<NodeId> out;
  std::vector<NodeId> up_servers;
  for (NodeId id : world.servers())
    if (world.node(id).up()) up_servers.push_back(id);

  for (const std::string& item : target.items) {
    if (item == "all") {
      for (NodeId id : world.servers()) add_unique(out, id);
    } else if (item == "crashed") {
      for (NodeId id : world.servers())
        if (!world.node(id).up()) add_unique(out, id);
    } else if (item == "random") {
      for (NodeId id : pick(up_servers, 1, rng)) add_unique(out, id);
    } else if (item.rfind("random-", 0) == 0) {
      std::size_t n = 0;
      std::from_chars(item.data() + 7, item.data() + item.size(), n);
      for (NodeId id : pick(up_servers, n, rng)) add_unique(out, id);
    } else {
      if (auto id = world.find(item); id != kNoNode) {
        add_unique(out, id);  // a node name, up or not (`restart: n3` targets a crashed n3)
        continue;
      }
      // `<role>-N`: N distinct up servers with that role, drawn like random-N (the paper's
      // 200 of 1746 workers killed, MapReduce §5.5: `crash: worker-200`).
      if (auto counted = role_count(item)) {
        std::vector<NodeId> with_role;
        for (NodeId id : up_servers)
          if (world.node(id).role() == counted->first) with_role.push_back(id);
        for (NodeId id : pick(with_role, counted->second, rng)) add_unique(out, id);
        continue;
      }
      // A protocol role: among up servers; `leader` prefers the highest epoch (term).
      std::vector<NodeId> with_role;
      for (NodeId id : up_servers)
        if (world.node(id).role() == item) with_role.push_back(id);
      if (!with_role.empty()) {
        if (item == "leader") {
          NodeId best = with_role.front();
          for (NodeId id : with_role)
            if (world.node(id).epoch() > world.node(best).epoch()) best = id;
          add_unique(out, best);
        } else {
          for (NodeId id : pick(with_role, 1, rng)) add_unique(out, id);
        }
      }
    }
  }
  return out;
}

}  // namespace faultline::faults
