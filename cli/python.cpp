#include "cli/python.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <system_error>

#include <fmt/format.h>

extern char** environ;

namespace faultline {
namespace fs = std::filesystem;

std::optional<fs::path> find_script(const std::string& name) {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = exe.parent_path() / name;
    if (fs::is_regular_file(beside, ec)) return beside;
  }
  const fs::path source = fs::path(FAULTLINE_SOURCE_DIR) / "reports" / name;
  if (fs::is_regular_file(source, ec)) return source;
  return std::nullopt;
}

std::optional<std::string> run_script(const std::string& name, const std::vector<std::string>& args) {
  const auto script = find_script(name);
  if (!script)
    return fmt::format("{} is neither next to the faultline binary nor in {}/reports", name,
                       FAULTLINE_SOURCE_DIR);
  std::string python = "python3";  // posix_spawnp searches PATH
  if (const char* env = std::getenv("FAULTLINE_PYTHON"); env && *env)
    python = env;
  else if (::access("/usr/bin/python3", X_OK) == 0)
    python = "/usr/bin/python3";

  std::vector<std::string> all = {python, script->string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  // What was printed so far must come out before anything the script prints.
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
    return fmt::format("{} {} exited with status {}", python, script->string(), WEXITSTATUS(status));
  return fmt::format("{} {} was killed by signal {}", python, script->string(), WTERMSIG(status));
}

}  // namespace faultline
