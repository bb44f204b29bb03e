// SafetyMonitor catches each Figure 3 property breach once. Breaches are fabricated with
// single-server "clusters" that each elect themselves and commit on their own: the monitor does
// not know they are not one cluster, exactly like servers of a broken Raft variant.
#include <gtest/gtest.h>

#include <algorithm>

#include "protocols/raft/monitor.hpp"
#include "tests/harness/raft_test_util.hpp"

namespace faultline::raft {
namespace {

using testing::put;
using testing::stored;

/// Server `id` alone in its cluster, recovered from `ps`.
Node solo(NodeId id, const PersistentState& ps = {}) {
  return Node(id, {id}, testing::test_config(), Rng(1).fork("solo"), ps, 0);
}

/// Elects a solo node (it commits and applies its whole log at once) and lets the monitor see it.
void elect_and_observe(SafetyMonitor& m, Node& n, Time now) {
  Node::Out out;
  n.control(Control::Elect, now, out);
  ASSERT_EQ(n.role(), Role::Leader);
  m.observe(n, out.events, now);
}

int count(const SafetyMonitor& m, const std::string& check) {
  return static_cast<int>(std::count_if(m.violations().begin(), m.violations().end(),
                                        [&](const Violation& v) { return v.check == check; }));
}

TEST(RaftMonitor, ElectionSafety_TwoLeadersInOneTermRecordedOnce_5_2) {
  SafetyMonitor m;
  Node a = solo(0), b = solo(1);
  elect_and_observe(m, a, 1);
  elect_and_observe(m, b, 2);
  ASSERT_EQ(m.violations().size(), 1u);
  const Violation& v = m.violations()[0];
  EXPECT_EQ(v.check, "election_safety");
  EXPECT_EQ(v.term, 1u);
  EXPECT_EQ(v.nodes, (std::vector<NodeId>{0, 1}));
  EXPECT_EQ(v.time, 2);
  // Seeing the same breach again adds nothing.
  Node::Out again;
  again.emit("became_leader", {{"term", 1}, {"last_log_index", 0}});
  m.observe(b, again.events, 3);
  m.observe(a, again.events, 4);
  EXPECT_EQ(m.violations().size(), 1u);
}

TEST(RaftMonitor, LogMatching_SameIndexAndTermDifferentCommand_5_3) {
  SafetyMonitor m;
  Node a = solo(0, stored(1, {LogEntry{1, put("x", "a")}}));
  Node b = solo(1, stored(1, {LogEntry{1, put("x", "b")}}));
  m.observe(a, {}, 0);
  m.observe(b, {}, 0);
  ASSERT_EQ(count(m, "log_matching"), 1);
  EXPECT_EQ(m.violations()[0].index, 1u);
  EXPECT_EQ(m.violations()[0].term, 1u);
  m.observe(b, {}, 1);  // incremental: nothing new to record
  EXPECT_EQ(m.violations().size(), 1u);
}

TEST(RaftMonitor, LogMatching_SameEntryAfterDifferentPrecedingTerm_5_3) {
  SafetyMonitor m;
  const LogEntry shared{3, put("x", "same")};
  Node a = solo(0, stored(3, {LogEntry{1, put("x", "1")}, shared}));
  Node b = solo(1, stored(3, {LogEntry{2, put("x", "2")}, shared}));
  m.observe(a, {}, 0);
  m.observe(b, {}, 0);
  ASSERT_EQ(count(m, "log_matching"), 1);
  EXPECT_EQ(m.violations()[0].index, 2u);
}

TEST(RaftMonitor, StateMachineSafety_DifferentCommandsAppliedAtOneIndex_5_4_3) {
  SafetyMonitor m;
  Node a = solo(0, stored(1, {LogEntry{1, put("x", "a")}}));
  Node b = solo(1, stored(1, {LogEntry{1, put("x", "b")}}));
  elect_and_observe(m, a, 1);
  elect_and_observe(m, b, 2);
  EXPECT_EQ(count(m, "state_machine_safety"), 1);
  EXPECT_EQ(count(m, "log_matching"), 1);
  EXPECT_EQ(count(m, "election_safety"), 1) << "both lead term 2";
}

TEST(RaftMonitor, LeaderCompleteness_NewLeaderLacksCommittedEntry_5_4) {
  SafetyMonitor m;
  Node a = solo(0, stored(1, {LogEntry{1, put("x", "a")}}));
  elect_and_observe(m, a, 1);  // term 2: commits index 1 and its Noop
  ASSERT_EQ(a.commit_index(), 2u);
  Node b = solo(1, stored(5, {}));
  elect_and_observe(m, b, 2);  // term 6 with an empty log
  ASSERT_EQ(count(m, "leader_completeness"), 1);
  const auto it = std::find_if(m.violations().begin(), m.violations().end(),
                               [](const Violation& v) { return v.check == "leader_completeness"; });
  EXPECT_EQ(it->term, 6u);
  EXPECT_NE(it->detail.find("entry 1"), std::string::npos) << it->detail;
}

TEST(RaftMonitor, NoViolationsForConsistentServers) {
  SafetyMonitor m;
  const std::vector<LogEntry> log = {LogEntry{1, put("x", "a")}, LogEntry{2, put("y", "b")}};
  Node a = solo(0, stored(2, log));
  Node b = solo(1, stored(2, log));
  m.observe(a, {}, 0);
  m.observe(b, {}, 0);
  elect_and_observe(m, a, 1);  // leader of term 3
  EXPECT_TRUE(m.violations().empty());
}

TEST(RaftMonitor, NoLostWrite_AckedWriteInFewerThanAMajorityOfLogs) {
  SafetyMonitor m;
  const Command first = put("x", "v", /*client_id=*/9, /*seq=*/1);
  Command second = put("x", "w", /*client_id=*/9, /*seq=*/2);
  second.op = Command::Op::Append;
  // (9,1) is on two of three logs (committed), (9,2) on one only (lost).
  const PersistentState s1 = stored(1, {LogEntry{1, first}, LogEntry{1, second}});
  const PersistentState s2 = stored(1, {LogEntry{1, first}});
  const PersistentState s3 = stored(1, {});
  std::vector<AckedWrite> acked = {AckedWrite{9, 1, "put", "x", "v"},
                                   AckedWrite{9, 2, "append", "x", "w;"}};
  m.check_no_lost_writes(acked, {&s1, &s2, &s3}, 10);
  ASSERT_EQ(count(m, "no_lost_write"), 1);
  EXPECT_NE(m.violations().back().detail.find("seq 2"), std::string::npos);
  EXPECT_EQ(m.violations().back().detail.find("seq 1"), std::string::npos);
  m.check_no_lost_writes(acked, {&s1, &s2, &s3}, 11);
  EXPECT_EQ(count(m, "no_lost_write"), 1) << "deduplicated";
}

TEST(RaftMonitor, NoLostWrite_CommittedButNotYetAppliedAnywhereIsNotLost) {
  // The leader committed, answered and crashed before any follower learned the new
  // commit_index: no live server applied the write, yet it is on a majority of logs and every
  // later leader has it (§5.4), so it is not lost.
  SafetyMonitor m;
  const Command w = put("x", "v", 9, 1);
  const PersistentState leader = stored(1, {LogEntry{1, w}});
  const PersistentState follower = stored(1, {LogEntry{1, w}});
  const PersistentState behind = stored(1, {});
  m.check_no_lost_writes({AckedWrite{9, 1, "put", "x", "v"}}, {&leader, &follower, &behind}, 5);
  EXPECT_EQ(count(m, "no_lost_write"), 0);
}

}  // namespace
}  // namespace faultline::raft
