// Per-message network faults (DESIGN.md, "Transport"): SimGrid has none of them, so the
// Transport asks this object about every message, once when it is sent and again when it is
// delivered (a partition that starts while a message is in flight drops it).
//
// Plain data, no SimGrid: blocks (partition / isolate / cut) and link settings (drop,
// duplicate, delay, long_delay), each change tagged with an id so a `for:` can undo exactly it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "common/ids.hpp"
#include "common/params.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"

namespace faultline::sim {

/// Per-link message behaviour. Fields left unset by a `network:` fault keep their value.
struct LinkSettings {
  double drop = 0.0;
  double duplicate = 0.0;
  DurationRange delay{0, 0};
  double long_delay_p = 0.0;
  DurationRange long_delay{0, 0};
  bool operator==(const LinkSettings&) const = default;
};

/// What happens to one message at send time.
struct SendVerdict {
  bool dropped = false;
  bool blocked = false;             // dropped because of a partition/cut
  std::vector<Duration> copies;     // extra delay of each delivered copy (1, or 2 if duplicated)
};

class NetworkFaults {
 public:
  using ChangeId = std::uint64_t;
  using Link = std::pair<NodeId, NodeId>;  // directed: from -> to

  /// Blocks every listed directed link until removed. Returns the id `for:` uses to undo it.
  ChangeId add_blocks(const std::vector<Link>& links);
  void remove_blocks(ChangeId id);
  /// `heal: all`.
  void heal_all();
  /// `heal: [n1, n2]`: removes the blocks that involve any of these nodes.
  void heal_nodes(const std::set<NodeId>& nodes);
  bool blocked(NodeId from, NodeId to) const;

  /// Snapshot of the settings, for `for:` on a `network:` fault (restores "previous settings").
  /// A message is judged by the most specific entry that covers it: its link and kind, then its
  /// link, then its kind, then the global settings (a `network:` fault with `kinds:` fills the
  /// per-kind entries only).
  using LinkKind = std::tuple<NodeId, NodeId, std::string>;
  struct Settings {
    LinkSettings global;
    std::map<Link, LinkSettings> per_link;
    std::map<std::string, LinkSettings, std::less<>> per_kind;
    std::map<LinkKind, LinkSettings> per_link_kind;
  };
  const Settings& settings() const { return settings_; }
  void restore(const Settings& s) { settings_ = s; }
  Settings& mutable_settings() { return settings_; }
  /// The settings that apply to a message of `kind` ("" for any kind) from `from` to `to`.
  const LinkSettings& link(NodeId from, NodeId to, std::string_view kind = {}) const;

  /// Judges one message (of the protocol's message `kind`) at send time: blocked, dropped,
  /// duplicated, delayed.
  SendVerdict judge_send(NodeId from, NodeId to, std::string_view kind, Rng& rng) const;

 private:
  ChangeId next_id_ = 1;
  std::map<ChangeId, std::vector<Link>> block_sets_;
  std::map<Link, int> block_count_;  // how many block sets block each link
  Settings settings_;
};

}  // namespace faultline::sim
