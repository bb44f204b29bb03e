// `faultline run --plots`: figures drawn by reports/plot_timeline.py (python3 + matplotlib) from
// the files of a finished run. Opt-in: starting matplotlib costs about a second.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace faultline {

/// plot_timeline.py: next to the faultline binary (the build copies it there), else in the
/// source tree the binary was built from; nullopt when neither exists.
std::optional<std::filesystem::path> find_plot_script();

/// Draws `run_dir`/timeline.png. Returns why it could not be drawn, or nullopt. The Python
/// interpreter is $FAULTLINE_PYTHON if set, else /usr/bin/python3 (Debian's, which carries
/// matplotlib), else python3 on PATH. The script's own errors go to standard error.
std::optional<std::string> draw_timeline(const std::filesystem::path& run_dir, bool quiet);

}  // namespace faultline
