// Simulated time. Everything inside faultline counts integer nanoseconds; SimGrid's double
// seconds are converted at the sim/ boundary only (DESIGN.md, "NodeActor").
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace faultline {

/// A point in simulated time, in nanoseconds since the start of the run.
using Time = std::int64_t;
/// A span of simulated time, in nanoseconds.
using Duration = std::int64_t;

inline constexpr Time kNever = std::numeric_limits<Time>::max();
inline constexpr Duration kNanosecond = 1;
inline constexpr Duration kMicrosecond = 1'000;
inline constexpr Duration kMillisecond = 1'000'000;
inline constexpr Duration kSecond = 1'000'000'000;

constexpr Duration milliseconds(std::int64_t n) { return n * kMillisecond; }
constexpr Duration seconds(std::int64_t n) { return n * kSecond; }

constexpr double to_seconds(Time t) { return static_cast<double>(t) / 1e9; }
constexpr double to_ms(Duration d) { return static_cast<double>(d) / 1e6; }

/// Rounds to the nearest nanosecond (SimGrid clock -> faultline Time).
inline Time from_seconds(double s) { return static_cast<Time>(std::llround(s * 1e9)); }

}  // namespace faultline
