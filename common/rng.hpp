// Deterministic randomness. One seed drives a run; streams are split by stable names
// ("faults", "node/n2", "workload/c3") so that adding a node or a client does not shift any
// other stream (DESIGN.md, "Determinism"). The distribution helpers are our own: the standard
// library's distributions differ between implementations (STYLE.md, point 3).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/time.hpp"

namespace faultline {

/// xoshiro256** seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 1);

  /// An independent stream named `name`, derived from this stream's *seed* (not its position),
  /// so forking is order-independent: fork("node/n1") is the same wherever it is called.
  Rng fork(std::string_view name) const;

  std::uint64_t next();
  /// Uniform integer in [0, n); n > 0. Unbiased (Lemire's method with rejection).
  std::uint64_t below(std::uint64_t n);
  /// Uniform integer in [lo, hi], inclusive.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  /// Uniform double in [0, 1) with 53 random bits.
  double unit();
  /// True with probability p (p <= 0: never, p >= 1: always).
  bool chance(double p);
  /// Uniform duration in [lo, hi] (nanosecond resolution).
  Duration uniform(Duration lo, Duration hi) { return between(lo, hi); }

  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::uint64_t s_[4];
};

/// 64-bit FNV-1a, used to derive stream seeds from names.
std::uint64_t stable_hash(std::string_view text);

}  // namespace faultline
