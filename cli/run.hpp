// `faultline run`: load, simulate, report (SCENARIOS.md, "Outputs of faultline run").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

/// Runs one scenario in this process (SimGrid allows one simulation per process) and returns
/// the exit code of SCENARIOS.md's table. Bad input is reported on stderr and returns 2 before
/// anything is written.
int run_scenario(const RunOptions& options);

}  // namespace faultline
