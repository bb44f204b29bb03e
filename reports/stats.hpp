// Descriptive statistics with nearest-rank percentiles (SCENARIOS.md: latency_ms over ok ops).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

namespace faultline::reports {

struct Stats {
  std::size_t count = 0;
  double mean = 0, min = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
};

/// Nearest-rank percentile of sorted data: the smallest value with at least p% of the data at or
/// below it. `sorted` must be non-empty.
double nearest_rank(const std::vector<double>& sorted, double p);
Stats summarize(std::vector<double> values);
/// {count, mean, min, p50, p90, p99, p999, max}; every value null when count == 0.
nlohmann::json to_json(const Stats& stats);

}  // namespace faultline::reports
