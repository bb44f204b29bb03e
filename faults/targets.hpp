// Resolution of fault targets at the moment a fault fires (SCENARIOS.md, "Fault semantics"):
// node names, protocol roles (`leader` = the leader of the highest term during a split brain),
// `random`, `random-N`, `<role>-N` (N distinct up servers with that role, e.g. `worker-200`),
// `crashed`, `all`. `all` and `random` mean servers; clients are
// targeted by name only.
#pragma once

#include <string>
#include <vector>

#include "cli/scenario.hpp"
#include "common/rng.hpp"
#include "sim/world.hpp"

namespace faultline::faults {

/// The nodes `target` names now, in a deterministic order, without duplicates. Empty when it
/// matches nobody (reported by the caller, never silently ignored).
std::vector<NodeId> resolve(const TargetSpec& target, sim::World& world, Rng& rng);

}  // namespace faultline::faults
