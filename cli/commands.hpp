// `faultline validate`, `list` and `explain` (SCENARIOS.md, "Command line").
#pragma once

#include <string>
#include <vector>

namespace faultline {

int validate_command(const std::vector<std::string>& files);
int list_command(bool json);
int explain_command(const std::string& protocol, bool json);

/// The scenario library's folder: ./scenarios when it exists, else the source tree's.
std::string scenario_library_dir();

}  // namespace faultline
