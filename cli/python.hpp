// Running the project's Python figure scripts (reports/*.py, python3 + matplotlib from Debian).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace faultline {

/// `name` (e.g. "plot_experiment.py"): next to the faultline binary (the build copies the
/// scripts there), else in the source tree's reports/; nullopt when neither exists.
std::optional<std::filesystem::path> find_script(const std::string& name);

/// Runs `python3 script args...` and waits. Returns why it failed, or nullopt. The interpreter is
/// $FAULTLINE_PYTHON if set, else /usr/bin/python3 (Debian's, which carries matplotlib), else
/// python3 on PATH. The script's own messages go to standard error.
std::optional<std::string> run_script(const std::string& name, const std::vector<std::string>& args);

}  // namespace faultline
