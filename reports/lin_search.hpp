// Internal to the linearizability checker (reports/linearizability.cpp): the Wing & Gong / Lowe
// search over one sub-history, with its memo and budgets. Not a public API.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "reports/lin_model.hpp"

namespace faultline::lin::detail {

using Clock = std::chrono::steady_clock;

struct Budget {
  Clock::time_point deadline;
  double timeout_s = 60;
  std::size_t memory_limit = 0;
  bool time_exceeded() const { return Clock::now() >= deadline; }
};

/// "time budget of 60 s exhausted", "memory budget of 1 GiB exhausted".
std::string time_reason(const Budget& b);
std::string memory_reason(const Budget& b);

/// Where a failed search stopped: the op it could not get past, the states before it, and one
/// linearizable prefix that got there (see lin_search.cpp).
struct Frontier {
  std::size_t depth = 0;             // ok ops (in completion order) linearized before it
  std::size_t op = 0;                // local op that cannot be linearized
  bool states_complete = true;       // every state at the frontier is listed (or counted)
  std::vector<std::int32_t> states;  // distinct states at the frontier (capped)
  std::size_t states_total = 0;      // how many distinct states there were (counting stops at
                                     // 100000)
  std::vector<std::size_t> prefix;   // local ops, in linearization order
};

/// How doomed configurations (where some ok op can never be linearized) are handled: Doomed cuts
/// them all (the verdict search); Bounded cuts those whose subtree could not get deeper than the
/// deepest configuration already found (the explanation search: the op blamed stays the one an
/// exhaustive search would blame); None keeps them.
enum class Prune { None, Doomed, Bounded };

enum class Outcome { Linearizable, NotLinearizable, Budget };

/// When SearchRun::frontier is filled in: never; after NotLinearizable; also after Budget (the
/// frontier of what was explored).
enum class Frontiers { None, OnFailure, Always };

struct SearchRun {
  Outcome outcome = Outcome::Budget;
  std::string reason;          // Budget: which budget ran out ("" for `max_configs`)
  std::uint64_t explored = 0;  // configurations stored
  Frontier frontier;           // see Frontiers
};

/// Searches for a linearization of `ops` (compiled by `machine`, in invocation order; `history`
/// gives their positions) from state `initial`. Past `max_configs` configurations it gives up
/// (Budget, empty reason).
SearchRun run_search(Machine& machine, const std::vector<COp>& ops, const History& history,
                     std::int32_t initial, const Budget& budget, Prune prune,
                     std::size_t max_configs, Frontiers want);

}  // namespace faultline::lin::detail
