// trace.json: a run as a Chrome trace (the trace event format's JSON Object Format), which
// Perfetto (ui.perfetto.dev) and chrome://tracing open. Built from the RunRecord alone, in
// simulated time, so the same run always gives the same file (docs/scenarios.md, "trace.json").
//
// Tracks (a "thread" each, named by thread_name metadata):
//   process "run ...":  `faults` (an instant per fault record, the spec in args; a `for:` fault
//                       also an async slice from firing to its undo), `elections` (an instant
//                       per became_leader), `violations` (only when there are some)
//   process "servers":  one track per server, its role over time (follower, candidate, leader,
//                       crashed) as complete slices
//   process "clients":  one track per client, its operations as slices from invocation to
//                       completion; a client whose operations overlap (open loop, or an op
//                       left open by a crash) gets extra tracks "c1 (2)", ...
// With RunRecord::messages (`--trace-messages`), every delivered message is a zero-length
// slice on its sender's and its addressee's first track, joined by a flow arrow.
#pragma once

#include <cstdint>
#include <string>

#include "common/run_record.hpp"

namespace faultline::reports {

struct TraceOptions {
  std::string scenario;
  std::string protocol;
  std::uint64_t seed = 0;
  /// A server's role from its start or restart until its first role event. Raft servers start
  /// as followers without an event saying so (§5.2); empty: no slice until the first one.
  std::string initial_role;
};

/// The trace as JSON text, one event per line.
std::string trace_json(const RunRecord& record, const TraceOptions& options);

/// Microseconds as the trace's `ts` and `dur`, for `ns` nanoseconds. Perfetto reads them back
/// as (int64)(us * 1000); for about 0.7% of values the nearest double of ns / 1000 comes back
/// one nanosecond short, which makes slices that abut (one operation ending as the next one
/// starts) look overlapping. The value is therefore the smallest double that reads back as
/// exactly `ns`.
double trace_us(Time ns);

}  // namespace faultline::reports
