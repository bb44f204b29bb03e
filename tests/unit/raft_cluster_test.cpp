// Whole Raft clusters in the in-memory harness (tests/harness/memory_cluster.hpp): elections,
// replication, crashes and restarts, partitions, and a seeded swarm of random faults followed
// by a liveness phase (in the spirit of TigerBeetle's VOPR). The SafetyMonitor watches every
// step of every test; each test ends by asserting it recorded nothing.
#include "tests/harness/raft_cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

#include "tests/harness/raft_test_util.hpp"

namespace faultline::raft {
namespace {

using testing::acked_writes;
using testing::closed_loop_client;
using testing::cluster_options;
using testing::current_leaders;
using testing::leader;
using testing::log_with_terms;
using testing::make_raft_cluster;
using testing::RaftCluster;
using testing::RaftClusterOptions;
using testing::stored;

std::string describe(const std::vector<Violation>& violations) {
  std::string s;
  for (const auto& v : violations) {
    s += v.check + " at " + std::to_string(to_ms(v.time)) + "ms: " + v.detail + "\n";
  }
  return s;
}

void expect_safe(RaftCluster& c) {
  EXPECT_TRUE(c.monitor().violations().empty()) << describe(c.monitor().violations());
}

/// Committed prefixes of all live servers agree entry by entry (Log Matching on what counts),
/// where both still hold the entries (absolute indices past both snapshots, §7).
void expect_committed_logs_agree(const RaftCluster& c) {
  const auto live = c.live_servers();
  for (const Node* a : live) {
    for (const Node* b : live) {
      const auto n = std::min(a->commit_index(), b->commit_index());
      for (std::uint64_t i = std::max(a->snapshot_index(), b->snapshot_index()) + 1; i <= n; ++i) {
        ASSERT_EQ(a->entry(i), b->entry(i)) << "servers " << a->id() << " and " << b->id()
                                            << " disagree at committed index " << i;
      }
    }
  }
}

/// Every process alternates invoke / completion, completions match their invoke.
void expect_history_well_formed(const std::vector<HistoryEntry>& history) {
  std::map<std::int64_t, const HistoryEntry*> open;
  for (const HistoryEntry& e : history) {
    if (e.type == OpType::Invoke) {
      EXPECT_EQ(open.count(e.process), 0u) << "process " << e.process << " has two ops open";
      open[e.process] = &e;
      continue;
    }
    auto it = open.find(e.process);
    ASSERT_NE(it, open.end()) << "completion without invoke, process " << e.process;
    EXPECT_EQ(it->second->f, e.f);
    EXPECT_EQ(it->second->key, e.key);
    EXPECT_LE(it->second->time, e.time);
    open.erase(it);
  }
}

bool has_leader(const RaftCluster& c) { return leader(c) != nullptr; }

// ---------------------------------------------------------------------------------------

TEST(RaftCluster, SingleLeaderEmergesAndStays_5_2) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    auto c = make_raft_cluster(cluster_options(5, seed));
    ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 2 * kSecond));
    const Node* l = leader(*c);
    const auto term = l->current_term();
    const NodeId id = l->id();
    c->run_for(2 * kSecond);  // heartbeats keep it in power: no further elections
    ASSERT_NE(leader(*c), nullptr);
    EXPECT_EQ(leader(*c)->id(), id);
    EXPECT_EQ(leader(*c)->current_term(), term);
    EXPECT_EQ(current_leaders(*c), 1);
    for (const Node* n : c->live_servers()) {
      EXPECT_EQ(n->current_term(), term);
      EXPECT_EQ(n->leader_hint(), id);
      EXPECT_EQ(n->commit_index(), 1u) << "the leader's Noop is committed everywhere";
    }
    expect_safe(*c);
  }
}

TEST(RaftCluster, SplitVotesResolveWithRandomizedTimeouts_5_2) {
  // Nearly equal timeouts make split votes likely (Figure 16's left end); randomness still
  // resolves them, one new term per round.
  int runs_with_split_vote = 0;
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RaftClusterOptions o = cluster_options(5, seed);
    o.config.election_timeout = {150 * kMillisecond, 153 * kMillisecond};
    auto c = make_raft_cluster(o);
    ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 10 * kSecond));
    runs_with_split_vote += leader(*c)->current_term() > 1;
    expect_safe(*c);
  }
  EXPECT_GT(runs_with_split_vote, 0) << "the setup should provoke at least one split vote";
}

TEST(RaftCluster, StaleLogCannotWinElection_5_4_1) {
  // Server 2 missed the last entries (term 3) of servers 0 and 1; it times out first but its
  // RequestVote is refused; one of the up-to-date servers wins.
  const auto full = log_with_terms({1, 1, 3, 3});
  const auto stale = log_with_terms({1, 1});
  RaftClusterOptions o = cluster_options(3);
  o.initial_storage = {stored(3, full), stored(3, full), stored(3, stale)};
  auto c = make_raft_cluster(o);
  c->control(2, Control::Elect);
  ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 3 * kSecond));
  EXPECT_NE(leader(*c)->id(), 2);
  c->run_for(200 * kMillisecond);
  EXPECT_EQ(c->server(2)->log(), c->server(leader(*c)->id())->log());
  expect_safe(*c);
}

TEST(RaftCluster, FastBacktrackingConvergesInFewRoundTrips_5_3) {
  // Server 2 holds 790 entries of term 2 that nobody else has; the leader's log has 990 entries
  // of term 3 after a common prefix of 10. One entry per round trip would take ~990 rejections;
  // skipping a term per round trip (§5.3) takes two.
  std::vector<std::uint64_t> leader_terms(10, 1), diverged_terms(10, 1);
  leader_terms.insert(leader_terms.end(), 990, 3);
  diverged_terms.insert(diverged_terms.end(), 790, 2);
  const auto prefix_log = log_with_terms(leader_terms);
  auto diverged_log = log_with_terms(diverged_terms, "");
  RaftClusterOptions o = cluster_options(3);
  o.initial_storage = {stored(3, prefix_log), stored(3, prefix_log), stored(2, diverged_log)};
  auto c = make_raft_cluster(o);
  int rejections = 0;
  c->set_on_deliver([&](const Envelope<Message>& e, Time) {
    if (const auto* r = std::get_if<AppendEntriesReply>(&e.msg))
      rejections += e.from == 2 && !r->success;
  });
  c->control(0, Control::Elect);
  ASSERT_TRUE(c->run_until(
      [&] { return has_leader(*c) && c->server(2)->log() == leader(*c)->log(); }, 2 * kSecond));
  EXPECT_EQ(leader(*c)->id(), 0);
  EXPECT_LE(rejections, 3);
  EXPECT_EQ(c->server(2)->log().size(), 1001u);
  expect_safe(*c);
}

TEST(RaftCluster, FollowerCrashAndRestartCatchesUp_5_3) {
  RaftClusterOptions o = cluster_options(3, 4);
  o.clients = {closed_loop_client(300)};
  auto c = make_raft_cluster(o);
  ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 2 * kSecond));
  const NodeId follower = (leader(*c)->id() + 1) % 3;
  c->run_for(100 * kMillisecond);
  c->crash(follower);
  const auto ok_before = c->client(0)->ops_ok();
  c->run_for(500 * kMillisecond);
  EXPECT_GT(c->client(0)->ops_ok(), ok_before) << "a majority (2 of 3) keeps committing";
  c->restart(follower);
  ASSERT_TRUE(c->run_until([&] { return c->client(0)->done(); }, 20 * kSecond));
  c->run_for(200 * kMillisecond);  // a heartbeat carries the final commit index
  const Node* l = leader(*c);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(c->server(follower)->log(), l->log());
  EXPECT_EQ(c->server(follower)->commit_index(), l->commit_index());
  EXPECT_EQ(c->server(follower)->kv().data(), l->kv().data()) << "KV rebuilt by re-applying";
  EXPECT_EQ(c->client(0)->ops_ok(), 300);
  expect_committed_logs_agree(*c);
  expect_history_well_formed(c->history());
  expect_safe(*c);
}

TEST(RaftCluster, LeaderCrashNewLeaderKeepsAcknowledgedWrites_5_4) {
  RaftClusterOptions o = cluster_options(5, 11);
  o.clients = {closed_loop_client(100000), closed_loop_client(100000)};
  auto c = make_raft_cluster(o);
  ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 2 * kSecond));
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    c->run_for(300 * kMillisecond);
    const Node* old = leader(*c);
    ASSERT_NE(old, nullptr);
    const NodeId old_id = old->id();
    const auto old_term = old->current_term();
    // Everything committed so far must be in every later leader's log (Leader Completeness).
    std::vector<LogEntry> committed(old->log().begin(),
                                    old->log().begin() + static_cast<long>(old->commit_index()));
    c->crash(old_id);
    const Time crashed_at = c->now();
    ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, c->now() + 2 * kSecond));
    const Node* next = leader(*c);
    EXPECT_GT(next->current_term(), old_term);
    EXPECT_LT(c->now() - crashed_at, 1 * kSecond) << "about one election timeout";
    ASSERT_GE(next->log().size(), committed.size());
    EXPECT_TRUE(std::equal(committed.begin(), committed.end(), next->log().begin()));
    c->restart(old_id);
  }
  c->run_for(500 * kMillisecond);
  EXPECT_GT(c->client(0)->ops_ok() + c->client(1)->ops_ok(), 200);
  c->monitor().check_no_lost_writes(acked_writes(*c), c->all_storage(), c->now());
  expect_committed_logs_agree(*c);
  expect_history_well_formed(c->history());
  expect_safe(*c);
}

TEST(RaftCluster, RetriedRequestAppliedOnceAcrossLeaderChange_8) {
  // The leader commits and applies an append, but its reply never reaches the client, and it
  // crashes. The client retries the same (client_id, seq) at other servers; the new leader
  // must not apply it a second time. Two variants: the entry reached the followers before the
  // crash, or it did not (then the retry is the only copy that commits).
  for (bool replicated : {true, false}) {
    SCOPED_TRACE(replicated ? "entry replicated before the crash" : "entry lost with the leader");
    RaftClusterOptions o = cluster_options(3, 21);
    o.clients = {closed_loop_client(1, {{"append", 1}})};
    o.clients[0].start = 600 * kMillisecond;  // after the first election
    auto c = make_raft_cluster(o);
    ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 500 * kMillisecond));
    const NodeId l = leader(*c)->id();
    const NodeId client = c->client_id(0);
    c->set_filter([&](const Envelope<Message>& e) {
      if (e.from != l) return true;
      if (std::holds_alternative<ClientReply>(e.msg)) return false;
      if (!replicated) {
        if (const auto* ae = std::get_if<AppendEntries>(&e.msg)) return ae->entries.empty();
      }
      return true;
    });
    if (replicated) {
      ASSERT_TRUE(c->run_until([&] { return c->server(l)->kv().applied(client, 1); }, kSecond));
    } else {
      ASSERT_TRUE(c->run_until([&] { return c->server(l)->log().size() >= 2; }, kSecond));
    }
    c->crash(l);
    c->set_filter({});
    ASSERT_TRUE(c->run_until([&] { return c->client(0)->done(); }, 5 * kSecond));
    EXPECT_EQ(c->client(0)->ops_ok(), 1);
    c->restart(l);
    c->run_for(kSecond);
    for (const Node* n : c->live_servers()) {
      EXPECT_EQ(n->kv().get(c->client(0)->acked_writes().at(0).key), "c1.1;")
          << "server " << n->id();
    }
    expect_committed_logs_agree(*c);
    expect_safe(*c);
  }
}

TEST(RaftCluster, ReadsSeeLatestWriteAcrossLeaderChanges_8) {
  // One sequential client on one key, every op completes: each get must return exactly the
  // value the model holds after the previous ops (linearizability of a sequential history).
  RaftClusterOptions o = cluster_options(3, 5);
  o.clients = {closed_loop_client(400, {{"get", 2}, {"put", 1}, {"append", 1}})};
  o.clients[0].keys = 1;
  o.clients[0].client_timeout = 10 * kSecond;  // no info: every op completes
  auto c = make_raft_cluster(o);
  for (int crash = 0; crash < 2; ++crash) {
    c->run_for(800 * kMillisecond);
    if (const Node* l = leader(*c)) {
      const NodeId id = l->id();
      c->crash(id);
      c->run_for(600 * kMillisecond);
      c->restart(id);
    }
  }
  ASSERT_TRUE(c->run_until([&] { return c->client(0)->done(); }, 30 * kSecond));
  std::string model;
  int gets = 0;
  for (const HistoryEntry& e : c->history()) {
    if (e.type != OpType::Ok) continue;
    if (e.f == "put") model = e.value.get<std::string>();
    if (e.f == "append") model += e.value.get<std::string>();
    if (e.f == "get") {
      ++gets;
      EXPECT_EQ(e.value.get<std::string>(), model);
    }
  }
  EXPECT_GT(gets, 100);
  EXPECT_EQ(c->client(0)->ops_info(), 0);
  expect_safe(*c);
}

TEST(RaftCluster, MinorityLeaderCannotCommitAndStepsDownAfterHeal_5_3) {
  RaftClusterOptions o = cluster_options(5, 8);
  o.clients = {closed_loop_client(100000)};
  auto c = make_raft_cluster(o);
  ASSERT_TRUE(c->run_until([&] { return has_leader(*c); }, 2 * kSecond));
  c->run_for(200 * kMillisecond);
  const NodeId old = leader(*c)->id();
  const auto old_commit = c->server(old)->commit_index();
  c->isolate(old);  // clients included
  c->run_for(kSecond);
  EXPECT_EQ(c->server(old)->role(), Role::Leader) << "nobody told it otherwise";
  EXPECT_EQ(c->server(old)->commit_index(), old_commit) << "no majority, no commit";
  const Node* fresh = leader(*c);
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(fresh->id(), old);
  c->heal();
  c->run_for(kSecond);
  EXPECT_EQ(c->server(old)->role(), Role::Follower);
  EXPECT_EQ(current_leaders(*c), 1);
  EXPECT_TRUE(std::any_of(c->events().begin(), c->events().end(), [&](const auto& e) {
    return e.node == old && e.event.kind == "stepped_down";
  }));
  expect_committed_logs_agree(*c);
  expect_safe(*c);
}

TEST(RaftCluster, HarnessIsDeterministic) {
  auto run = [](std::uint64_t seed) {
    RaftClusterOptions o = cluster_options(3, seed);
    o.clients = {closed_loop_client(50), closed_loop_client(50)};
    auto c = make_raft_cluster(o);
    c->set_drop(0.05);
    c->run_for(3 * kSecond);
    std::string trace;
    for (const auto& h : c->history()) trace += to_json(h).dump() + "\n";
    for (const auto& e : c->events())
      trace += std::to_string(e.time) + e.event.kind + e.event.fields.dump();
    return trace;
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

// ---------------------------------------------------------------------------------------
// Seeded swarm: random crashes, restarts, partitions, isolation and message loss for 2 s, then
// everything healed and restarted: no monitor violation ever, no acknowledged write lost, and
// the cluster commits new writes again (liveness after healing).

struct SwarmTotals {
  int faults = 0;               // faults injected
  int snapshots_installed = 0;  // "snapshot_installed" events (log compaction on, §7)
};

/// Runs the swarm for seeds 1..seeds with `config`, adding up what happened in `totals`.
void run_swarm(int seeds, const Config& config, SwarmTotals& totals) {
  constexpr Time kFaultsUntil = 2 * kSecond;
  constexpr Time kEnd = 3500 * kMillisecond;
  for (std::uint64_t seed = 1; seed <= static_cast<std::uint64_t>(seeds); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed) + " (rerun with this seed to reproduce)");
    RaftClusterOptions o = cluster_options(5, seed);
    o.config = config;
    // One closed-loop client and one open-loop client (several operations outstanding).
    for (int i = 0; i < 2; ++i) {
      auto client =
          closed_loop_client(1'000'000, {{"get", 1}, {"put", 1}, {"append", 1}, {"cas", 1}});
      client.rpc_timeout = 50 * kMillisecond;
      client.client_timeout = 400 * kMillisecond;
      if (i == 1) client.rate_per_s = 300;
      o.clients.push_back(client);
    }
    auto c = make_raft_cluster(o);
    c->set_latency(kMillisecond / 2, 3 * kMillisecond);  // reordering
    c->set_duplicate(0.02);
    Rng nemesis = Rng(seed).fork("faults");
    const auto servers = c->server_ids();
    Time next_fault = nemesis.uniform(50 * kMillisecond, 300 * kMillisecond);
    while (next_fault < kFaultsUntil) {
      c->run_until(next_fault);
      ++totals.faults;
      const NodeId victim = servers[nemesis.below(servers.size())];
      switch (nemesis.below(6)) {
        case 0:
          c->crash(victim);
          break;
        case 1:
          for (NodeId id : servers) c->restart(id);
          break;
        case 2: {
          std::vector<NodeId> a, b;
          for (NodeId id : servers) (nemesis.chance(0.5) ? a : b).push_back(id);
          for (int i = 0; i < c->num_clients(); ++i) {
            (nemesis.chance(0.5) ? a : b).push_back(c->client_id(i));
          }
          c->partition({a, b});
          break;
        }
        case 3:
          c->isolate(victim);
          break;
        case 4:
          c->heal();
          break;
        case 5:
          c->set_drop(nemesis.chance(0.5) ? 0.0 : 0.2);
          break;
      }
      next_fault += nemesis.uniform(50 * kMillisecond, 300 * kMillisecond);
    }
    c->run_until(kFaultsUntil);
    c->heal();
    c->set_drop(0);
    for (NodeId id : servers) c->restart(id);
    c->run_until(kEnd);

    expect_safe(*c);
    ASSERT_TRUE(c->monitor().violations().empty());
    EXPECT_EQ(current_leaders(*c), 1);
    // Liveness: writes acknowledged after healing.
    const bool wrote_after_heal =
        std::any_of(c->history().begin(), c->history().end(), [&](const HistoryEntry& e) {
          return e.type == OpType::Ok && e.time > kFaultsUntil && e.f != "get" &&
                 (e.f != "cas" || e.result == true);
        });
    EXPECT_TRUE(wrote_after_heal);
    c->monitor().check_no_lost_writes(acked_writes(*c), c->all_storage(), c->now());
    EXPECT_TRUE(c->monitor().violations().empty()) << describe(c->monitor().violations());
    expect_committed_logs_agree(*c);
    expect_history_well_formed(c->history());
    totals.snapshots_installed += static_cast<int>(
        std::count_if(c->events().begin(), c->events().end(),
                      [](const auto& e) { return e.event.kind == "snapshot_installed"; }));
  }
}

TEST(RaftSwarm, RandomFaultsThenHeal_SafeAndLive) {
  constexpr int kSeeds = 50;
  SwarmTotals totals;
  run_swarm(kSeeds, Config{}, totals);
  EXPECT_GT(totals.faults, kSeeds * 5);
}

TEST(RaftSwarm, RandomFaultsThenHealWithLogCompaction_SafeAndLive_7) {
  // The same swarm with frequent snapshots (§7): restarts recover from snapshot + log, laggards
  // catch up through InstallSnapshot, and the monitor's checks hold over compacted logs.
  constexpr int kSeeds = 30;
  Config config;
  config.snapshot_threshold = 8;
  SwarmTotals totals;
  run_swarm(kSeeds, config, totals);
  EXPECT_GT(totals.faults, kSeeds * 5);
  EXPECT_GT(totals.snapshots_installed, kSeeds) << "the faults make followers lag past snapshots";
}

}  // namespace
}  // namespace faultline::raft
