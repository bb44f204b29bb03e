#include "common/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>

namespace faultline::units {
namespace {

using u128 = unsigned __int128;

template <class T>
Parsed<T> fail(std::string message, std::string suggestion = {}) {
  Parsed<T> p{std::variant<T, std::string>(std::in_place_index<1>, std::move(message)), {}};
  p.suggestion = std::move(suggestion);
  return p;
}

template <class T>
Parsed<T> good(T value) {
  return Parsed<T>{std::variant<T, std::string>(std::in_place_index<0>, std::move(value)), {}};
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

/// A decimal number as written: its value is digits * 10^exp10 (sign apart). Keeping the digits
/// lets durations and sizes be scaled exactly ("1.05s" is 1050000000ns, not 1049999999).
struct Number {
  bool negative = false;
  std::string digits;  // significant digits without leading or trailing zeros; empty for zero
  int exp10 = 0;
  std::string_view text;  // the number as written, sign included
  double value = 0;       // the same, as a double (inf when out of range)
};

/// Reads a number at the start of `s`: [+-] digits [. digits] [e [+-] digits]. Returns it and the
/// rest of `s` (the unit, leading blanks skipped), or nullopt when `s` does not start with one.
std::optional<std::pair<Number, std::string_view>> read_number(std::string_view s) {
  Number n;
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    n.negative = s[i] == '-';
    ++i;
  }
  const std::size_t mantissa_start = i;
  std::string all_digits;
  int frac_digits = 0;
  while (i < s.size() && is_digit(s[i])) all_digits += s[i++];
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) {
      all_digits += s[i++];
      ++frac_digits;
    }
  }
  if (all_digits.empty()) return std::nullopt;  // no digit at all ("", ".", "-", "ms")
  long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    std::size_t j = i + 1;
    bool exp_negative = false;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) exp_negative = s[j++] == '-';
    if (j < s.size() && is_digit(s[j])) {
      while (j < s.size() && is_digit(s[j])) {
        if (exponent < 100000) exponent = exponent * 10 + (s[j] - '0');
        ++j;
      }
      if (exp_negative) exponent = -exponent;
      i = j;
    }
  }
  n.text = s.substr(0, i);
  // Normalize: strip leading zeros, move trailing zeros into the exponent.
  std::size_t first = all_digits.find_first_not_of('0');
  if (first == std::string::npos) {
    n.digits.clear();
    n.exp10 = 0;
  } else {
    n.digits = all_digits.substr(first);
    long e = exponent - frac_digits;
    while (n.digits.size() > 1 && n.digits.back() == '0') {
      n.digits.pop_back();
      ++e;
    }
    n.exp10 = static_cast<int>(std::clamp<long>(e, -1000000, 1000000));
  }
  std::string_view numeric = s.substr(mantissa_start, i - mantissa_start);
  double v = 0;
  auto [ptr, ec] = std::from_chars(numeric.data(), numeric.data() + numeric.size(), v);
  if (ec == std::errc::result_out_of_range) {
    v = n.digits.empty() || n.exp10 < 0 ? 0.0 : std::numeric_limits<double>::infinity();
  } else if (ec != std::errc() || ptr != numeric.data() + numeric.size()) {
    return std::nullopt;
  }
  n.value = n.negative ? -v : v;
  return std::make_pair(n, trim(s.substr(i)));
}

/// |n| * unit, rounded to the nearest integer; nullopt when above `limit`.
std::optional<u128> scale_exact(const Number& n, std::uint64_t unit, u128 limit) {
  if (n.digits.empty()) return u128{0};
  std::string digits = n.digits;
  long e = n.exp10;
  if (digits.size() > 19) {  // beyond 19 significant digits nothing observable changes
    e += static_cast<long>(digits.size() - 19);
    digits.resize(19);
  }
  u128 m = 0;
  for (char c : digits) m = m * 10 + static_cast<u128>(c - '0');
  m *= unit;  // < 10^19 * 3.6e12 < 2^128
  if (e >= 0) {
    for (long k = 0; k < e; ++k) {
      if (m > limit / 10) return std::nullopt;
      m *= 10;
    }
  } else {
    if (-e > 38) return u128{0};
    u128 p = 1;
    for (long k = 0; k < -e; ++k) p *= 10;
    m = (m + p / 2) / p;
  }
  if (m > limit) return std::nullopt;
  return m;
}

struct Unit {
  std::string_view name;
  double factor;
};

/// Shortest readable form of a double: 12 significant digits at most, no trailing zeros.
std::string short_number(double v) { return fmt::format("{:.12g}", v); }

/// ip.frac with `frac` given in thousandths, trailing zeros dropped: (1, 500) -> "1.5".
std::string with_thousandths(std::uint64_t ip, std::uint64_t thousandths) {
  if (thousandths == 0) return std::to_string(ip);
  std::string frac = fmt::format("{:03d}", thousandths);
  while (frac.back() == '0') frac.pop_back();
  return fmt::format("{}.{}", ip, frac);
}

constexpr std::array<std::pair<std::string_view, std::uint64_t>, 7> kDurationUnits{{
    {"ns", 1},
    {"us", 1'000},
    {"µs", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"min", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

constexpr std::string_view kDurationUnitList = "ns, us, ms, s, min or h";

}  // namespace

std::string guess_duration(std::string_view text, bool whole_run) {
  text = trim(text);
  auto number = read_number(text);
  if (!number || !number->second.empty()) return {};
  std::string written(number->first.text);
  if (!written.empty() && written.front() == '+') written.erase(0, 1);
  const double v = std::fabs(number->first.value);
  const bool ms = whole_run ? v >= 1000 : v >= 1;
  return written + (ms ? "ms" : "s");
}

Parsed<Duration> parse_duration(std::string_view text) {
  const std::string_view t = trim(text);
  if (t.empty())
    return fail<Duration>("expected a duration with a unit such as '250ms', got nothing");
  auto number = read_number(t);
  if (!number) {
    return fail<Duration>(
        fmt::format("expected a duration with a unit such as '250ms', got '{}'", t));
  }
  const auto& [n, unit] = *number;
  if (n.negative && !n.digits.empty()) {
    return fail<Duration>(fmt::format("expected a duration >= 0, got '{}'", t));
  }
  if (unit.empty()) {
    std::string guess = guess_duration(t);
    return fail<Duration>(fmt::format("expected a duration with a unit, e.g. '{}'", guess), guess);
  }
  for (const auto& [name, ns] : kDurationUnits) {
    if (unit != name) continue;
    auto scaled = scale_exact(n, ns, static_cast<u128>(std::numeric_limits<Duration>::max()));
    if (!scaled) {
      return fail<Duration>(
          fmt::format("duration '{}' is too large (the limit is about 292 years)", t));
    }
    if (*scaled == 0 && !n.digits.empty()) {
      return fail<Duration>(
          fmt::format("duration '{}' is below the simulator's resolution of 1ns", t));
    }
    return good<Duration>(static_cast<Duration>(*scaled));
  }
  return fail<Duration>(
      fmt::format("unknown duration unit '{}' in '{}' (expected {})", unit, t, kDurationUnitList));
}

Parsed<double> parse_bandwidth(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"bps", 1.0 / 8},    {"Kbps", 1e3 / 8},    {"kbps", 1e3 / 8},
      {"Mbps", 1e6 / 8},   {"Gbps", 1e9 / 8},    {"Tbps", 1e12 / 8},
      {"B/s", 1},          {"KB/s", 1e3},        {"kB/s", 1e3},
      {"MB/s", 1e6},       {"GB/s", 1e9},        {"TB/s", 1e12},
      {"Bps", 1},          {"KBps", 1e3},        {"kBps", 1e3},
      {"MBps", 1e6},       {"GBps", 1e9},        {"TBps", 1e12},
      {"KiB/s", 1024.0},   {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0},
      {"bit/s", 1.0 / 8},  {"Kbit/s", 1e3 / 8},  {"Mbit/s", 1e6 / 8},
      {"Gbit/s", 1e9 / 8},
  };
  const std::string_view t = trim(text);
  auto number = read_number(t);
  if (!number) {
    return fail<double>(fmt::format(
        "expected a bandwidth such as '100Mbps' (bits) or '12.5MB/s' (bytes), got '{}'", t));
  }
  const auto& [n, unit] = *number;
  if (n.negative && !n.digits.empty())
    return fail<double>(fmt::format("expected a bandwidth >= 0, got '{}'", t));
  if (unit.empty()) {
    std::string written(n.text);
    return fail<double>(
        fmt::format("expected a bandwidth with a unit, e.g. '{0}Mbps' (bits) or '{0}MB/s' (bytes)",
                    written),
        written + "Mbps");
  }
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    const double v = std::fabs(n.value) * u.factor;
    if (!std::isfinite(v)) return fail<double>(fmt::format("bandwidth '{}' is too large", t));
    return good(v);
  }
  return fail<double>(fmt::format(
      "unknown bandwidth unit '{}' in '{}' (expected bps, Kbps, Mbps, Gbps, Tbps for bits per "
      "second or B/s, KB/s, MB/s, GB/s, TB/s, Bps, KBps, MBps, GBps, KiB/s, MiB/s, GiB/s for "
      "bytes)",
      unit, t));
}

Parsed<std::uint64_t> parse_size(std::string_view text) {
  static constexpr std::pair<std::string_view, std::uint64_t> kUnits[] = {
      {"B", 1},
      {"KB", 1'000},
      {"kB", 1'000},
      {"MB", 1'000'000},
      {"GB", 1'000'000'000},
      {"TB", 1'000'000'000'000},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"TiB", 1ull << 40},
  };
  const std::string_view t = trim(text);
  auto number = read_number(t);
  if (!number) {
    return fail<std::uint64_t>(
        fmt::format("expected a size such as '64MB' or '4KiB', got '{}'", t));
  }
  const auto& [n, unit] = *number;
  if (n.negative && !n.digits.empty())
    return fail<std::uint64_t>(fmt::format("expected a size >= 0, got '{}'", t));
  if (unit.empty()) {
    std::string written(n.text);
    return fail<std::uint64_t>(
        fmt::format("expected a size with a unit, e.g. '{0}MB' or '{0}KiB' ('{0}B' for bytes)",
                    written),
        written + "B");
  }
  for (const auto& [name, bytes] : kUnits) {
    if (unit != name) continue;
    auto scaled =
        scale_exact(n, bytes, static_cast<u128>(std::numeric_limits<std::uint64_t>::max()));
    if (!scaled) return fail<std::uint64_t>(fmt::format("size '{}' is too large", t));
    return good<std::uint64_t>(static_cast<std::uint64_t>(*scaled));
  }
  return fail<std::uint64_t>(fmt::format(
      "unknown size unit '{}' in '{}' (expected B, KB, MB, GB, TB or KiB, MiB, GiB, TiB)", unit,
      t));
}

Parsed<double> parse_probability(std::string_view text) {
  const std::string_view t = trim(text);
  auto number = read_number(t);
  if (!number || (!number->second.empty() && number->second != "%")) {
    return fail<double>(fmt::format("expected a probability such as 0.1 or 10%, got '{}'", t));
  }
  const auto& [n, unit] = *number;
  const bool percent = unit == "%";
  const double p = percent ? n.value / 100 : n.value;
  if (p >= 0 && p <= 1) return good(p);
  std::string suggestion;
  if (!percent && n.value > 1 && n.value <= 100) suggestion = std::string(n.text) + "%";
  return fail<double>(
      fmt::format("probability '{}' is out of range: expected a number in [0, 1] or a percentage "
                  "in [0%, 100%]",
                  t),
      suggestion);
}

Parsed<double> parse_speed(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"", 1},         {"f", 1},        {"flops", 1},     {"kf", 1e3},     {"Kf", 1e3},
      {"kflops", 1e3}, {"Kflops", 1e3}, {"Mf", 1e6},      {"Mflops", 1e6}, {"Gf", 1e9},
      {"Gflops", 1e9}, {"Tf", 1e12},    {"Tflops", 1e12}, {"Pf", 1e15},    {"Pflops", 1e15},
  };
  const std::string_view t = trim(text);
  auto number = read_number(t);
  if (!number) {
    return fail<double>(
        fmt::format("expected a speed in flops per second such as '2Gf' or 1.5e9, got '{}'", t));
  }
  const auto& [n, unit] = *number;
  if (n.negative && !n.digits.empty())
    return fail<double>(fmt::format("expected a speed >= 0, got '{}'", t));
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    const double v = std::fabs(n.value) * u.factor;
    if (!std::isfinite(v)) return fail<double>(fmt::format("speed '{}' is too large", t));
    return good(v);
  }
  return fail<double>(fmt::format(
      "unknown speed unit '{}' in '{}' (expected f, Kf, Mf, Gf, Tf, Pf or a plain number)", unit,
      t));
}

Parsed<double> parse_rate(std::string_view text) {
  static constexpr Unit kUnits[] = {
      {"/s", 1}, {"/ms", 1e3}, {"/min", 1.0 / 60}, {"/h", 1.0 / 3600}};
  const std::string_view t = trim(text);
  auto number = read_number(t);
  if (!number) {
    return fail<double>(
        fmt::format("expected a rate in operations per second such as '200/s', got '{}'", t));
  }
  const auto& [n, unit] = *number;
  if (n.negative && !n.digits.empty())
    return fail<double>(fmt::format("expected a rate >= 0, got '{}'", t));
  if (unit.empty()) {
    std::string written(n.text);
    return fail<double>(fmt::format("expected a rate with a unit, e.g. '{}/s'", written),
                        written + "/s");
  }
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    const double v = std::fabs(n.value) * u.factor;
    if (!std::isfinite(v)) return fail<double>(fmt::format("rate '{}' is too large", t));
    return good(v);
  }
  return fail<double>(
      fmt::format("unknown rate unit '{}' in '{}' (expected /s, /ms, /min or /h)", unit, t));
}

std::string format_duration(Duration d) {
  if (d == 0) return "0s";
  if (d < 0) {
    if (d == std::numeric_limits<Duration>::min()) return fmt::format("{}ns", d);
    return "-" + format_duration(-d);
  }
  constexpr Duration kMinute = 60 * kSecond;
  constexpr Duration kHour = 60 * kMinute;
  if (d % kHour == 0) return fmt::format("{}h", d / kHour);
  if (d % kMinute == 0) return fmt::format("{}min", d / kMinute);
  const std::pair<const char*, Duration> units[] = {
      {"s", kSecond}, {"ms", kMillisecond}, {"us", kMicrosecond}};
  for (const auto& [name, unit] : units) {
    if (d >= unit && d % (unit / 1000) == 0) {
      const auto ip = static_cast<std::uint64_t>(d / unit);
      const auto thousandths = static_cast<std::uint64_t>((d % unit) / (unit / 1000));
      return with_thousandths(ip, thousandths) + name;
    }
  }
  return fmt::format("{}ns", d);
}

std::string format_bandwidth(double bytes_per_second) {
  if (!(bytes_per_second > 0)) return "0bps";
  static constexpr Unit kBits[] = {
      {"Tbps", 1e12}, {"Gbps", 1e9}, {"Mbps", 1e6}, {"Kbps", 1e3}, {"bps", 1}};
  static constexpr Unit kBytes[] = {
      {"TB/s", 1e12}, {"GB/s", 1e9}, {"MB/s", 1e6}, {"KB/s", 1e3}, {"B/s", 1}};
  auto pick = [](double v, const Unit* units, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      if (v >= units[i].factor || i + 1 == count)
        return short_number(v / units[i].factor) + std::string(units[i].name);
    }
    return std::string();
  };
  std::string bits = pick(bytes_per_second * 8, kBits, std::size(kBits));
  std::string bytes = pick(bytes_per_second, kBytes, std::size(kBytes));
  return bytes.size() < bits.size() ? bytes : bits;
}

std::string format_size(std::uint64_t bytes) {
  if (bytes == 0) return "0B";
  static constexpr std::pair<const char*, std::uint64_t> kDecimal[] = {
      {"TB", 1'000'000'000'000}, {"GB", 1'000'000'000}, {"MB", 1'000'000}, {"KB", 1'000}};
  static constexpr std::pair<const char*, std::uint64_t> kBinary[] = {
      {"TiB", 1ull << 40}, {"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}};
  std::string decimal = fmt::format("{}B", bytes);
  for (const auto& [name, unit] : kDecimal) {
    if (bytes >= unit && bytes % (unit / 1000) == 0) {
      decimal = with_thousandths(bytes / unit, (bytes % unit) / (unit / 1000)) + name;
      break;
    }
  }
  std::string binary;
  for (const auto& [name, unit] : kBinary) {
    if (bytes >= unit && bytes % unit == 0) {
      binary = fmt::format("{}{}", bytes / unit, name);
      break;
    }
  }
  return !binary.empty() && binary.size() < decimal.size() ? binary : decimal;
}

std::string format_speed(double flops) {
  if (!(flops > 0)) return "0f";
  static constexpr Unit kUnits[] = {{"Pf", 1e15}, {"Tf", 1e12}, {"Gf", 1e9},
                                    {"Mf", 1e6},  {"Kf", 1e3},  {"f", 1}};
  for (const Unit& u : kUnits) {
    if (flops >= u.factor || u.factor == 1)
      return short_number(flops / u.factor) + std::string(u.name);
  }
  return short_number(flops) + "f";
}

std::string format_rate(double per_second) { return short_number(per_second) + "/s"; }

}  // namespace faultline::units
