#include "sim/network_faults.hpp"

namespace faultline::sim {

NetworkFaults::ChangeId NetworkFaults::add_blocks(const std::vector<Link>& links) {
  const ChangeId id = next_id_++;
  block_sets_[id] = links;
  for (const auto& l : links) ++block_count_[l];
  return id;
}

void NetworkFaults::remove_blocks(ChangeId id) {
  auto it = block_sets_.find(id);
  if (it == block_sets_.end()) return;  // already healed
  for (const auto& l : it->second) {
    auto c = block_count_.find(l);
    if (c != block_count_.end() && --c->second <= 0) block_count_.erase(c);
  }
  block_sets_.erase(it);
}

void NetworkFaults::heal_all() {
  block_sets_.clear();
  block_count_.clear();
}

void NetworkFaults::heal_nodes(const std::set<NodeId>& nodes) {
  for (auto& [id, links] : block_sets_) {
    std::vector<Link> kept;
    for (const auto& l : links) {
      if (nodes.count(l.first) || nodes.count(l.second)) {
        auto c = block_count_.find(l);
        if (c != block_count_.end() && --c->second <= 0) block_count_.erase(c);
      } else {
        kept.push_back(l);
      }
    }
    links = std::move(kept);
  }
}

bool NetworkFaults::blocked(NodeId from, NodeId to) const {
  return !block_count_.empty() && block_count_.count({from, to}) != 0;
}

const LinkSettings& NetworkFaults::link(NodeId from, NodeId to, std::string_view kind) const {
  if (!kind.empty() && !settings_.per_link_kind.empty()) {
    auto it = settings_.per_link_kind.find({from, to, std::string(kind)});
    if (it != settings_.per_link_kind.end()) return it->second;
  }
  if (!settings_.per_link.empty()) {
    auto it = settings_.per_link.find({from, to});
    if (it != settings_.per_link.end()) return it->second;
  }
  if (!kind.empty() && !settings_.per_kind.empty()) {
    auto it = settings_.per_kind.find(kind);
    if (it != settings_.per_kind.end()) return it->second;
  }
  return settings_.global;
}

SendVerdict NetworkFaults::judge_send(NodeId from, NodeId to, std::string_view kind,
                                      Rng& rng) const {
  SendVerdict v;
  if (blocked(from, to)) {
    v.dropped = v.blocked = true;
    return v;
  }
  const LinkSettings& s = link(from, to, kind);
  // Draws happen only for features that are switched on, so a reliable network consumes no
  // randomness and adding a drop fault to one link does not shift any other stream.
  if (s.drop > 0 && rng.chance(s.drop)) {
    v.dropped = true;
    return v;
  }
  const int copies = (s.duplicate > 0 && rng.chance(s.duplicate)) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Duration extra = 0;
    if (s.delay.hi > 0) extra = rng.uniform(s.delay.lo, s.delay.hi);
    if (s.long_delay_p > 0 && rng.chance(s.long_delay_p))
      extra = rng.uniform(s.long_delay.lo, s.long_delay.hi);
    v.copies.push_back(extra);
  }
  return v;
}

}  // namespace faultline::sim
