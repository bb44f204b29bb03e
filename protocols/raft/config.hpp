// Raft's parameters (`params:` of a raft scenario). Every field: meaning, unit, default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/params.hpp"
#include "common/time.hpp"

namespace faultline::raft {

struct Config {
  /// Election timeout drawn uniformly from this range at every reset (extended paper §5.2).
  DurationRange election_timeout{150 * kMillisecond, 300 * kMillisecond};
  /// Leader heartbeat period: AppendEntries (possibly empty) to every follower (§5.2).
  Duration heartbeat_interval = 50 * kMillisecond;
  /// Upper bound on entries carried by one AppendEntries.
  std::int64_t max_entries_per_append = 64;
  /// Unanswered AppendEntries a leader keeps in flight to one follower whose log is known to
  /// match (pipelining, as etcd raft's MaxInflightMsgs). 1 = one at a time (LogCabin).
  std::int64_t max_inflight_appends = 8;
  /// Deliberately broken variants for teaching (issue 3). Empty for the correct protocol.
  std::vector<std::string> bugs;
};

/// The `params:` schema of raft (names, types, defaults, help).
std::vector<ParamSpec> param_schema();
/// Builds the typed Config from validated params (every schema key present).
Config config_from(const ParamValues& params);

}  // namespace faultline::raft
