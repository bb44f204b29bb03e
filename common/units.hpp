// Parsing of the quantities scenario files carry (SCENARIOS.md, "Units"). Pure functions: they
// return the value or an error message that says what was expected; the scenario loader adds
// file:line:col.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/time.hpp"

namespace faultline::units {

/// A parse result: the value, or a message ("expected a duration with a unit such as 250ms").
template <class T>
struct Parsed {
  std::variant<T, std::string> v;
  bool ok() const { return v.index() == 0; }
  const T& value() const { return std::get<0>(v); }
  const std::string& error() const { return std::get<1>(v); }
};

/// `250us`, `1.5ms`, `2s`, `3min`, `1h`, `10ns`. A bare number is an error whose message names
/// the unit probably meant. Negative values are errors; zero is allowed here (callers that need
/// a positive duration say so).
Parsed<Duration> parse_duration(std::string_view text);
/// `100Mbps`, `1Gbps` (bits per second) or `12.5MB/s`, `30MBps` (bytes per second) -> bytes/s.
Parsed<double> parse_bandwidth(std::string_view text);
/// `64MB`, `4KB` (powers of 10), `1MiB`, `4KiB` (powers of 2), `100B` -> bytes.
Parsed<std::uint64_t> parse_size(std::string_view text);
/// `0.1` or `10%` -> [0, 1].
Parsed<double> parse_probability(std::string_view text);
/// `2Gf`, `500Mf`, `1.5e9` -> flops per second.
Parsed<double> parse_speed(std::string_view text);
/// `200/s` -> operations per second.
Parsed<double> parse_rate(std::string_view text);

/// For reports and `explain`: 150000000 -> "150ms", 1500000000 -> "1.5s".
std::string format_duration(Duration d);
/// 125000000 -> "1Gbps"
std::string format_bandwidth(double bytes_per_second);

}  // namespace faultline::units
