// Assertions for bugs in faultline itself (DESIGN.md: "Assertions are for bugs in faultline
// itself"; a protocol breach is a *result*, recorded by SafetyMonitor, never asserted). Always
// on, also in release builds: the cores' local invariants are cheap.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace faultline::raft::detail {

[[noreturn]] inline void check_failed(const char* file, int line, const char* expr,
                                      const std::string& detail) {
  std::fprintf(stderr, "%s:%d: faultline bug: raft invariant `%s` violated: %s\n", file, line, expr,
               detail.c_str());
  std::abort();
}

}  // namespace faultline::raft::detail

/// Aborts with `message` (any expression convertible to std::string) when `cond` is false.
#define RAFT_CHECK(cond, message)                                                               \
  do {                                                                                          \
    if (!(cond)) ::faultline::raft::detail::check_failed(__FILE__, __LINE__, #cond, (message)); \
  } while (false)
