// SimGrid engine set-up: one per process (DESIGN.md, "One simulation per process").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/time.hpp"

namespace simgrid::s4u {
class Engine;
}

namespace faultline::sim {

/// Creates the s4u::Engine with faultline's configuration: the exact network model by default
/// (CM02 with every factor at 1; SimGrid's default LV08 multiplies latency by 13.01 and
/// bandwidth by 0.97, measured in DESIGN.md), SimGrid logging quiet.
class SimEngine {
 public:
  /// `network_model`: "exact" (CM02) or "tcp" (LV08, SimGrid's default TCP approximation).
  explicit SimEngine(const std::string& network_model);
  ~SimEngine();
  SimEngine(const SimEngine&) = delete;
  SimEngine& operator=(const SimEngine&) = delete;

  simgrid::s4u::Engine& engine() { return *engine_; }
  void run();
  /// The model and its factors, echoed in report.json `network_model`.
  const nlohmann::json& description() const { return description_; }

  static Time now();
  static std::string simgrid_version();

 private:
  std::unique_ptr<simgrid::s4u::Engine> engine_;
  nlohmann::json description_;
};

}  // namespace faultline::sim
