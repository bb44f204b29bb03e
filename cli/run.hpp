// `faultline run`: load, simulate, report (SCENARIOS.md, "Outputs of faultline run").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline {

struct RunOptions {
  std::string file;
  std::optional<std::uint64_t> seed;
  std::optional<std::string> out;
  bool force = false;
  std::vector<std::string> sets;
  bool quiet = false;
  bool plots = false;
  bool trace_messages = false;
};

struct Scenario;

/// What one simulated run produced, before anything is written.
struct Simulation {
  RunRecord record;
  nlohmann::json network_model;
  nlohmann::json protocol_metrics;
  /// Further files for the run directory, relative path -> content (MapReduce: output/mr-out-<r>,
  /// expected/mr-out-<r> when the output check failed, rates.csv, tasks.csv). run_scenario
  /// writes them; experiment trials ignore them.
  std::map<std::string, std::string> files;
};

/// Simulates `scenario` in this process (SimGrid allows one simulation per process).
/// `trace_messages`: record every delivered message (RunRecord::messages) for trace.json.
Simulation simulate(const Scenario& scenario, bool trace_messages = false);

/// report.json of a finished simulation (checks included: `linearizable` runs here).
/// `file`: the scenario file as given; `wall_time_s` goes into `wall_time_s`.
nlohmann::json simulation_report(const Scenario& scenario, const std::string& file, Simulation& sim,
                                 double wall_time_s);

/// Runs one scenario in this process (SimGrid allows one simulation per process) and returns
/// the exit code of SCENARIOS.md's table. Bad input is reported on stderr and returns 2 before
/// anything is written.
int run_scenario(const RunOptions& options);

}  // namespace faultline
