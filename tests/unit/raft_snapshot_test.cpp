// Log compaction (extended paper §7, Figures 12 and 13; thesis ch. 5): snapshots taken at the
// threshold, the log stored with an offset, recovery from snapshot + log, InstallSnapshot with
// Figure 13's retain/discard rules, stale and duplicate snapshots, at-most-once across a
// snapshot, and whole clusters (in the in-memory harness) catching up through snapshots under
// crashes, with the SafetyMonitor watching every step.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "protocols/raft/node.hpp"
#include "protocols/raft/snapshot.hpp"
#include "tests/harness/raft_cluster.hpp"
#include "tests/harness/raft_test_util.hpp"

namespace faultline::raft {
namespace {

using testing::acked_writes;
using testing::closed_loop_client;
using testing::cluster_options;
using testing::elect;
using testing::from;
using testing::has_event;
using testing::leader;
using testing::log_with_terms;
using testing::make_node;
using testing::make_raft_cluster;
using testing::put;
using testing::RaftCluster;
using testing::RaftClusterOptions;
using testing::sent;
using testing::stored;
using testing::test_config;

using Out = Node::Out;

using testing::persist_into;
using testing::step;

Config compacting(std::int64_t threshold) {
  Config c = test_config();
  c.snapshot_threshold = threshold;
  return c;
}

Command append_cmd(std::string key, std::string value, std::int64_t client_id, std::int64_t seq,
                   std::int64_t ack_below = 0) {
  return Command{Command::Op::Append, std::move(key), std::move(value), "", client_id, seq,
                 ack_below};
}

/// Entries of term `term` appending "<i>;" to key "k" for client 7, seqs first..first+n-1.
std::vector<LogEntry> appends(std::uint64_t term, int n, int first = 1) {
  std::vector<LogEntry> log;
  for (int i = first; i < first + n; ++i)
    log.push_back(LogEntry{term, append_cmd("k", std::to_string(i) + ";", 7, i, i)});
  return log;
}

/// A snapshot as a server holding `log` would take it after applying all of it.
Snapshot snapshot_of(const std::vector<LogEntry>& log) {
  KvStore kv;
  for (const auto& e : log) kv.apply(e.command);
  Snapshot s;
  s.last_included_index = log.size();
  s.last_included_term = log.empty() ? 0 : log.back().term;
  s.state = kv.state();
  return s;
}

/// A leader of term 2 whose snapshot covers entries 1..10 (term 1), with `kept` more entries of
/// term 1 in its log, then its Noop. Its peers' next_index is just past its log.
Node leader_with_snapshot(std::uint64_t kept = 0) {
  PersistentState ps = stored(1, {});
  ps.snapshot = snapshot_of(appends(1, 10));
  ps.log = appends(1, static_cast<int>(kept), 11);
  Node n = make_node(0, 3, ps, 0, compacting(100));
  elect(n);
  return n;
}

const TraceEvent* find_event(const Out& out, const std::string& kind) {
  for (const auto& e : out.events)
    if (e.kind == kind) return &e;
  return nullptr;
}

// ---------------------------------------------------------------------------------------
// Stable storage with an offset (Figure 12)

TEST(RaftSnapshotStorage, SaveSnapshot_RetainsEntriesAfterAMatchingLastIncludedEntry_Fig13) {
  PersistentState ps = stored(2, log_with_terms({1, 1, 2, 2, 2}));
  ps.apply(SaveSnapshot{Snapshot{3, 2, {}}});
  EXPECT_EQ(ps.first_index(), 4u);
  EXPECT_EQ(ps.last_index(), 5u);
  ASSERT_EQ(ps.log.size(), 2u);
  EXPECT_EQ(ps.entry(4), log_with_terms({1, 1, 2, 2, 2})[3]);
  // Appends and truncations use absolute indices.
  ps.apply(AppendLog{6, log_with_terms({3})});
  EXPECT_EQ(ps.last_index(), 6u);
  ps.apply(TruncateLog{5});
  EXPECT_EQ(ps.last_index(), 4u);
}

TEST(RaftSnapshotStorage, SaveSnapshot_DiscardsTheWholeLogOtherwise_Fig13) {
  PersistentState conflicting = stored(3, log_with_terms({1, 1, 2, 2}));
  conflicting.apply(SaveSnapshot{Snapshot{3, 3, {}}});  // index 3 holds term 2 here
  EXPECT_TRUE(conflicting.log.empty());
  EXPECT_EQ(conflicting.last_index(), 3u);

  PersistentState shorter = stored(3, log_with_terms({1, 1}));
  shorter.apply(SaveSnapshot{Snapshot{6, 3, {}}});
  EXPECT_TRUE(shorter.log.empty());
  EXPECT_EQ(shorter.first_index(), 7u);
}

TEST(RaftSnapshotStorage, SnapshotSizeCountsKeysValuesAndSessions_7) {
  Snapshot empty;
  Snapshot s = snapshot_of(appends(1, 10));
  EXPECT_GT(snapshot_size(s), snapshot_size(empty));
  Snapshot bigger = s;
  bigger.state.data["k"] += std::string(1000, 'x');
  EXPECT_EQ(snapshot_size(bigger), snapshot_size(s) + 1000);
  // The snapshot travels in one InstallSnapshot and is written by one SaveSnapshot: both cost
  // its size (network and disk time).
  EXPECT_GE(wire_size(Message{InstallSnapshot{1, 0, bigger}}), snapshot_size(bigger));
  EXPECT_GE(persist_size(PersistOp{SaveSnapshot{bigger}}), snapshot_size(bigger));
  EXPECT_STREQ(kind_name(Message{InstallSnapshot{}}), "install_snapshot");
  EXPECT_STREQ(kind_name(Message{InstallSnapshotReply{}}), "install_snapshot_reply");
}

// ---------------------------------------------------------------------------------------
// Taking snapshots (§7)

TEST(RaftSnapshot, NoSnapshotWhenCompactionIsOff_7) {
  Node n = make_node(1, 3);
  Out out = step(n, 0, AppendEntries{1, 0, 0, 0, appends(1, 50), 50});
  EXPECT_EQ(n.last_applied(), 50u);
  EXPECT_EQ(n.snapshot_index(), 0u);
  EXPECT_EQ(n.log().size(), 50u);
  EXPECT_FALSE(has_event(out, "snapshot"));
}

TEST(RaftSnapshot, TakenWhenAppliedEntriesExceedThreshold_7) {
  Node n = make_node(1, 3, {}, 0, compacting(4));
  PersistentState disk;
  Out out = step(n, 0, AppendEntries{1, 0, 0, 0, appends(1, 6), 4});
  persist_into(disk, out);
  EXPECT_EQ(n.last_applied(), 4u);
  EXPECT_EQ(n.snapshot_index(), 0u) << "4 applied entries do not exceed the threshold of 4";
  EXPECT_FALSE(has_event(out, "snapshot"));

  out = step(n, 0, AppendEntries{1, 0, 6, 1, {}, 5});
  persist_into(disk, out);
  ASSERT_TRUE(has_event(out, "snapshot"));
  EXPECT_EQ(n.snapshot_index(), 5u) << "the snapshot is the state machine as of last_applied";
  EXPECT_EQ(n.snapshot().last_included_term, 1u);
  EXPECT_EQ(n.first_log_index(), 6u);
  ASSERT_EQ(n.log().size(), 1u) << "the prefix up to last_applied is discarded";
  EXPECT_EQ(n.entry(6).command.seq, 6);
  EXPECT_EQ(n.last_log_index(), 6u);
  EXPECT_EQ(n.snapshot().state, n.kv().state());
  EXPECT_EQ(n.kv().get("k"), "1;2;3;4;5;");
  // Memory and stable storage agree (the same incremental op was persisted).
  EXPECT_EQ(disk.snapshot, n.snapshot());
  EXPECT_EQ(disk.log, n.log());
  const TraceEvent* e = find_event(out, "snapshot");
  EXPECT_EQ(e->fields.at("entries_discarded").get<int>(), 5);
  EXPECT_EQ(e->fields.at("bytes").get<std::uint64_t>(), snapshot_size(n.snapshot()));
  // The reply leaves after the write (the outbox rule): the snapshot is in the step's persists.
  EXPECT_TRUE(std::any_of(out.persist.begin(), out.persist.end(),
                          [](const PersistOp& op) { return std::holds_alternative<SaveSnapshot>(op); }));
}

TEST(RaftSnapshot, LogStaysBoundedOverALongRun_7) {
  Node n = make_node(1, 3, {}, 0, compacting(10));
  PersistentState disk;
  std::size_t most = 0;
  std::uint64_t last = 0;
  for (int batch = 0; batch < 100; ++batch) {
    auto entries = appends(1, 7, static_cast<int>(last) + 1);
    Out out = step(n, 0, AppendEntries{1, 0, last, last == 0 ? 0u : 1u, entries, last + 7});
    persist_into(disk, out);
    last += 7;
    most = std::max(most, disk.log.size());
  }
  EXPECT_EQ(n.last_applied(), 700u);
  EXPECT_LE(most, 10u) << "after every step, at most threshold applied entries are kept";
  EXPECT_GE(n.snapshot_index(), 700u - 10u);
}

// ---------------------------------------------------------------------------------------
// Recovery from snapshot + log (§7, §5.5)

TEST(RaftSnapshot, RestartFromSnapshotAndLogReproducesKvAndSessions_7) {
  Node n = make_node(1, 3, {}, 0, compacting(4));
  PersistentState disk;
  persist_into(disk, step(n, 0, AppendEntries{1, 0, 0, 0, appends(1, 8), 6}));
  ASSERT_EQ(n.snapshot_index(), 6u);
  persist_into(disk, step(n, 0, AppendEntries{1, 0, 8, 1, {}, 8}));
  const KvState before = n.kv().state();

  Node restarted = make_node(1, 3, disk, 0, compacting(4));
  EXPECT_EQ(restarted.commit_index(), 6u) << "volatile state starts at the snapshot";
  EXPECT_EQ(restarted.last_applied(), 6u);
  EXPECT_EQ(restarted.kv().state(), disk.snapshot.state) << "the KV comes from the snapshot";
  EXPECT_EQ(restarted.last_log_index(), 8u);
  EXPECT_EQ(restarted.last_log_term(), 1u);
  // The leader's commit index arrives; the entries after the snapshot are re-applied.
  Out out = step(restarted, 0, AppendEntries{1, 0, 8, 1, {}, 8});
  EXPECT_EQ(restarted.last_applied(), 8u);
  EXPECT_EQ(restarted.kv().state(), before) << "same data and same sessions";
  EXPECT_EQ(restarted.kv().get("k"), "1;2;3;4;5;6;7;8;");
}

TEST(RaftSnapshot, RetryOfCommandInsideSnapshotIsNotAppliedTwice_8) {
  // Client 7's seq 3 was executed before the snapshot, but its reply was lost. A later leader
  // appended the retry again (same client_id, seq). After a restart from the snapshot the
  // session table (in the snapshot) still recognises it.
  Node n = make_node(1, 3, {}, 0, compacting(3));
  PersistentState disk;
  auto log = appends(1, 4);
  for (auto& e : log) e.command.ack_below = 1;  // the client still awaits every result
  persist_into(disk, step(n, 0, AppendEntries{1, 0, 0, 0, log, 4}));
  ASSERT_EQ(n.snapshot_index(), 4u);
  Node restarted = make_node(1, 3, disk, 0, compacting(3));
  LogEntry retry{2, append_cmd("k", "3;", 7, 3, 1)};
  Out out = step(restarted, 0, AppendEntries{2, 0, 4, 1, {retry}, 5});
  EXPECT_EQ(restarted.last_applied(), 5u);
  const TraceEvent* applied = find_event(out, "applied");
  ASSERT_NE(applied, nullptr);
  EXPECT_TRUE(applied->fields.value("duplicate", false)) << "recognised from the snapshot's session";
  EXPECT_EQ(restarted.kv().get("k"), "1;2;3;4;");

  // A leader restored from the snapshot answers the retry from the session, without a log entry.
  PersistentState leader_disk = disk;
  Node l = make_node(0, 3, leader_disk, 0, compacting(3));
  elect(l);
  const auto last = l.last_log_index();
  Out reply_out = step(l, 9, ClientRequest{7, 3, 1, append_cmd("k", "3;", -1, 0)});
  EXPECT_EQ(l.last_log_index(), last);
  auto r = sent<ClientReply>(reply_out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::Ok);
}

// ---------------------------------------------------------------------------------------
// AppendEntries against a compacted log

TEST(RaftSnapshot, AppendEntriesWithPrevInsideSnapshotMatches_7) {
  // The follower's snapshot covers 1..10 (committed), its log holds 11..12.
  PersistentState ps = stored(1, {});
  ps.snapshot = snapshot_of(appends(1, 10));
  ps.log = appends(1, 2, 11);
  Node n = make_node(1, 3, ps, 0, compacting(100));
  ASSERT_EQ(n.commit_index(), 10u);
  // prev 5 lies inside the snapshot: the entries up to 10 are skipped, 11..12 match, 13..14 new.
  Out out = step(n, 0, AppendEntries{1, 0, 5, 1, appends(1, 9, 6), 14});
  auto r = sent<AppendEntriesReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].second.success);
  EXPECT_EQ(r[0].second.match_index, 14u);
  EXPECT_EQ(n.last_log_index(), 14u);
  EXPECT_EQ(n.commit_index(), 14u);
  EXPECT_FALSE(has_event(out, "log_truncated"));

  // A delayed request entirely inside the snapshot: success, and the reply reports the
  // snapshot's end, which the follower is known to share with the leader.
  out = step(n, 0, AppendEntries{1, 0, 2, 1, appends(1, 3, 3), 5});
  r = sent<AppendEntriesReply>(out);
  EXPECT_TRUE(r[0].second.success);
  EXPECT_EQ(r[0].second.match_index, 10u);
  EXPECT_EQ(n.last_log_index(), 14u) << "nothing truncated";
}

TEST(RaftSnapshot, ConflictHintsUseAbsoluteIndices_5_3) {
  PersistentState ps = stored(3, {});
  ps.snapshot = snapshot_of(appends(1, 10));
  ps.log = appends(2, 3, 11);  // 11..13 of term 2, uncommitted
  Node n = make_node(1, 3, ps);
  auto r = sent<AppendEntriesReply>(step(n, 0, AppendEntries{3, 0, 13, 3, {}, 0}));
  EXPECT_FALSE(r[0].second.success);
  EXPECT_EQ(r[0].second.conflict_term, 2u);
  EXPECT_EQ(r[0].second.conflict_index, 11u);
  r = sent<AppendEntriesReply>(step(n, 0, AppendEntries{3, 0, 20, 3, {}, 0}));
  EXPECT_EQ(r[0].second.conflict_index, 14u) << "the follower's last index + 1";
}

// ---------------------------------------------------------------------------------------
// The leader sends InstallSnapshot (§7)

TEST(RaftInstallSnapshot, LeaderSendsSnapshotWhenNextIndexIsCompacted_7) {
  Node n = leader_with_snapshot(2);
  ASSERT_EQ(n.role(), Role::Leader);
  ASSERT_EQ(n.last_log_index(), 13u);  // + its Noop
  // Peer 1's log is empty: it rejects, asking for index 1, which is compacted.
  Out out = step(n, 1, AppendEntriesReply{2, false, 0, 0, 1});
  auto snaps = sent<InstallSnapshot>(out);
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].first, 1);
  EXPECT_EQ(snaps[0].second.term, 2u);
  EXPECT_EQ(snaps[0].second.snapshot, n.snapshot());
  EXPECT_TRUE(sent<AppendEntries>(out).empty());
  // Heartbeats while the snapshot is in flight are keep-alives at the sentinel, never entries.
  Out hb;
  n.tick(n.next_deadline(), hb);
  n.check_invariants();
  for (const auto& [to, ae] : sent<AppendEntries>(hb)) {
    if (to != 1) continue;
    EXPECT_TRUE(ae.entries.empty());
    EXPECT_EQ(ae.prev_log_index, 0u);
  }
  EXPECT_TRUE(sent<InstallSnapshot>(hb).empty()) << "one snapshot at a time";
  // The follower installed it: replication continues with AppendEntries after index 10.
  out = step(n, 1, InstallSnapshotReply{2, 10});
  EXPECT_EQ(n.match_index(1), 10u);
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].second.prev_log_index, 10u);
  EXPECT_EQ(aes[0].second.prev_log_term, 1u);
  EXPECT_EQ(aes[0].second.entries.size(), 3u);
  out = step(n, 1, AppendEntriesReply{2, true, 13, 0, 0});
  EXPECT_EQ(n.commit_index(), 13u);
}

TEST(RaftInstallSnapshot, LostSnapshotIsProbedThenResent_7) {
  Node n = leader_with_snapshot();
  step(n, 1, AppendEntriesReply{2, false, 0, 0, 1});  // snapshot sent to 1
  // Two heartbeat intervals without an answer: presumed lost, probed cheaply at index 0.
  Out hb;
  n.tick(n.next_deadline(), hb);
  hb.clear();
  n.tick(n.next_deadline(), hb);
  n.check_invariants();
  EXPECT_TRUE(sent<InstallSnapshot>(hb).empty()) << "no snapshot resent to a silent follower";
  // The follower answers the probe: the snapshot goes again.
  Out out = step(n, 1, AppendEntriesReply{2, true, 0, 0, 0});
  EXPECT_EQ(sent<InstallSnapshot>(out).size(), 1u);
}

// ---------------------------------------------------------------------------------------
// The follower installs it (Figure 13, receiver implementation)

TEST(RaftInstallSnapshot, LaggingFollowerRetainsEntriesAfterMatchingEntry_Fig13) {
  // The follower holds entries 1..6 of term 1, nothing committed; the snapshot covers 1..4.
  const auto full = appends(1, 6);
  Node n = make_node(1, 3, stored(1, full));
  const auto snapshot = snapshot_of(appends(1, 4));
  Out out = step(n, 0, InstallSnapshot{1, 0, snapshot});
  ASSERT_TRUE(has_event(out, "snapshot_installed"));
  EXPECT_TRUE(find_event(out, "snapshot_installed")->fields.at("log_retained").get<bool>());
  EXPECT_EQ(n.snapshot(), snapshot);
  EXPECT_EQ(n.first_log_index(), 5u);
  EXPECT_EQ(n.last_log_index(), 6u) << "step 7: entries following it are retained";
  EXPECT_EQ(n.entry(6), full[5]);
  EXPECT_EQ(n.commit_index(), 4u);
  EXPECT_EQ(n.last_applied(), 4u);
  EXPECT_EQ(n.kv().state(), snapshot.state) << "step 9: state machine reset from the snapshot";
  auto r = sent<InstallSnapshotReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.term, 1u);
  EXPECT_EQ(r[0].second.last_included_index, 4u);
  EXPECT_EQ(n.leader_hint(), 0);
}

TEST(RaftInstallSnapshot, ConflictingLogIsReplacedBySnapshot_Fig13) {
  // The follower holds uncommitted term-2 entries at 3..5 that the leader of term 3 never had;
  // the leader's snapshot covers 1..6 with last term 3.
  std::vector<LogEntry> follower_log = appends(1, 2);
  for (auto& e : appends(2, 3, 3)) follower_log.push_back(e);
  Node n = make_node(1, 3, stored(2, follower_log));
  std::vector<LogEntry> leader_log = appends(1, 2);
  for (auto& e : appends(3, 4, 103)) leader_log.push_back(e);
  const auto snapshot = snapshot_of(leader_log);
  ASSERT_EQ(snapshot.last_included_term, 3u);
  PersistentState disk = stored(2, follower_log);
  Out out = step(n, 0, InstallSnapshot{3, 0, snapshot});
  persist_into(disk, out);
  EXPECT_FALSE(find_event(out, "snapshot_installed")->fields.at("log_retained").get<bool>());
  EXPECT_TRUE(n.log().empty()) << "step 8: discard the entire log";
  EXPECT_EQ(n.last_log_index(), 6u);
  EXPECT_EQ(n.last_log_term(), 3u);
  EXPECT_EQ(n.current_term(), 3u);
  EXPECT_EQ(n.kv().state(), snapshot.state);
  EXPECT_EQ(disk.snapshot, snapshot);
  EXPECT_TRUE(disk.log.empty());
  EXPECT_EQ(disk.current_term, 3u);
  // The follower continues from the snapshot: the next AppendEntries after 6 matches.
  auto r = sent<AppendEntriesReply>(step(n, 0, AppendEntries{3, 0, 6, 3, appends(3, 1, 107), 7}));
  EXPECT_TRUE(r[0].second.success);
  EXPECT_EQ(n.commit_index(), 7u);
}

TEST(RaftInstallSnapshot, StaleOrDuplicateSnapshotIsIgnored_Fig13) {
  Node n = make_node(1, 3, stored(2, appends(1, 8)));
  step(n, 0, AppendEntries{2, 0, 8, 1, {}, 8});  // all 8 committed and applied
  ASSERT_EQ(n.commit_index(), 8u);
  const auto log_before = n.log();
  const auto kv_before = n.kv().state();

  // Older than what is applied (a reordered retransmission): ignored, answered.
  Out out = step(n, 0, InstallSnapshot{2, 0, snapshot_of(appends(1, 5))});
  EXPECT_TRUE(out.persist.empty());
  EXPECT_FALSE(has_event(out, "snapshot_installed"));
  EXPECT_EQ(n.log(), log_before);
  EXPECT_EQ(n.kv().state(), kv_before);
  auto r = sent<InstallSnapshotReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.last_included_index, 5u);

  // The same snapshot twice: installed once.
  Node m = make_node(1, 3, stored(2, {}));
  const auto snapshot = snapshot_of(appends(1, 6));
  EXPECT_TRUE(has_event(step(m, 0, InstallSnapshot{2, 0, snapshot}), "snapshot_installed"));
  Out again = step(m, 0, InstallSnapshot{2, 0, snapshot});
  EXPECT_FALSE(has_event(again, "snapshot_installed"));
  EXPECT_TRUE(again.persist.empty());
  EXPECT_EQ(m.snapshot(), snapshot);

  // From a stale leader (term 1 < 2): rejected with our term, nothing installed.
  Node s = make_node(1, 3, stored(2, {}));
  out = step(s, 0, InstallSnapshot{1, 0, snapshot});
  EXPECT_TRUE(out.persist.empty());
  r = sent<InstallSnapshotReply>(out);
  EXPECT_EQ(r[0].second.term, 2u);
  EXPECT_EQ(r[0].second.last_included_index, 0u) << "refused";
  EXPECT_EQ(s.snapshot_index(), 0u);
}

TEST(RaftInstallSnapshot, StaleReplyNeverLowersProgress_7) {
  Node n = leader_with_snapshot();
  step(n, 1, AppendEntriesReply{2, true, 11, 0, 0});
  ASSERT_EQ(n.match_index(1), 11u);
  step(n, 1, InstallSnapshotReply{2, 10});  // a late reply to an earlier snapshot
  EXPECT_EQ(n.match_index(1), 11u);
  EXPECT_EQ(n.next_index(1), 12u);
  // A reply carrying a higher term deposes the leader.
  step(n, 2, InstallSnapshotReply{5, 0});
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.current_term(), 5u);
}

// ---------------------------------------------------------------------------------------
// Whole clusters in the in-memory harness

std::string describe(const std::vector<Violation>& violations) {
  std::string s;
  for (const auto& v : violations) s += v.check + ": " + v.detail + "\n";
  return s;
}

std::size_t count_events(const RaftCluster& c, NodeId node, const std::string& kind) {
  return static_cast<std::size_t>(std::count_if(c.events().begin(), c.events().end(), [&](const auto& e) {
    return (node == kNoNode || e.node == node) && e.event.kind == kind;
  }));
}

TEST(RaftSnapshotCluster, CrashedFollowerCatchesUpThroughInstallSnapshot_7) {
  RaftClusterOptions o = cluster_options(3, 4);
  o.config.snapshot_threshold = 20;
  o.clients = {closed_loop_client(600)};
  auto c = make_raft_cluster(o);
  ASSERT_TRUE(c->run_until([&] { return leader(*c) != nullptr; }, 2 * kSecond));
  const NodeId follower = (leader(*c)->id() + 1) % 3;
  c->crash(follower);
  c->run_for(kSecond);  // hundreds of entries committed and compacted meanwhile
  ASSERT_GT(leader(*c)->snapshot_index(), c->storage(follower).last_index());
  c->restart(follower);
  ASSERT_TRUE(c->run_until([&] { return c->client(0)->done(); }, 20 * kSecond));
  c->run_for(200 * kMillisecond);
  const Node* l = leader(*c);
  ASSERT_NE(l, nullptr);
  EXPECT_GE(count_events(*c, follower, "snapshot_installed"), 1u);
  EXPECT_EQ(c->server(follower)->commit_index(), l->commit_index());
  EXPECT_EQ(c->server(follower)->kv().state(), l->kv().state()) << "same data and sessions";
  for (NodeId id : c->server_ids()) {
    EXPECT_LE(c->storage(id).log.size(), 2u * 20 + 64) << "server " << id;
  }
  c->monitor().check_no_lost_writes(acked_writes(*c), c->all_storage(), c->now());
  EXPECT_TRUE(c->monitor().violations().empty()) << describe(c->monitor().violations());
}

TEST(RaftSnapshotCluster, SnapshotsSurviveRepeatedCrashesOfEveryServer_7) {
  // Every server crashes and restarts in turn (the leader included) while a client writes:
  // restarts recover from snapshot + log, laggards install snapshots, nothing is lost, and all
  // replicas end with the same state machine.
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RaftClusterOptions o = cluster_options(5, seed);
    o.config.snapshot_threshold = 15;
    o.clients = {closed_loop_client(1'000'000), closed_loop_client(1'000'000)};
    o.clients[1].rate_per_s = 200;
    auto c = make_raft_cluster(o);
    for (int round = 0; round < 10; ++round) {
      c->run_for(250 * kMillisecond);
      const NodeId victim = static_cast<NodeId>(round % 5);
      c->crash(victim);
      c->run_for(300 * kMillisecond);
      c->restart(victim);
    }
    c->run_for(kSecond);
    const Node* l = leader(*c);
    ASSERT_NE(l, nullptr);
    EXPECT_GT(count_events(*c, kNoNode, "snapshot"), 10u);
    c->monitor().check_no_lost_writes(acked_writes(*c), c->all_storage(), c->now());
    EXPECT_TRUE(c->monitor().violations().empty()) << describe(c->monitor().violations());
    for (const Node* n : c->live_servers()) {
      if (n->commit_index() == l->commit_index()) {
        EXPECT_EQ(n->kv().state(), l->kv().state()) << "server " << n->id();
      }
    }
  }
}

}  // namespace
}  // namespace faultline::raft
