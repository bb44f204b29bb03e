#include "sim/engine.hpp"

#include <simgrid/s4u/Engine.hpp>
#include <simgrid/version.h>

#include <fmt/format.h>

namespace faultline::sim {

SimEngine::SimEngine(const std::string& network_model) {
  std::vector<std::string> args = {"faultline", "--log=root.thresh:critical",
                                   "--log=xbt_cfg.thresh:critical"};
  if (network_model == "tcp") {
    args.emplace_back("--cfg=network/model:LV08");
    description_ = {{"name", "tcp"},
                    {"simgrid_model", "LV08"},
                    {"latency_factor", 13.01},
                    {"bandwidth_factor", 0.97},
                    {"note", "SimGrid's TCP approximation: latency x13.01, bandwidth x0.97"}};
  } else {
    // CM02 has no latency/bandwidth factors; TCP-gamma (window/RTT bound) and cross-traffic are
    // switched off so that what the scenario writes is what messages see.
    args.emplace_back("--cfg=network/model:CM02");
    args.emplace_back("--cfg=network/TCP-gamma:0");
    args.emplace_back("--cfg=network/crosstraffic:0");
    description_ = {{"name", "exact"},
                    {"simgrid_model", "CM02"},
                    {"latency_factor", 1.0},
                    {"bandwidth_factor", 1.0},
                    {"tcp_gamma", 0},
                    {"crosstraffic", false}};
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  int argc = static_cast<int>(argv.size());
  engine_ = std::make_unique<simgrid::s4u::Engine>(&argc, argv.data());
}

SimEngine::~SimEngine() = default;

void SimEngine::run() { engine_->run(); }

Time SimEngine::now() { return from_seconds(simgrid::s4u::Engine::get_clock()); }

std::string SimEngine::simgrid_version() {
  return fmt::format("{}.{}", SIMGRID_VERSION_MAJOR, SIMGRID_VERSION_MINOR) +
         (SIMGRID_VERSION_PATCH ? fmt::format(".{}", SIMGRID_VERSION_PATCH) : std::string());
}

}  // namespace faultline::sim
