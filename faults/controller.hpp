// The fault schedule: one (non-daemon) SimGrid actor that fires the scenario's faults at their
// times, undoes those with `for:`, runs the nemesis, evaluates `stop_when`, and ends the run at
// `duration`, or soon after a world that can finish has finished (World::finished, a MapReduce
// job done or failed). When it returns, SimGrid kills the daemonized node actors and the run is
// over.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "cli/scenario.hpp"
#include "common/rng.hpp"
#include "sim/network_faults.hpp"
#include "sim/run_context.hpp"
#include "sim/world.hpp"

namespace faultline::faults {

class Controller {
 public:
  /// `stop_check`: evaluated after every fault and every `poll` of simulated time when the
  /// scenario has `stop_when`; returning true ends the run early.
  Controller(const Scenario& scenario, sim::RunContext& ctx, sim::World& world,
             std::function<bool()> stop_check = {});

  /// Creates the controller actor; call before the engine runs.
  void spawn();

  /// Every CPU slow-down factor the scenario's faults use (the platform declares them as pstates).
  static std::vector<double> cpu_factors(const Scenario& scenario);

 private:
  struct Action {
    Time at = 0;
    std::uint64_t seq = 0;  // insertion order: file order for equal times
    std::function<void()> run;
  };

  void main();
  void schedule(Time at, std::function<void()> run);
  void fire(const FaultSpec& fault);
  void record(const FaultSpec& fault, const std::string& kind, const std::vector<NodeId>& target,
              const std::string& note = {}, nlohmann::json extra = {});
  std::vector<NodeId> resolve(const TargetSpec& target);
  std::vector<std::string> names(const std::vector<NodeId>& ids) const;
  void apply_network(const NetworkSpec& spec);
  sim::NetworkFaults::ChangeId block_partition(const std::vector<std::vector<NodeId>>& groups);
  void nemesis_tick(const FaultSpec& fault);
  void nemesis_end(const FaultSpec& fault);

  const Scenario& scenario_;
  sim::RunContext& ctx_;
  sim::World& world_;
  std::function<bool()> stop_check_;
  Rng rng_;  // stream "faults": random `at`, role choices, nemesis
  std::vector<Action> queue_;  // a heap ordered by (at, seq)
  std::uint64_t next_seq_ = 0;
  // Nemesis bookkeeping: what it crashed and partitioned, undone at `until`.
  std::set<NodeId> nemesis_crashed_;
  std::vector<sim::NetworkFaults::ChangeId> nemesis_blocks_;
  /// Per nemesis (fault index) with `targets:`: the servers it acts on, resolved at its start.
  std::map<int, std::vector<NodeId>> nemesis_pool_;
  const std::vector<NodeId>& nemesis_pool(const FaultSpec& fault) const;
};

}  // namespace faultline::faults
