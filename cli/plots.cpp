#include "cli/plots.hpp"

#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <system_error>
#include <vector>

extern char** environ;

namespace faultline {
namespace fs = std::filesystem;

std::optional<fs::path> find_plot_script() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path() / "plot_timeline.py";
    if (fs::is_regular_file(beside, ec)) return beside;
  }
  const fs::path source = fs::path(FAULTLINE_SOURCE_DIR) / "reports" / "plot_timeline.py";
  if (fs::is_regular_file(source, ec)) return source;
  return std::nullopt;
}

std::optional<std::string> draw_timeline(const fs::path& run_dir, bool quiet) {
  const auto script = find_plot_script();
  if (!script)
    return fmt::format("plot_timeline.py is neither next to the faultline binary nor in {}/reports",
                       FAULTLINE_SOURCE_DIR);
  std::string python = "python3";  // posix_spawnp searches PATH
  if (const char* env = std::getenv("FAULTLINE_PYTHON"); env && *env)
    python = env;
  else if (::access("/usr/bin/python3", X_OK) == 0)
    python = "/usr/bin/python3";

  std::vector<std::string> args = {python, script->string(), run_dir.string()};
  if (quiet) args.emplace_back("--quiet");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The summary printed so far must come out before anything the script prints.
  std::cout.flush();
  std::fflush(nullptr);
  pid_t pid = 0;
  if (const int err = ::posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ))
    return fmt::format("cannot run {}: {}", python, std::strerror(err));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return fmt::format("waiting for {}: {}", python, std::strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  if (WIFEXITED(status))
    return fmt::format("{} {} exited with status {}", python, script->string(),
                       WEXITSTATUS(status));
  return fmt::format("{} {} was killed by signal {}", python, script->string(), WTERMSIG(status));
}

}  // namespace faultline
