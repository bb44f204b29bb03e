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
/// On some errors `suggestion` holds the text probably meant ("300ms" for "300", "10%" for "10"
/// as a probability); messages never contain it, callers print it as "did you mean ...".
template <class T>
struct Parsed {
  std::variant<T, std::string> v;
  std::string suggestion;
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

/// The duration a bare number probably meant, for error messages: "" when `text` is not a bare
/// number. Timeouts and latencies (`whole_run` false): "300" -> "300ms", "0.5" -> "0.5s". Times
/// within the run (`duration`, `at`, `for`, `until`; `whole_run` true): "10" -> "10s",
/// "2000" -> "2000ms".
std::string guess_duration(std::string_view text, bool whole_run = false);

/// For reports and `explain`: 150000000 -> "150ms", 1500000000 -> "1.5s". The largest unit that
/// gives an exact value with at most 3 decimals (min and h only when whole); parse_duration
/// reads every result back exactly.
std::string format_duration(Duration d);
/// 125000000 -> "1Gbps", 30000000 -> "30MB/s" (the shorter of the bit and byte forms).
std::string format_bandwidth(double bytes_per_second);
/// 64000000 -> "64MB", 1048576 -> "1MiB", 100 -> "100B" (the shorter of the two forms).
std::string format_size(std::uint64_t bytes);
/// 2000000000 -> "2Gf".
std::string format_speed(double flops);
/// 200 -> "200/s".
std::string format_rate(double per_second);

}  // namespace faultline::units
