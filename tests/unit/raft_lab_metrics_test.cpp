// reports/raft_lab_metrics: RPC counts and rates from the per-kind send buckets, and agreement
// across servers from events (the MIT 6.824 lab checks, scenarios/raft/labs/).
#include <gtest/gtest.h>

#include "reports/raft_metrics.hpp"

namespace faultline::reports {
namespace {

constexpr Duration kBucket = RunRecord::kMessageBucket;

RunRecord three_servers_and_a_client() {
  RunRecord record;
  record.nodes = {{0, "n1", NodeKind::Server},
                  {1, "n2", NodeKind::Server},
                  {2, "n3", NodeKind::Server},
                  {3, "c1", NodeKind::Client}};
  return record;
}

/// Sends `n` messages of `kind` at time `t` through the same counter the transport uses.
void send(RunRecord& record, const std::string& kind, Time t, int n = 1) {
  for (int i = 0; i < n; ++i) record.count_sent(kind, t);
}

TEST(RaftLabMetrics, CountSentBucketsEachKindPerTenMilliseconds) {
  RunRecord record;
  send(record, "heartbeat", 0);
  send(record, "heartbeat", kBucket - 1);
  send(record, "heartbeat", 3 * kBucket + 5, 2);
  EXPECT_EQ(record.messages_sent["heartbeat"], 4);
  EXPECT_EQ(record.messages_sent_per_bucket["heartbeat"], (std::vector<std::uint32_t>{2, 0, 0, 2}));
}

TEST(RaftLabMetrics, TotalCountsServerMessagesOnlyAndFirstLeaderIncludesItsBucket) {
  RunRecord record = three_servers_and_a_client();
  send(record, "request_vote", 200 * kMillisecond, 2);
  send(record, "request_vote_reply", 202 * kMillisecond, 2);
  record.events.push_back({204 * kMillisecond, 0, "became_leader", {{"term", 1}}});
  send(record, "append_entries", 205 * kMillisecond, 2);  // the no-op, in the same 10 ms bucket
  send(record, "append_entries_reply", 212 * kMillisecond, 2);  // the next bucket
  send(record, "client_request", 300 * kMillisecond, 5);
  send(record, "client_reply", 310 * kMillisecond, 5);
  record.end_time = 500 * kMillisecond;
  const auto m = raft_metrics(record);
  EXPECT_EQ(m["rpcs"]["total"], 8);
  EXPECT_EQ(m["rpcs"]["client_request"], 5);
  EXPECT_EQ(m["rpcs_to_first_leader"], 6);
  // The run ends less than 1 s after the first leader: no complete window.
  EXPECT_TRUE(m["rpcs_per_s_max"].is_null());
  EXPECT_TRUE(m["idle_rpcs_per_s_max"].is_null());
}

TEST(RaftLabMetrics, NoLeaderGivesNullRpcCountsButATotal) {
  RunRecord record = three_servers_and_a_client();
  send(record, "request_vote", 200 * kMillisecond, 2);
  record.end_time = 3 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_EQ(m["rpcs"]["total"], 2);
  EXPECT_TRUE(m["rpcs_to_first_leader"].is_null());
  EXPECT_TRUE(m["rpcs_per_s_max"].is_null());
}

TEST(RaftLabMetrics, BusiestSecondAndIdleSecondsExcludeClientTrafficAndFaults) {
  RunRecord record = three_servers_and_a_client();
  record.events.push_back({100 * kMillisecond, 0, "became_leader", {{"term", 1}}});
  // Heartbeats: 4 messages every 100 ms (2 AppendEntries and 2 replies) from 0.1 s to 5 s.
  for (Time t = 100 * kMillisecond; t < 5 * kSecond; t += 100 * kMillisecond) {
    send(record, "heartbeat", t, 2);
    send(record, "append_entries_reply", t + 2 * kMillisecond, 2);
  }
  // A burst of client writes in [1 s, 1.5 s): 30 replicated entries more.
  for (Time t = kSecond; t < 1500 * kMillisecond; t += 50 * kMillisecond) {
    send(record, "client_request", t);
    send(record, "append_entries", t + kMillisecond, 2);
    send(record, "append_entries_reply", t + 3 * kMillisecond, 1);
    send(record, "client_reply", t + 4 * kMillisecond);
  }
  // A fault at 3.5 s and the election it causes at 3.505 s: every window with the election also
  // holds the fault, so it is not idle.
  record.faults.push_back({3500 * kMillisecond, 0, "crash", "n3", std::vector<std::string>{"n3"}, ""});
  send(record, "request_vote", 3505 * kMillisecond, 50);
  record.end_time = 5 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_EQ(m["rpcs_per_s_max"], 40 + 50);  // a second with the election
  EXPECT_EQ(m["idle_rpcs_per_s_max"], 40);  // 10 heartbeat rounds of 4 messages
}

TEST(RaftLabMetrics, CommitIndexMinIsOverServersUpAtTheEnd) {
  RunRecord record = three_servers_and_a_client();
  record.events.push_back({kSecond, 0, "committed", {{"index", 10}, {"term", 1}}});
  record.events.push_back({kSecond, 1, "committed", {{"index", 9}, {"term", 1}}});
  record.events.push_back({kSecond, 2, "committed", {{"index", 8}, {"term", 1}}});
  record.events.push_back({2 * kSecond, 2, "crash", nlohmann::json::object()});
  record.end_time = 3 * kSecond;
  EXPECT_EQ(raft_metrics(record)["commit_index_min"], 9);  // n3 is down
  record.events.push_back({3 * kSecond, 2, "restart", nlohmann::json::object()});
  EXPECT_EQ(raft_metrics(record)["commit_index_min"], 0);  // back, but has not learnt it yet
  record.events.push_back({3 * kSecond, 2, "committed", {{"index", 10}, {"term", 1}}});
  EXPECT_EQ(raft_metrics(record)["commit_index_min"], 9);
}

TEST(RaftLabMetrics, CommitAfterHealWaitsForTheHighestCommitIndexToAdvance) {
  RunRecord record = three_servers_and_a_client();
  record.events.push_back({0, 0, "committed", {{"index", 5}, {"term", 1}}});
  record.events.push_back({kSecond, kNoNode, "fault", {{"fault", "heal"}, {"target", {"n1", "n2", "n3"}}}});
  // A follower catching up to index 5 is not progress; index 6 at 1.25 s is.
  record.events.push_back({kSecond + 100 * kMillisecond, 1, "committed", {{"index", 5}, {"term", 1}}});
  record.events.push_back({kSecond + 250 * kMillisecond, 0, "committed", {{"index", 6}, {"term", 2}}});
  // A heal that matched nobody is not a heal; one never followed by a commit gives no sample.
  record.events.push_back({2 * kSecond, kNoNode, "fault", {{"fault", "heal"}, {"target", nullptr}}});
  record.events.push_back({3 * kSecond, kNoNode, "fault", {{"fault", "nemesis-end"}, {"target", {"n1"}}}});
  record.end_time = 4 * kSecond;
  const auto m = raft_metrics(record);
  EXPECT_EQ(m["commit_after_heal_ms"]["count"], 1);
  EXPECT_DOUBLE_EQ(m["commit_after_heal_ms"]["max"].get<double>(), 250.0);
}

}  // namespace
}  // namespace faultline::reports
