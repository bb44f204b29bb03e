// Protocol parameters as data: each protocol declares its `params:` keys (type, default, unit,
// meaning) once; the scenario loader validates a scenario against that schema and hands the
// protocol a ParamValues map from which it builds its typed Config (STYLE.md, point 8).
// `faultline explain PROTOCOL` prints the same schema.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/time.hpp"

namespace faultline {

enum class ParamType {
  Duration,       // 50ms
  DurationRange,  // [150ms, 300ms] or a single duration (fixed)
  Integer,        // 42
  Real,           // 1.5
  Probability,    // 0.1 or 10%
  Bool,           // true / false
  String,         // one of `choices` when choices is not empty
  StringList,     // [a, b]; each one of `choices` when choices is not empty
  Size,           // 64MB
  Bandwidth,      // 1Gbps
};

const char* to_string(ParamType type);

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::Integer;
  std::string default_yaml;  // the default as it would be written in YAML ("[150ms, 300ms]")
  std::string help;          // one line: meaning and unit
  std::optional<double> min; // inclusive lower bound (for durations: nanoseconds)
  std::optional<double> max; // inclusive upper bound
  std::vector<std::string> choices;
};

struct DurationRange {
  Duration lo = 0;
  Duration hi = 0;
};

// Duration and std::int64_t are the same type, so the variant holds it twice: alternative 0 is a
// Duration, alternative 2 an Integer. Build those two with std::in_place_index<0> / <2> (or the
// set_duration / set_integer helpers); a bare int64 would be ambiguous.
using ParamValue = std::variant<Duration, DurationRange, std::int64_t, double, bool, std::string,
                                std::vector<std::string>, std::uint64_t>;
inline constexpr std::size_t kParamDurationIndex = 0;
inline constexpr std::size_t kParamIntegerIndex = 2;

/// Validated parameter values: every declared key is present (defaults filled in).
class ParamValues {
 public:
  void set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }
  void set_duration(const std::string& name, Duration d) {
    set(name, ParamValue(std::in_place_index<kParamDurationIndex>, d));
  }
  void set_integer(const std::string& name, std::int64_t n) {
    set(name, ParamValue(std::in_place_index<kParamIntegerIndex>, n));
  }
  bool has(const std::string& name) const { return values_.count(name) != 0; }

  Duration duration(const std::string& name) const {
    return std::get<kParamDurationIndex>(at(name));
  }
  DurationRange range(const std::string& name) const { return std::get<DurationRange>(at(name)); }
  std::int64_t integer(const std::string& name) const {
    return std::get<kParamIntegerIndex>(at(name));
  }
  double real(const std::string& name) const { return std::get<double>(at(name)); }
  bool flag(const std::string& name) const { return std::get<bool>(at(name)); }
  const std::string& text(const std::string& name) const { return std::get<std::string>(at(name)); }
  const std::vector<std::string>& list(const std::string& name) const {
    return std::get<std::vector<std::string>>(at(name));
  }
  std::uint64_t size(const std::string& name) const { return std::get<std::uint64_t>(at(name)); }

  const std::map<std::string, ParamValue>& all() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const { return values_.at(name); }
  std::map<std::string, ParamValue> values_;
};

}  // namespace faultline
