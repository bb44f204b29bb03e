// reports/: statistics, operations, phases, expectations and Raft metrics from events.
#include <gtest/gtest.h>

#include "reports/operations.hpp"
#include "reports/raft_metrics.hpp"
#include "reports/report.hpp"
#include "reports/stats.hpp"

namespace faultline::reports {
namespace {

TEST(Stats, NearestRankPercentiles) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  const Stats s = summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p90, 90);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.p999, 100);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
}

TEST(Stats, EmptyGivesNulls) {
  const auto j = to_json(summarize({}));
  EXPECT_EQ(j["count"], 0);
  EXPECT_TRUE(j["p50"].is_null());
}

HistoryEntry entry(std::int64_t process, OpType type, Time t) {
  HistoryEntry h;
  h.process = process;
  h.type = type;
  h.f = "put";
  h.time = t;
  return h;
}

TEST(Operations, PairsInvocationsWithCompletionsAndCountsOpenAsInfo) {
  std::vector<HistoryEntry> history = {entry(0, OpType::Invoke, 0), entry(1, OpType::Invoke, 1 * kMillisecond),
                                       entry(0, OpType::Ok, 3 * kMillisecond), entry(1, OpType::Info, 9 * kMillisecond),
                                       entry(2, OpType::Invoke, 10 * kMillisecond)};
  const auto ops = pair_operations(history);
  ASSERT_EQ(ops.size(), 3u);
  const auto m = operation_metrics(ops, {});
  EXPECT_EQ(m["ops_ok"], 1);
  EXPECT_EQ(m["ops_info"], 2);
  EXPECT_DOUBLE_EQ(m["latency_ms"]["max"].get<double>(), 3.0);
}

TEST(Operations, PhasesSplitAtFaultInstants) {
  RunRecord record;
  record.end_time = 10 * kSecond;
  FaultRecord f;
  f.time = 2 * kSecond;
  f.kind = "crash";
  f.target = std::vector<std::string>{"n1"};
  record.faults.push_back(f);
  const auto phases = phases_of(record);
  ASSERT_EQ(phases.size(), 2u);
  EXPECT_EQ(phases[0].name, "before any fault");
  EXPECT_EQ(phases[1].name, "after crash n1");
  EXPECT_EQ(phases[1].end, 10 * kSecond);
}

TEST(Expectations, EvaluatesDottedPathsAndReportsMissingValues) {
  nlohmann::json report = {{"latency_ms", {{"p99", 12.5}}}, {"election_time_ms", {{"max", nullptr}}}};
  EXPECT_TRUE(evaluate({"latency_ms.p99 < 20", "latency_ms.p99", "<", 20}, report)["ok"].get<bool>());
  EXPECT_FALSE(evaluate({"latency_ms.p99 > 20", "latency_ms.p99", ">", 20}, report)["ok"].get<bool>());
  const auto missing = evaluate({"election_time_ms.max < 1000", "election_time_ms.max", "<", 1000}, report);
  EXPECT_FALSE(missing["ok"].get<bool>());
  EXPECT_TRUE(missing.contains("reason"));
}

TEST(ExitCodes, FollowTheTableOfScenariosMd) {
  const nlohmann::json pass = {{"expectations", {{{"ok", true}}}}, {"checks", {{{"ok", false}}}}};
  EXPECT_EQ(run_exit_code(pass, true), 0);  // with expect: only the expectations decide
  const nlohmann::json fail = {{"expectations", {{{"ok", true}}, {{"ok", false}}}}, {"checks", nlohmann::json::array()}};
  EXPECT_EQ(run_exit_code(fail, true), 1);
  const nlohmann::json violated = {{"expectations", nlohmann::json::array()}, {"checks", {{{"ok", nullptr}}, {{"ok", false}}}}};
  EXPECT_EQ(run_exit_code(violated, false), 1);  // a failed check wins over an unknown one
  const nlohmann::json unknown = {{"expectations", nlohmann::json::array()}, {"checks", {{{"ok", nullptr}}, {{"ok", true}}}}};
  EXPECT_EQ(run_exit_code(unknown, false), 3);
  const nlohmann::json clean = {{"expectations", nlohmann::json::array()}, {"checks", {{{"ok", true}}}}};
  EXPECT_EQ(run_exit_code(clean, false), 0);
}

TEST(RaftMetrics, ElectionTimeRunsFromLeaderCrashToNextLeader) {
  RunRecord record;
  record.nodes = {{0, "n1", NodeKind::Server}, {1, "n2", NodeKind::Server}, {2, "n3", NodeKind::Server}};
  record.events.push_back({100 * kMillisecond, 0, "became_leader", {{"term", 1}}});
  record.events.push_back({2 * kSecond, 0, "crash", nlohmann::json::object()});
  record.events.push_back({2 * kSecond + 250 * kMillisecond, 1, "became_leader", {{"term", 2}}});
  record.end_time = 5 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_EQ(m["elections"], 2);
  EXPECT_EQ(m["leader_changes"], 1);
  EXPECT_EQ(m["terms"], 2);
  EXPECT_DOUBLE_EQ(m["first_leader_ms"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(m["election_time_ms"]["max"].get<double>(), 250.0);
  EXPECT_DOUBLE_EQ(m["unavailable_ms"].get<double>(), 350.0);
}

TEST(RaftMetrics, MinorityPartitionOfTheLeaderIsALeaderLoss) {
  RunRecord record;
  record.nodes = {{0, "n1", NodeKind::Server}, {1, "n2", NodeKind::Server}, {2, "n3", NodeKind::Server}};
  record.events.push_back({0, 0, "became_leader", {{"term", 1}}});
  record.events.push_back({kSecond, kNoNode, "fault",
                           {{"fault", "partition"}, {"target", {"n1", "n2", "n3"}}, {"groups", {{"n1"}, {"n2", "n3"}}}}});
  record.events.push_back({kSecond + 300 * kMillisecond, 2, "became_leader", {{"term", 2}}});
  record.end_time = 2 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_DOUBLE_EQ(m["election_time_ms"]["max"].get<double>(), 300.0);
}

TEST(RaftMetrics, FollowerCrashesThatTakeAwayTheMajorityMakeTheClusterUnavailable) {
  RunRecord record;
  record.nodes = {{0, "n1", NodeKind::Server}, {1, "n2", NodeKind::Server}, {2, "n3", NodeKind::Server}};
  record.events.push_back({0, 0, "became_leader", {{"term", 1}}});
  record.events.push_back({kSecond, 1, "crash", nlohmann::json::object()});
  EXPECT_EQ(raft_metrics([&] { auto r = record; r.end_time = 3 * kSecond; return r; }())["unavailable_ms"], 0.0);
  record.events.push_back({2 * kSecond, 2, "crash", nlohmann::json::object()});  // 1 of 3 up
  record.events.push_back({2500 * kMillisecond, 2, "restart", nlohmann::json::object()});
  record.events.push_back({2600 * kMillisecond, 0, "committed", {{"index", 9}, {"term", 1}}});
  record.end_time = 3 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_DOUBLE_EQ(m["unavailable_ms"].get<double>(), 600.0);
  EXPECT_EQ(m["leader_at_end"], 1);
}

TEST(RaftMetrics, LeaderThatCommitsAgainAfterAHealIsNotLost) {
  RunRecord record;
  record.nodes = {{0, "n1", NodeKind::Server}, {1, "n2", NodeKind::Server}, {2, "n3", NodeKind::Server}};
  record.events.push_back({0, 0, "became_leader", {{"term", 1}}});
  record.events.push_back({kSecond, kNoNode, "fault",
                           {{"fault", "partition"}, {"target", {"n1", "n2", "n3"}}, {"groups", {{"n1"}, {"n2", "n3"}}}}});
  record.events.push_back({kSecond + 100 * kMillisecond, 0, "committed", {{"index", 7}, {"term", 1}}});
  record.end_time = 2 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_EQ(m["leader_at_end"], 1);
  EXPECT_EQ(m["election_time_ms"]["count"], 0);
  EXPECT_DOUBLE_EQ(m["unavailable_ms"].get<double>(), 100.0);
}

}  // namespace
}  // namespace faultline::reports
