// The in-memory harness itself (tests/harness/memory_cluster.hpp), exercised with Raft cores:
// persist-before-send, crash semantics, partitions judged at delivery, determinism of drops.
#include <gtest/gtest.h>

#include "tests/harness/raft_cluster.hpp"

namespace faultline::raft {
namespace {

using testing::cluster_options;
using testing::leader;
using testing::make_raft_cluster;

TEST(RaftHarness, VoteIsOnStableStorageBeforeReplyIsDelivered_Fig2) {
  auto c = make_raft_cluster(cluster_options(5, 2));
  int granted = 0;
  c->set_on_deliver([&](const Envelope<Message>& e, Time) {
    const auto* r = std::get_if<RequestVoteReply>(&e.msg);
    if (!r || !r->vote_granted) return;
    ++granted;
    EXPECT_EQ(c->storage(e.from).current_term, r->term);
    EXPECT_EQ(c->storage(e.from).voted_for, e.to);
  });
  ASSERT_TRUE(c->run_until([&] { return leader(*c) != nullptr; }, 2 * kSecond));
  EXPECT_GE(granted, 2);
}

TEST(RaftHarness, CrashDropsMessagesInFlightToTheNode) {
  auto c = make_raft_cluster(cluster_options(3));
  int delivered_to_1 = 0;
  c->set_on_deliver([&](const Envelope<Message>& e, Time) { delivered_to_1 += e.to == 1; });
  c->send(0, 1, AppendEntries{});
  c->crash(1);
  c->restart(1);  // a new incarnation: mail for the old one is lost
  c->run_for(500 * kMicrosecond + kMillisecond);
  EXPECT_EQ(delivered_to_1, 0);
  EXPECT_EQ(c->dropped(), 1u);
}

TEST(RaftHarness, PartitionStartingWhileInFlightDropsAtDelivery) {
  auto c = make_raft_cluster(cluster_options(3));
  c->send(0, 1, AppendEntries{});
  c->send(0, 2, AppendEntries{});
  c->partition({{0, 2}, {1}});
  c->run_for(2 * kMillisecond);
  EXPECT_EQ(c->dropped(), 1u);
  EXPECT_EQ(c->delivered(), 2u) << "0 -> 2 and node 2's reply";
  EXPECT_TRUE(c->blocked(0, 1));
  EXPECT_TRUE(c->blocked(1, 2));
  EXPECT_FALSE(c->blocked(0, 2));
  c->heal(1);
  EXPECT_FALSE(c->blocked(0, 1));
  c->cut(2, 0);
  EXPECT_TRUE(c->blocked(2, 0));
  EXPECT_FALSE(c->blocked(0, 2));
}

TEST(RaftHarness, CrashKeepsStorageAndRestartRebuildsFromIt) {
  auto c = make_raft_cluster(cluster_options(3, 6));
  ASSERT_TRUE(c->run_until([&] { return leader(*c) != nullptr; }, 2 * kSecond));
  c->run_for(200 * kMillisecond);
  const NodeId id = leader(*c)->id();
  const auto term = leader(*c)->current_term();
  const auto log = leader(*c)->log();
  c->crash(id);
  EXPECT_EQ(c->server(id), nullptr);
  EXPECT_EQ(c->storage(id).log, log);
  EXPECT_EQ(c->storage(id).current_term, term);
  c->restart(id);
  ASSERT_NE(c->server(id), nullptr);
  EXPECT_EQ(c->server(id)->role(), Role::Follower);
  EXPECT_EQ(c->server(id)->log(), log);
  EXPECT_EQ(c->server(id)->commit_index(), 0u) << "volatile state starts afresh";
}

}  // namespace
}  // namespace faultline::raft
