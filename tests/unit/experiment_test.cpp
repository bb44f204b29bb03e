// The experiment file loader (SCENARIOS.md, "Experiments"; docs/scenarios.md §12): points,
// selectors, references, and bad input located in the experiment file. No simulation here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli/experiment.hpp"

namespace faultline {
namespace {
namespace fs = std::filesystem;

const std::string kBase = std::string(FAULTLINE_SOURCE_DIR) + "/scenarios/papers/raft-figure-16.yaml";

/// Writes an experiment into a temporary directory of its own (ctest runs each test in its own
/// process, in parallel), the base scenario given by a relative path to the library's.
std::string write(const std::string& body) {
  static int count = 0;
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::temp_directory_path() /
                       ("faultline-experiment-test-" + std::to_string(::getpid()) + "-" + test->name());
  fs::create_directories(dir);
  const fs::path file = dir / ("e" + std::to_string(++count) + ".yaml");
  std::ofstream(file) << "name: e\ndescription: test\nbase: " << fs::relative(kBase, dir).string() << "\n" << body;
  return file.string();
}

ScenarioError load_error(const std::string& body) {
  try {
    load_experiment(write(body));
  } catch (const ScenarioError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << body;
  return ScenarioError(SourceLoc{}, "");
}

TEST(Experiment, PointsAreTheSweepCrossedWithTheVariantsAndTrialsAtSelects) {
  const auto e = load_experiment(write(
      "sweep:\n  params.heartbeat_interval: [50ms, 75ms]\n"
      "variants:\n  a: {}\n  b: {params.election_timeout: [150ms, 151ms]}\n"
      "trials: 7\n"
      "trials_at:\n  - {point: {params.heartbeat_interval: 75ms, variant: b}, trials: 3}\n"
      "measure: {election_ms: recovery_time_ms}\n"
      "reference:\n  - {point: {params.heartbeat_interval: 50ms}, variant: a, metric: election_ms.p50, value: 1, tolerance: 15%}\n"));
  const auto points = expand_points(e, std::nullopt);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[0].label, "params.heartbeat_interval=50ms");
  EXPECT_EQ(points[0].variant, "a");
  EXPECT_EQ(points[1].variant, "b");
  EXPECT_EQ(points[3].label, "params.heartbeat_interval=75ms");
  EXPECT_EQ(points[0].trials, 7);
  EXPECT_EQ(points[3].trials, 3);
  EXPECT_EQ(points[3].scenario.params.range("election_timeout").hi, 151 * kMillisecond);
  EXPECT_EQ(points[2].scenario.params.duration("heartbeat_interval"), 75 * kMillisecond);
  EXPECT_EQ(expand_points(e, 2)[3].trials, 2);  // --trials replaces trials_at too
  ASSERT_EQ(e.references.size(), 1u);
  EXPECT_TRUE(e.references[0].tolerance_relative);
  EXPECT_DOUBLE_EQ(*e.references[0].tolerance, 0.15);
}

TEST(Experiment, SelectorsMatchSweepValuesWhateverTheSpacing) {
  const auto e = load_experiment(write(
      "sweep:\n  params.election_timeout: [[150ms, 150ms], [150ms,300ms]]\n"
      "measure: {election_ms: recovery_time_ms}\n"
      "trials_at:\n  - {point: {params.election_timeout: [150ms,150ms]}, trials: 2}\n"));
  const auto points = expand_points(e, std::nullopt);
  EXPECT_EQ(points[0].trials, 2);
  EXPECT_EQ(points[1].trials, 1);
}

TEST(Experiment, BadInputIsLocatedInTheExperimentFile) {
  auto e = load_error("measure: {election_ms: recovery_time_ms}\ntrails: 5\n");
  EXPECT_EQ(e.loc().line, 5);
  EXPECT_NE(e.message().find("unknown key 'trails'"), std::string::npos);
  EXPECT_NE(e.suggestion().find("trials"), std::string::npos);

  e = load_error("measure: {election_ms: recovery_tme_ms}\n");
  EXPECT_NE(e.message().find("unknown metric 'recovery_tme_ms'"), std::string::npos);
  EXPECT_NE(e.suggestion().find("recovery_time_ms"), std::string::npos);

  e = load_error("sweep:\n  params.heartbeat_interval: [50ms, 75ms]\nmeasure: {x: recovery_time_ms}\n"
                 "reference:\n  - {point: {params.heartbeat_interval: 60ms}, metric: x.p50, value: 1, tolerance: 1}\n");
  EXPECT_EQ(e.loc().line, 8);
  EXPECT_NE(e.message().find("not one of the swept values"), std::string::npos);

  e = load_error("measure: {x: recovery_time_ms}\nreference:\n  - {metric: x.p42, value: 1, tolerance: 1}\n");
  EXPECT_NE(e.message().find("unknown statistic 'p42'"), std::string::npos);

  e = load_error("measure: {x: recovery_time_ms}\nreference:\n  - {metric: x.p50, value: 1}\n");
  EXPECT_NE(e.message().find("needs a 'tolerance'"), std::string::npos);

  // Variant overrides are validated by the scenario loader when the points are expanded
  // (before any trial runs), located at the key in the experiment file.
  try {
    expand_points(load_experiment(write("variants:\n  v: {paramz.x: 3}\nmeasure: {x: recovery_time_ms}\n")),
                  std::nullopt);
    ADD_FAILURE() << "no error for an unknown override path";
  } catch (const ScenarioError& err) {
    EXPECT_EQ(err.loc().line, 5);
    EXPECT_NE(err.message().find("paramz"), std::string::npos);
  }

  // A bad value in a sweep is reported where the experiment file writes it, by the scenario
  // loader's own check (here: a bare number where a duration range is expected).
  const std::string file = write("sweep:\n  params.election_timeout: [[150ms, 150ms], 42]\nmeasure: {x: recovery_time_ms}\n");
  try {
    expand_points(load_experiment(file), std::nullopt);
    ADD_FAILURE() << "no error for a bare number in a sweep";
  } catch (const ScenarioError& err) {
    EXPECT_EQ(err.loc().file, file);
    EXPECT_EQ(err.loc().line, 5);
  }
}

TEST(Experiment, MeasureSummaryUsesNearestRankAndListsCensoredSeeds) {
  std::vector<double> values;
  for (int i = 1; i <= 100; ++i) values.push_back(i);
  const auto j = measure_summary(values, {7, 9});
  EXPECT_EQ(j["count"], 100);
  EXPECT_EQ(j["censored"], 2);
  EXPECT_EQ(j["censored_seeds"], nlohmann::json({7, 9}));
  EXPECT_EQ(j["min"], 1.0);
  EXPECT_EQ(j["p10"], 10.0);
  EXPECT_EQ(j["p50"], 50.0);
  EXPECT_EQ(j["p99"], 99.0);
  EXPECT_EQ(j["p999"], 100.0);
  EXPECT_EQ(j["max"], 100.0);
  EXPECT_DOUBLE_EQ(j["mean"].get<double>(), 50.5);
  EXPECT_TRUE(measure_summary({}, {1})["p50"].is_null());
}

}  // namespace
}  // namespace faultline
