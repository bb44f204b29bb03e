// Every fault kind of SCENARIOS.md, run through the real stack (loader, Raft on SimGrid, fault
// controller) in this process; each TEST is its own process (one simulation per process).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>

#include "cli/run.hpp"
#include "cli/scenario.hpp"
#include "cli/scenario_loader.hpp"
#include "reports/operations.hpp"

namespace faultline {
namespace {

std::string scenario_text(const std::string& faults, const std::string& extra = "",
                          const std::string& workload = "{clients: 2, ops: 2000, keys: 3, rpc_timeout: 100ms, client_timeout: 1s}") {
  return "name: fault-test\n"
         "description: a fault kind under test\n"
         "protocol: raft\n"
         "duration: 4s\n"
         "cluster: {nodes: 5, latency: 1ms, bandwidth: 1Gbps}\n"
         "workload: " + workload + "\n" + extra +
         "faults:\n" + faults;
}

Simulation run(const std::string& faults, const std::string& extra = "") {
  return simulate(load_scenario_text(scenario_text(faults, extra), "fault-test.yaml"));
}

std::vector<const EventRecord*> events(const RunRecord& r, const std::string& kind) {
  std::vector<const EventRecord*> out;
  for (const auto& e : r.events)
    if (e.kind == kind) out.push_back(&e);
  return out;
}

/// The leader of the highest term at time t, from became_leader events.
std::string leader_at(const RunRecord& r, Time t) {
  std::string name;
  std::uint64_t term = 0;
  for (const auto& e : r.events)
    if (e.kind == "became_leader" && e.time <= t && e.fields["term"].get<std::uint64_t>() >= term) {
      term = e.fields["term"].get<std::uint64_t>();
      name = r.name(e.node);
    }
  return name;
}

TEST(Faults, CrashLeaderResolvesRoleWhenFiringAndRestartCrashedBringsItBack) {
  const auto s = run("  - {at: 1s, crash: leader}\n  - {at: 2s, restart: crashed}\n");
  ASSERT_EQ(s.record.faults.size(), 2u);
  const std::string old_leader = leader_at(s.record, kSecond);
  ASSERT_TRUE(s.record.faults[0].target);
  EXPECT_EQ(*s.record.faults[0].target, std::vector<std::string>{old_leader});
  EXPECT_EQ(*s.record.faults[1].target, std::vector<std::string>{old_leader});
  EXPECT_NE(leader_at(s.record, 2 * kSecond), old_leader);  // a new leader took over
  bool restarted = false;
  for (auto* e : events(s.record, "restart"))
    if (s.record.name(e->node) == old_leader && e->fields["incarnation"] == 1) restarted = true;
  EXPECT_TRUE(restarted);
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(Faults, ForUndoesACrash) {
  const auto s = run("  - {at: 1s, crash: n2, for: 500ms}\n");
  ASSERT_EQ(s.record.faults.size(), 2u);
  EXPECT_EQ(s.record.faults[1].kind, "restart");
  EXPECT_EQ(s.record.faults[1].time, 1500 * kMillisecond);
}

TEST(Faults, PartitionBlocksBetweenGroupsAndHealAllRemovesIt) {
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 1s, partition: [[n1, n2], [n3, n4, n5]]}\n"
                     "  - {at: 2s, heal: all}\n");
  // n1 (minority side) loses its leadership to the majority side, and nothing commits on the
  // minority side during the partition.
  const std::string during = leader_at(s.record, 2 * kSecond);
  EXPECT_TRUE(during == "n3" || during == "n4" || during == "n5") << during;
  for (auto* e : events(s.record, "committed")) {
    if (e->time > 1010 * kMillisecond && e->time < 2 * kSecond) {
      EXPECT_NE(s.record.name(e->node), "n1");
    }
  }
  EXPECT_GT(s.record.messages_dropped, 0);
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(Faults, IsolateCutsANodeOffFromEveryoneIncludingClients) {
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 1s, isolate: n1, for: 1s}\n");
  EXPECT_NE(leader_at(s.record, 2 * kSecond), "n1");
  ASSERT_EQ(s.record.faults.back().kind, "heal");
  EXPECT_EQ(s.record.faults.back().time, 2 * kSecond);
}

TEST(Faults, CutIsOneWay) {
  // The leader's messages to everyone are cut: followers stop hearing heartbeats and elect
  // another leader, while the old leader still hears them (and so steps down).
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 1s, cut: {from: n1, to: [n2, n3, n4, n5]}}\n");
  EXPECT_NE(leader_at(s.record, 3 * kSecond), "n1");
  bool stepped_down = false;
  for (auto* e : events(s.record, "stepped_down"))
    if (s.record.name(e->node) == "n1") stepped_down = true;
  EXPECT_TRUE(stepped_down);
}

TEST(Faults, SlowLatencyIsAddedToTheNodesLink) {
  const auto s = run("  - {at: 1s, slow: {node: c1, latency: 20ms}, for: 1s}\n");
  // c1's requests and replies each cross its link: +40 ms per round trip during the slow phase.
  std::vector<double> during, before;
  const auto ops = reports::pair_operations(s.record.history);
  for (const auto& op : ops) {
    if (op.outcome != OpType::Ok || op.process % 2 != 0) continue;  // c1 has even process ids
    const double ms = to_ms(*op.complete - op.invoke);
    if (op.invoke > 1100 * kMillisecond && *op.complete < 2 * kSecond) during.push_back(ms);
    if (*op.complete < kSecond && op.invoke > 300 * kMillisecond) before.push_back(ms);
  }
  ASSERT_FALSE(during.empty());
  ASSERT_FALSE(before.empty());
  std::sort(during.begin(), during.end());
  std::sort(before.begin(), before.end());
  EXPECT_GT(during[during.size() / 2], before[before.size() / 2] + 35.0);
}

TEST(Faults, SlowCpuOfTheLeaderSlowsEveryOperation) {
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 1s, slow: {node: n1, cpu: 100}, for: 1s}\n",
                     "params: {election_timeout: [400ms, 800ms]}\n");
  const auto ops = reports::pair_operations(s.record.history);
  std::vector<double> during, before;
  for (const auto& op : ops) {
    if (op.outcome != OpType::Ok) continue;
    const double ms = to_ms(*op.complete - op.invoke);
    if (op.invoke > 1100 * kMillisecond && *op.complete < 2 * kSecond) during.push_back(ms);
    if (*op.complete < kSecond && op.invoke > 300 * kMillisecond) before.push_back(ms);
  }
  ASSERT_FALSE(during.empty());
  std::sort(during.begin(), during.end());
  std::sort(before.begin(), before.end());
  // 10 us per message becomes 1 ms: the leader handles ~6 messages per operation.
  EXPECT_GT(during[during.size() / 2], before[before.size() / 2] + 3.0);
  EXPECT_EQ(s.record.faults.back().kind, "restore");
}

TEST(Faults, NetworkDropOnSomeLinksOnly) {
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 1s, network: {from: n1, to: [n2], drop: 100%}}\n");
  EXPECT_GT(s.record.messages_dropped, 10);
  // Only n1 -> n2 is cut: n2 stops hearing heartbeats and times out; the others never do
  // while n1 leads (without PreVote, n2's higher term then disrupts n1: §9.6 of the thesis).
  Time n2_timeout = kNever;
  for (auto* e : events(s.record, "election_timeout"))
    if (e->time > kSecond && s.record.name(e->node) == "n2") n2_timeout = std::min(n2_timeout, e->time);
  ASSERT_NE(n2_timeout, kNever);
  for (auto* e : events(s.record, "election_timeout"))
    if (e->time > kSecond && e->time < n2_timeout) ADD_FAILURE() << s.record.name(e->node) << " timed out";
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(Faults, NetworkDuplicateAndDelayThenReliable) {
  const auto s = run("  - {at: 0s, network: {duplicate: 50%, delay: [0ms, 20ms]}}\n"
                     "  - {at: 2s, network: reliable}\n");
  EXPECT_GT(s.record.messages_duplicated, 100);
  EXPECT_TRUE(s.record.violations.empty());
  const auto ops = reports::pair_operations(s.record.history);
  double max_after = 0;
  for (const auto& op : ops)
    if (op.outcome == OpType::Ok && op.invoke > 2100 * kMillisecond)
      max_after = std::max(max_after, to_ms(*op.complete - op.invoke));
  EXPECT_LT(max_after, 15.0);  // reliable again: no extra delay
}

TEST(Faults, LongDelayDelaysThatFractionOfMessages) {
  const auto s = run("  - {at: 1s, network: {long_delay: {p: 50%, delay: [200ms, 300ms]}}, for: 1s}\n",
                     "params: {election_timeout: [1s, 2s], heartbeat_interval: 100ms}\n");
  const auto ops = reports::pair_operations(s.record.history);
  double max_latency = 0;
  for (const auto& op : ops)
    if (op.outcome == OpType::Ok) max_latency = std::max(max_latency, to_ms(*op.complete - op.invoke));
  EXPECT_GT(max_latency, 200.0);
}

TEST(Faults, RandomAtIsDrawnWithinTheRange) {
  const auto s = run("  - {at: [1s, 2s], crash: n3}\n");
  ASSERT_EQ(s.record.faults.size(), 1u);
  EXPECT_GE(s.record.faults[0].time, kSecond);
  EXPECT_LE(s.record.faults[0].time, 2 * kSecond);
  EXPECT_NE(s.record.faults[0].time, kSecond);
}

TEST(Faults, ATargetThatMatchesNobodyIsRecordedNotIgnored) {
  const auto s = run("  - {at: 1s, restart: crashed}\n  - {at: 1s, elect: candidate}\n");
  ASSERT_EQ(s.record.faults.size(), 2u);
  EXPECT_FALSE(s.record.faults[0].target.has_value());
  EXPECT_FALSE(s.record.faults[1].target.has_value());
}

TEST(Faults, RandomNPicksDistinctServers) {
  const auto s = run("  - {at: 1s, crash: random-2}\n");
  ASSERT_TRUE(s.record.faults[0].target);
  const auto t = *s.record.faults[0].target;
  ASSERT_EQ(t.size(), 2u);
  EXPECT_NE(t[0], t[1]);
  for (const auto& n : t) EXPECT_EQ(n[0], 'n');
}

TEST(Faults, ElectMakesThatNodeStartAnElectionNow) {
  const auto s = run("  - {at: 1s, elect: n4}\n");
  EXPECT_EQ(leader_at(s.record, 1100 * kMillisecond), "n4");
}

TEST(Faults, NemesisRestoresEverythingAtUntil) {
  const auto s = run("  - {at: 200ms, nemesis: {faults: [crash, partition], every: [100ms, 200ms], until: 2s}}\n");
  int nemesis_faults = 0;
  for (const auto& f : s.record.faults)
    if (f.note.rfind("nemesis", 0) == 0) ++nemesis_faults;
  EXPECT_GE(nemesis_faults, 5);
  EXPECT_EQ(s.record.faults.back().kind, "nemesis-end");
  // After `until`, the cluster is whole again and commits.
  bool committed_after = false;
  for (auto* e : events(s.record, "committed"))
    if (e->time > 2500 * kMillisecond) committed_after = true;
  EXPECT_TRUE(committed_after);
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(Faults, StopWhenEndsTheRunOnceItHolds) {
  const auto s = run("  - {at: 1s, crash: leader}\n", "stop_when: leader_changes >= 1\n");
  EXPECT_TRUE(s.record.stopped_early);
  EXPECT_LT(s.record.end_time, 2 * kSecond);
  EXPECT_GT(s.record.end_time, kSecond);
}

TEST(Faults, NetworkKindsDropsOnlyThoseMessages) {
  // n4 stops receiving entries from n1 but still hears its heartbeats: its log falls behind
  // while it never times out (the Figure 16 setup: scenarios/papers/raft-figure-16.yaml).
  const auto s = run("  - {at: 0s, elect: n1}\n"
                     "  - {at: 200ms, network: {from: n1, to: n4, drop: 100%, kinds: [append_entries]}}\n");
  EXPECT_GT(s.record.messages_dropped, 10);
  for (auto* e : events(s.record, "election_timeout"))
    if (e->time > 200 * kMillisecond) ADD_FAILURE() << s.record.name(e->node) << " timed out";
  std::uint64_t n4_applied = 0, n2_applied = 0;
  for (auto* e : events(s.record, "applied")) {
    const auto index = e->fields["index"].get<std::uint64_t>();
    if (s.record.name(e->node) == "n4") n4_applied = std::max(n4_applied, index);
    if (s.record.name(e->node) == "n2") n2_applied = std::max(n2_applied, index);
  }
  // n4 stops at what it had at 200 ms; n2 goes on for 3.8 s more.
  EXPECT_GT(n2_applied, 100u);
  EXPECT_LT(n4_applied * 4, n2_applied);
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(Faults, HeartbeatMakesTheLeaderBroadcastNow) {
  // A 1 s heartbeat interval: without the fault, n1 would stay silent from 0.1 s to ~1 s.
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 500ms, heartbeat: leader}\n",
                     "params: {election_timeout: [3s, 4s], heartbeat_interval: 1s}\n");
  auto heard = events(s.record, "heartbeat_broadcast");
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(s.record.name(heard[0]->node), "n1");
  EXPECT_GE(heard[0]->time, 500 * kMillisecond);
  EXPECT_LT(heard[0]->time, 600 * kMillisecond);  // now, not at the next periodic one (~1 s)
}

TEST(Faults, RecoveryTimeRunsFromTheLeaderCrashUntilEveryoneHeardTheNewLeader) {
  const auto s = run("  - {at: 0s, elect: n1}\n  - {at: 1s, crash: leader}\n",
                     "stop_when: recovered_after_crash == 1\n");
  EXPECT_TRUE(s.record.stopped_early);
  EXPECT_EQ(s.protocol_metrics["recovered_after_crash"], 1);
  const double recovery = s.protocol_metrics["recovery_time_ms"].get<double>();
  const double elected = s.protocol_metrics["recovery_leader_ms"].get<double>();
  EXPECT_GE(recovery, elected);
  EXPECT_GT(elected, 150.0);  // at least the minimum election timeout after the last heartbeat
  // Every surviving server heard the new leader by then.
  std::set<std::string> heard;
  for (auto* e : events(s.record, "leader_heard"))
    if (e->time > kSecond && e->time <= kSecond + from_seconds(recovery / 1000) + 1)
      heard.insert(s.record.name(e->node));
  EXPECT_EQ(heard.size(), 3u);  // the 4 survivors but the new leader itself
}

TEST(Faults, ProcessingTimeDelaysEveryEvent) {
  // Without `processing` every put of this cluster takes 8.06 ms (4 one-way trips of 2 ms plus
  // message costs). A request crosses the client, the leader, the followers (in parallel) and
  // the leader again: at least 4 events of 1-2 ms each on its path. (One simulation per
  // process: the baseline is that known figure, not a second run.)
  const std::string text = scenario_text("  - {at: 0s, elect: n1}\n");
  const auto at = text.find("cluster: {");
  const auto s = simulate(load_scenario_text(
      std::string(text).replace(at, 10, "cluster: {processing: [1ms, 2ms], "), "slow.yaml"));
  std::vector<double> l;
  for (const auto& op : reports::pair_operations(s.record.history))
    if (op.outcome == OpType::Ok) l.push_back(to_ms(*op.complete - op.invoke));
  ASSERT_FALSE(l.empty());
  std::sort(l.begin(), l.end());
  EXPECT_GT(l[l.size() / 2], 8.06 + 4.0);
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(Faults, ClientsAreTargetedByNameOnly) {
  const auto s = run("  - {at: 1s, isolate: c1, for: 2s}\n");
  ASSERT_TRUE(s.record.faults[0].target);
  EXPECT_EQ(*s.record.faults[0].target, std::vector<std::string>{"c1"});
  std::int64_t info = 0;
  for (const auto& h : s.record.history)
    if (h.type == OpType::Info) ++info;
  EXPECT_GE(info, 1);  // c1's operation timed out while it was cut off
}

TEST(Workload, OpenLoopRateGivesEveryOperationItsOwnProcess) {
  const auto s = simulate(load_scenario_text(
      scenario_text("  - {at: 2s, crash: leader}\n", "",
                    "{clients: 2, rate: 200/s, keys: 3, rpc_timeout: 100ms, client_timeout: 1s}"),
      "open-loop.yaml"));
  std::map<std::int64_t, int> invokes;
  for (const auto& h : s.record.history)
    if (h.type == OpType::Invoke) ++invokes[h.process];
  // ~200/s over 4 s; Poisson arrivals keep going while the leader is down (open loop).
  EXPECT_GT(invokes.size(), 600u);
  EXPECT_LT(invokes.size(), 1000u);
  for (const auto& [process, n] : invokes) EXPECT_EQ(n, 1) << "process " << process;
  EXPECT_TRUE(s.record.violations.empty());
}

}  // namespace
}  // namespace faultline
