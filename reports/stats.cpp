#include "reports/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace faultline::reports {

double nearest_rank(const std::vector<double>& sorted, double p) {
  const auto n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

Stats summarize(std::vector<double> values) {
  Stats s;
  s.count = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  s.min = values.front();
  s.max = values.back();
  s.p50 = nearest_rank(values, 50);
  s.p90 = nearest_rank(values, 90);
  s.p99 = nearest_rank(values, 99);
  s.p999 = nearest_rank(values, 99.9);
  return s;
}

nlohmann::json to_json(const Stats& s) {
  auto v = [&](double x) { return s.count ? nlohmann::json(x) : nlohmann::json(nullptr); };
  return {{"count", s.count}, {"mean", v(s.mean)}, {"min", v(s.min)},   {"p50", v(s.p50)},
          {"p90", v(s.p90)},  {"p99", v(s.p99)},   {"p999", v(s.p999)}, {"max", v(s.max)}};
}

}  // namespace faultline::reports
