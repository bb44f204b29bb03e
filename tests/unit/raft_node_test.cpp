// raft::Node driven by hand, one message at a time: elections (§5.2), the election restriction
// (§5.4.1), vote persistence (Figure 2), log replication and the consistency check (§5.3), fast
// backtracking, the commit rule of §5.4.2 (Figure 8), and client interaction (§8). Every test
// runs the node's local invariants after each step.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "protocols/raft/node.hpp"
#include "tests/harness/raft_test_util.hpp"

namespace faultline::raft {
namespace {

using testing::elect;
using testing::from;
using testing::has_event;
using testing::log_with_terms;
using testing::make_node;
using testing::put;
using testing::sent;
using testing::stored;
using testing::test_config;

using Out = Node::Out;

using testing::persist_into;
using testing::step;
using testing::tick;

ClientRequest request(std::int64_t client_id, std::int64_t seq, Command c) {
  c.client_id = client_id;
  c.seq = seq;
  return ClientRequest{client_id, seq, seq, std::move(c)};
}

Command get(std::string key) {
  Command c;
  c.op = Command::Op::Get;
  c.key = std::move(key);
  return c;
}

Command append(std::string key, std::string value) {
  Command c;
  c.op = Command::Op::Append;
  c.key = std::move(key);
  c.value = std::move(value);
  return c;
}

// ---------------------------------------------------------------------------------------
// Elections (§5.2)

TEST(RaftElection, FollowerStartsElectionAfterTimeout_5_2) {
  Node n = make_node(0, 3);
  EXPECT_EQ(n.role_name(), "follower");
  const Time deadline = n.next_deadline();
  EXPECT_GE(deadline, 150 * kMillisecond);
  EXPECT_LE(deadline, 300 * kMillisecond);

  EXPECT_TRUE(tick(n, deadline - 1).empty()) << "nothing fires before the election timeout";

  Out out = tick(n, deadline);
  EXPECT_EQ(n.role_name(), "candidate");
  EXPECT_EQ(n.current_term(), 1u);
  EXPECT_EQ(n.voted_for(), 0) << "a candidate votes for itself";
  EXPECT_TRUE(has_event(out, "election_timeout"));
  EXPECT_TRUE(has_event(out, "became_candidate"));
  ASSERT_EQ(out.persist.size(), 1u);
  const auto& tv = std::get<SetTermVote>(out.persist[0]);
  EXPECT_EQ(tv.current_term, 1u);
  EXPECT_EQ(tv.voted_for, 0);
  auto votes = sent<RequestVote>(out);
  ASSERT_EQ(votes.size(), 2u) << "RequestVote to every other server, in parallel";
  EXPECT_EQ(votes[0].first, 1);
  EXPECT_EQ(votes[1].first, 2);
  EXPECT_EQ(votes[0].second.term, 1u);
  EXPECT_EQ(votes[0].second.candidate_id, 0);
  EXPECT_GT(n.next_deadline(), deadline) << "a candidate re-arms its election timer";
}

TEST(RaftElection, ElectionTimeoutRedrawnAtEveryReset_5_2) {
  // Randomized timeouts make repeated split votes unlikely: every reset draws again.
  Node n = make_node(0, 3);
  std::set<Duration> timeouts;
  Time now = 0;
  for (int i = 0; i < 20; ++i) {
    const Time deadline = n.next_deadline();
    const Duration timeout = deadline - now;
    EXPECT_GE(timeout, 150 * kMillisecond);
    EXPECT_LE(timeout, 300 * kMillisecond);
    timeouts.insert(timeout);
    now = deadline;
    tick(n, now);  // split vote: nobody answers, a new election starts
  }
  EXPECT_GT(timeouts.size(), 15u);
  EXPECT_EQ(n.current_term(), 20u);
}

TEST(RaftElection, CandidateWithMajorityBecomesLeader_5_2) {
  Node n = make_node(0, 5);
  Out out;
  n.control(Control::Elect, 0, out);
  ASSERT_EQ(n.role(), Role::Candidate);
  EXPECT_TRUE(step(n, 1, RequestVoteReply{1, true}).sends.empty());
  EXPECT_EQ(n.role(), Role::Candidate) << "2 of 5 is not a majority";
  EXPECT_TRUE(step(n, 1, RequestVoteReply{1, true}).sends.empty());
  EXPECT_EQ(n.role(), Role::Candidate) << "the same voter counts once";
  out = step(n, 3, RequestVoteReply{1, true});
  EXPECT_EQ(n.role(), Role::Leader);
  EXPECT_EQ(n.leader_hint(), 0);
  EXPECT_TRUE(has_event(out, "became_leader"));
  // §5.2: the new leader at once sends AppendEntries to every server to establish authority.
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 4u);
  for (const auto& [to, ae] : aes) {
    EXPECT_EQ(ae.term, 1u);
    EXPECT_EQ(ae.leader_id, 0);
  }
  EXPECT_EQ(n.next_deadline(), 50 * kMillisecond) << "heartbeat timer armed";
}

TEST(RaftElection, StaleOrRefusedVotesDoNotCount_5_2) {
  Node n = make_node(0, 3, stored(4, {}));
  Out out;
  n.control(Control::Elect, 0, out);       // term 5
  step(n, 1, RequestVoteReply{4, true});   // from an earlier election
  step(n, 2, RequestVoteReply{5, false});  // refused
  EXPECT_EQ(n.role(), Role::Candidate);
  step(n, 2, RequestVoteReply{5, true});
  EXPECT_EQ(n.role(), Role::Leader);
}

TEST(RaftElection, SplitVoteStartsNewTermAfterTimeout_5_2) {
  Node n = make_node(0, 3);
  Out out;
  n.control(Control::Elect, 0, out);
  step(n, 1, RequestVoteReply{1, false});  // 1 voted for another candidate
  step(n, 2, RequestVoteReply{1, false});
  EXPECT_EQ(n.role(), Role::Candidate);
  out = tick(n, n.next_deadline());
  EXPECT_EQ(n.current_term(), 2u);
  EXPECT_EQ(sent<RequestVote>(out).size(), 2u);
}

TEST(RaftElection, CandidateReturnsToFollowerOnAppendEntriesOfItsTerm_5_2) {
  Node n = make_node(0, 3);
  Out out;
  n.control(Control::Elect, 0, out);  // term 1
  out = step(n, 2, AppendEntries{1, 2, 0, 0, {}, 0}, 10 * kMillisecond);
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.current_term(), 1u);
  EXPECT_EQ(n.leader_hint(), 2);
  EXPECT_TRUE(has_event(out, "became_follower"));
  auto replies = sent<AppendEntriesReply>(out);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].second.success);
}

TEST(RaftElection, LeaderStepsDownOnHigherTerm_5_1) {
  Node n = make_node(0, 3);
  elect(n);
  ASSERT_EQ(n.role(), Role::Leader);
  Out out = step(n, 1, AppendEntriesReply{7, false, 0, 0, 0}, kMillisecond);
  EXPECT_EQ(n.role(), Role::Follower);
  EXPECT_EQ(n.current_term(), 7u);
  EXPECT_EQ(n.voted_for(), kNoNode);
  EXPECT_EQ(n.leader_hint(), kNoNode);
  EXPECT_TRUE(has_event(out, "stepped_down"));
  ASSERT_EQ(out.persist.size(), 1u);
  EXPECT_EQ(std::get<SetTermVote>(out.persist[0]).current_term, 7u);
  EXPECT_NE(n.next_deadline(), kNever) << "a follower again runs an election timer";
}

TEST(RaftElection, StaleLeaderLearnsNewerTermFromReply_5_1) {
  Node n = make_node(1, 3, stored(5, {}));
  Out out = step(n, 0, AppendEntries{3, 0, 0, 0, {}, 0});
  auto replies = sent<AppendEntriesReply>(out);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_FALSE(replies[0].second.success);
  EXPECT_EQ(replies[0].second.term, 5u);
  EXPECT_EQ(n.leader_hint(), kNoNode) << "a stale leader is not recognized";
}

TEST(RaftControl, ElectFiresElectionTimerNow_LeaderIgnores) {
  Node n = make_node(0, 3);
  Out out;
  n.control(Control::Elect, 5 * kMillisecond, out);
  EXPECT_EQ(n.role(), Role::Candidate);
  elect(n, 6 * kMillisecond);
  ASSERT_EQ(n.role(), Role::Leader);
  const auto term = n.current_term();
  out.clear();
  n.control(Control::Elect, 7 * kMillisecond, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(n.current_term(), term);
}

// ---------------------------------------------------------------------------------------
// Voting (§5.2, §5.4.1, Figure 2)

TEST(RaftVote, GrantsAtMostOneVotePerTerm_5_2) {
  Node n = make_node(2, 3);
  auto r1 = sent<RequestVoteReply>(step(n, 0, RequestVote{1, 0, 0, 0}));
  auto r2 = sent<RequestVoteReply>(step(n, 1, RequestVote{1, 1, 0, 0}));
  auto r3 = sent<RequestVoteReply>(step(n, 0, RequestVote{1, 0, 0, 0}));  // a retransmission
  ASSERT_EQ(r1.size(), 1u);
  ASSERT_EQ(r2.size(), 1u);
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_TRUE(r1[0].second.vote_granted);
  EXPECT_FALSE(r2[0].second.vote_granted) << "already voted for node 0 in term 1";
  EXPECT_TRUE(r3[0].second.vote_granted) << "the same candidate may ask again";
  // A new term is a new vote.
  auto r4 = sent<RequestVoteReply>(step(n, 1, RequestVote{2, 1, 0, 0}));
  EXPECT_TRUE(r4[0].second.vote_granted);
}

TEST(RaftVote, VotePersistedBeforeReplyAndSurvivesRestart_Fig2) {
  PersistentState storage;
  auto n = std::make_unique<Node>(make_node(2, 3, storage));
  Out out = step(*n, 0, RequestVote{4, 0, 0, 0});
  // The vote is in the step's persist ops; the adapter writes them before any send leaves.
  ASSERT_FALSE(out.persist.empty());
  ASSERT_TRUE(std::get<RequestVoteReply>(out.sends.at(0).msg).vote_granted);
  EXPECT_TRUE(has_event(out, "vote_granted"));
  persist_into(storage, out);
  EXPECT_EQ(storage.current_term, 4u);
  EXPECT_EQ(storage.voted_for, 0);

  // Crash: volatile state is gone; the node is rebuilt from stable storage.
  n = std::make_unique<Node>(make_node(2, 3, storage, 10 * kMillisecond));
  EXPECT_EQ(n->current_term(), 4u);
  auto denied = sent<RequestVoteReply>(step(*n, 1, RequestVote{4, 1, 0, 0}, 11 * kMillisecond));
  EXPECT_FALSE(denied[0].second.vote_granted) << "no second vote in term 4 after a restart";
  auto again = sent<RequestVoteReply>(step(*n, 0, RequestVote{4, 0, 0, 0}, 12 * kMillisecond));
  EXPECT_TRUE(again[0].second.vote_granted);
}

TEST(RaftVote, RejectsCandidateWithStaleLog_5_4_1) {
  // Voter's log: terms [1, 1, 3].
  Node n = make_node(2, 3, stored(3, log_with_terms({1, 1, 3})));
  // Lower last term, longer log: not up-to-date.
  auto r = sent<RequestVoteReply>(step(n, 0, RequestVote{4, 0, 10, 2}));
  EXPECT_FALSE(r[0].second.vote_granted);
  EXPECT_EQ(n.current_term(), 4u) << "the term is adopted even when the vote is refused";
  // Same last term, shorter log: not up-to-date.
  r = sent<RequestVoteReply>(step(n, 0, RequestVote{5, 0, 2, 3}));
  EXPECT_FALSE(r[0].second.vote_granted);
  // Same last term, same length: up-to-date.
  r = sent<RequestVoteReply>(step(n, 0, RequestVote{6, 0, 3, 3}));
  EXPECT_TRUE(r[0].second.vote_granted);
  // Higher last term wins even with a shorter log.
  r = sent<RequestVoteReply>(step(n, 1, RequestVote{7, 1, 1, 4}));
  EXPECT_TRUE(r[0].second.vote_granted);
}

TEST(RaftVote, RejectsLowerTermAndKeepsTimer_5_1) {
  Node n = make_node(2, 3, stored(5, {}));
  const Time deadline = n.next_deadline();
  auto r = sent<RequestVoteReply>(step(n, 0, RequestVote{4, 0, 0, 0}, kMillisecond));
  EXPECT_FALSE(r[0].second.vote_granted);
  EXPECT_EQ(r[0].second.term, 5u);
  EXPECT_EQ(n.next_deadline(), deadline) << "only a granted vote resets the election timer";
}

// ---------------------------------------------------------------------------------------
// Log replication (§5.3)

TEST(RaftReplication, FollowerAppendsPersistsAndAcks_5_3) {
  Node n = make_node(1, 3);
  Out out = step(n, 0, AppendEntries{1, 0, 0, 0, log_with_terms({1, 1}), 0});
  ASSERT_EQ(out.persist.size(), 2u);  // term adopted, entries appended
  const auto& a = std::get<AppendLog>(out.persist[1]);
  EXPECT_EQ(a.first_index, 1u);
  EXPECT_EQ(a.entries.size(), 2u);
  auto replies = sent<AppendEntriesReply>(out);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_TRUE(replies[0].second.success);
  EXPECT_EQ(replies[0].second.match_index, 2u);
  EXPECT_EQ(n.log().size(), 2u);
  EXPECT_EQ(n.leader_hint(), 0);
}

TEST(RaftReplication, ConsistencyCheckFailsWhenPrevMissing_5_3) {
  Node n = make_node(1, 3, stored(2, log_with_terms({1, 1})));
  auto r = sent<AppendEntriesReply>(step(n, 0, AppendEntries{2, 0, 5, 2, log_with_terms({2}), 0}));
  EXPECT_FALSE(r[0].second.success);
  EXPECT_EQ(r[0].second.conflict_term, 0u);
  EXPECT_EQ(r[0].second.conflict_index, 3u) << "the follower's last index + 1";
  EXPECT_EQ(n.log().size(), 2u);
}

TEST(RaftReplication, ConsistencyCheckReportsConflictingTermAndItsFirstIndex_5_3) {
  Node n = make_node(1, 3, stored(3, log_with_terms({1, 1, 2, 2, 2})));
  auto r = sent<AppendEntriesReply>(step(n, 0, AppendEntries{3, 0, 5, 3, {}, 0}));
  EXPECT_FALSE(r[0].second.success);
  EXPECT_EQ(r[0].second.conflict_term, 2u);
  EXPECT_EQ(r[0].second.conflict_index, 3u);
}

TEST(RaftReplication, ConflictTruncatesThenAppends_5_3) {
  Node n = make_node(1, 3, stored(2, log_with_terms({1, 1, 2, 2})));
  const auto new_entries = log_with_terms({3, 3}, "new");
  Out out = step(n, 0, AppendEntries{3, 0, 2, 1, new_entries, 0});
  // Persisted incrementally: term, truncate from the conflict, append the new entries.
  ASSERT_EQ(out.persist.size(), 3u);
  EXPECT_EQ(std::get<TruncateLog>(out.persist[1]).from_index, 3u);
  EXPECT_EQ(std::get<AppendLog>(out.persist[2]).first_index, 3u);
  EXPECT_TRUE(has_event(out, "log_truncated"));
  ASSERT_EQ(n.log().size(), 4u);
  EXPECT_EQ(n.log()[2], new_entries[0]);
  EXPECT_EQ(n.log()[3], new_entries[1]);
}

TEST(RaftReplication, DelayedAppendEntriesNeverTruncatesMatchingEntries_5_3) {
  // Figure 2 receiver step 3 deletes only *conflicting* entries. A late AppendEntries carrying
  // a prefix of what we already have must leave the later entries alone.
  Node n = make_node(1, 3, stored(1, log_with_terms({1, 1, 1})));
  const auto prefix = std::vector<LogEntry>(n.log().begin(), n.log().begin() + 1);
  Out out = step(n, 0, AppendEntries{1, 0, 0, 0, prefix, 0});
  EXPECT_TRUE(out.persist.empty());
  EXPECT_EQ(n.log().size(), 3u);
  auto r = sent<AppendEntriesReply>(out);
  EXPECT_TRUE(r[0].second.success);
  EXPECT_EQ(r[0].second.match_index, 1u) << "match_index covers only what the request verified";
}

TEST(RaftReplication, FollowerCommitIsMinOfLeaderCommitAndLastNewEntry_Fig2) {
  // The follower holds stale entries past what this request verified: they must not be
  // committed even though leader_commit is higher.
  Node n = make_node(1, 3, stored(2, log_with_terms({1, 1, 1, 1})));
  Out out = step(n, 0, AppendEntries{2, 0, 1, 1, {}, 4});
  EXPECT_EQ(n.commit_index(), 1u);
  EXPECT_EQ(n.last_applied(), 1u);
  EXPECT_TRUE(has_event(out, "committed"));
  EXPECT_TRUE(has_event(out, "applied"));
}

TEST(RaftReplication, LeaderBacksUpPastWholeConflictingTerm_5_3) {
  // Leader log terms [1,1,1,4,4,5,5,6,6,6]; it becomes leader of term 8 (plus its Noop).
  Node n = make_node(0, 3, stored(7, log_with_terms({1, 1, 1, 4, 4, 5, 5, 6, 6, 6})));
  elect(n);
  ASSERT_EQ(n.role(), Role::Leader);
  EXPECT_EQ(n.next_index(1), 11u);
  // Follower has term 4 at the probe point and its term-4 entries start at 4: the leader holds
  // term 4 up to index 5, so it resumes right after its last term-4 entry.
  Out out = step(n, 1, AppendEntriesReply{8, false, 0, 4, 4});
  EXPECT_EQ(n.next_index(1), 6u);
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u) << "retry at once";
  EXPECT_EQ(aes[0].second.prev_log_index, 5u);
  EXPECT_EQ(aes[0].second.prev_log_term, 4u);
  // Follower has term 2 (which the leader never had) starting at index 2: skip all of it.
  step(n, 1, AppendEntriesReply{8, false, 0, 2, 2});
  EXPECT_EQ(n.next_index(1), 2u);
  // Follower log too short: go to its end.
  step(n, 2, AppendEntriesReply{8, false, 0, 0, 3});
  EXPECT_EQ(n.next_index(2), 3u);
}

TEST(RaftReplication, LeaderProbesOneBatchThenPipelinesUpToWindow) {
  Config config = test_config();
  config.max_entries_per_append = 4;
  config.max_inflight_appends = 2;
  Node n = make_node(0, 3, stored(1, log_with_terms(std::vector<std::uint64_t>(20, 1))), 0, config);
  elect(n);  // term 2, Noop at 21
  // Probing (the follower's log is unknown): one batch of at most 4 entries at a time.
  Out out = step(n, 1, AppendEntriesReply{2, false, 0, 0, 1});  // follower is empty
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].second.prev_log_index, 0u);
  EXPECT_EQ(aes[0].second.entries.size(), 4u);
  EXPECT_EQ(n.next_index(1), 1u) << "probing: next_index moves only with the reply";
  // Success: the logs match up to 4; now replicating, two batches in flight at once.
  out = step(n, 1, AppendEntriesReply{2, true, 4, 0, 0});
  aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 2u);
  EXPECT_EQ(aes[0].second.prev_log_index, 4u);
  EXPECT_EQ(aes[1].second.prev_log_index, 8u);
  EXPECT_EQ(n.next_index(1), 13u) << "replicating: next_index advances as batches leave";
  EXPECT_EQ(n.match_index(1), 4u);
  // A reply frees one slot: exactly one more batch.
  out = step(n, 1, AppendEntriesReply{2, true, 8, 0, 0});
  aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].second.prev_log_index, 12u);
  // A rejection (say a batch was lost) drops back to probing from the follower's hint.
  out = step(n, 1, AppendEntriesReply{2, false, 0, 0, 9});
  aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].second.prev_log_index, 8u);
  EXPECT_EQ(n.next_index(1), 9u);
}

TEST(RaftReplication, WindowOfOneIsStopAndWait) {
  Config config = test_config();
  config.max_inflight_appends = 1;
  Node n = make_node(0, 3, {}, 0, config);
  elect(n);
  step(n, 1, AppendEntriesReply{1, true, 1, 0, 0});  // Noop acknowledged: replicating
  Out out = step(n, 9, ClientRequest{9, 1, 1, put("x", "1", 9, 1)});
  EXPECT_EQ(sent<AppendEntries>(out).size(), 1u) << "peer 1 only: peer 2's Noop is unanswered";
  out = step(n, 9, ClientRequest{9, 2, 1, put("x", "2", 9, 2)});
  EXPECT_TRUE(sent<AppendEntries>(out).empty()) << "peer 1 has one in flight";
  out = step(n, 1, AppendEntriesReply{1, true, 2, 0, 0});
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].second.prev_log_index, 2u);
  EXPECT_EQ(aes[0].second.entries.size(), 1u);
}

TEST(RaftReplication, UnansweredBatchPresumedLostAfterAHeartbeatInterval) {
  Node n = make_node(0, 3);
  elect(n);
  step(n, 1, AppendEntriesReply{1, true, 1, 0, 0});         // peer 1 replicating, match 1
  step(n, 9, ClientRequest{9, 1, 1, put("x", "1", 9, 1)});  // entry 2 to peer 1: lost
  // First heartbeat: the batch may just be slow; a keep-alive at match_index (cannot fail).
  Out out = tick(n, 50 * kMillisecond);
  std::vector<AppendEntries> to1;
  for (auto& [to, ae] : sent<AppendEntries>(out)) {
    if (to == 1) to1.push_back(ae);
  }
  ASSERT_EQ(to1.size(), 1u);
  EXPECT_EQ(to1[0].prev_log_index, 1u);
  EXPECT_TRUE(to1[0].entries.empty());
  // Second heartbeat: still unanswered, presumed lost. The heartbeat is an empty probe at
  // match_index (not the batch again): a follower whose entries keep getting lost still hears
  // every heartbeat, so it never times out because of the loss.
  out = tick(n, 100 * kMillisecond);
  to1.clear();
  for (auto& [to, ae] : sent<AppendEntries>(out)) {
    if (to == 1) to1.push_back(ae);
  }
  ASSERT_EQ(to1.size(), 1u);
  EXPECT_EQ(to1[0].prev_log_index, 1u);
  EXPECT_TRUE(to1[0].entries.empty());
  // The probe succeeds: the lost entry is resent from match_index + 1 at once.
  out = step(n, 1, AppendEntriesReply{1, true, 1, 0, 0}, 101 * kMillisecond);
  to1.clear();
  for (auto& [to, ae] : sent<AppendEntries>(out)) {
    if (to == 1) to1.push_back(ae);
  }
  ASSERT_EQ(to1.size(), 1u);
  EXPECT_EQ(to1[0].prev_log_index, 1u);
  ASSERT_EQ(to1[0].entries.size(), 1u);
  EXPECT_EQ(to1[0].entries[0].command.key, "x");
}

TEST(RaftReplication, HeartbeatsEveryIntervalEvenWithBatchesInFlight_5_2) {
  Node n = make_node(0, 3);
  elect(n);
  Out out = tick(n, 49 * kMillisecond);
  EXPECT_TRUE(out.sends.empty());
  out = tick(n, 50 * kMillisecond);
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 2u) << "every follower hears from the leader each heartbeat_interval";
  // Nobody answered the first AppendEntries (with the Noop) yet: the heartbeat is an empty
  // keep-alive at match_index, not the same batch again.
  EXPECT_TRUE(aes[0].second.entries.empty());
  EXPECT_EQ(aes[0].second.prev_log_index, 0u);
  EXPECT_EQ(n.next_deadline(), 100 * kMillisecond);
  // Peer 1 answers the keep-alive (the Noop was lost): its log matches up to 0, so the leader
  // starts replicating from there.
  out = step(n, 1, AppendEntriesReply{1, true, 0, 0, 0}, 51 * kMillisecond);
  aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].second.entries.size(), 1u);
}

TEST(RaftReplication, SilentFollowerGetsEmptyProbesNotRepeatedBatches) {
  Node n = make_node(0, 3, stored(1, log_with_terms(std::vector<std::uint64_t>(10, 1))));
  elect(n);                                           // term 2; the Noop goes to both peers
  step(n, 1, AppendEntriesReply{2, true, 11, 0, 0});  // peer 1 answers; peer 2 is down
  for (int beat = 1; beat <= 5; ++beat) {
    Out out = tick(n, beat * 50 * kMillisecond);
    for (const auto& [to, ae] : sent<AppendEntries>(out)) {
      if (to == 2) {
        EXPECT_TRUE(ae.entries.empty()) << "heartbeat " << beat;
      }
    }
  }
  EXPECT_EQ(n.role(), Role::Leader);
}

// ---------------------------------------------------------------------------------------
// Commitment (§5.3, §5.4.2)

TEST(RaftCommit, LeaderAppendsNoopAtStartOfTerm_8) {
  Node n = make_node(0, 3, stored(2, log_with_terms({1, 2})));
  Out out = elect(n);
  ASSERT_EQ(n.log().size(), 3u);
  EXPECT_EQ(n.log()[2].term, 3u);
  EXPECT_EQ(n.log()[2].command.op, Command::Op::Noop);
  // Persisted, and carried by the first AppendEntries (next_index was set before the Noop).
  bool persisted = false;
  for (const auto& op : out.persist) persisted |= std::holds_alternative<AppendLog>(op);
  EXPECT_TRUE(persisted);
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 2u);
  EXPECT_EQ(aes[0].second.prev_log_index, 2u);
  EXPECT_EQ(aes[0].second.entries.size(), 1u);
}

TEST(RaftCommit, CurrentTermEntryCommitsOnMajorityAndCommitsEarlierOnes_5_3) {
  Node n = make_node(0, 5, stored(1, log_with_terms({1, 1})));
  elect(n);  // term 2, Noop at 3
  step(n, 1, AppendEntriesReply{2, true, 3, 0, 0});
  EXPECT_EQ(n.commit_index(), 0u) << "leader + 1 of 5 is not a majority";
  Out out = step(n, 2, AppendEntriesReply{2, true, 3, 0, 0});
  EXPECT_EQ(n.commit_index(), 3u) << "entries 1-2 commit indirectly with the Noop";
  EXPECT_EQ(n.last_applied(), 3u);
  EXPECT_TRUE(has_event(out, "committed"));
}

TEST(RaftCommit, Figure8_OldTermEntryOnMajorityNotCommittedByCounting_5_4_2) {
  // Figure 8 (c): S1 (here node 0) leads term 4 with an entry of term 2 at index 2 that it
  // replicates to a majority. That alone must not commit it: S5 could still be elected with a
  // term-3 entry at index 2 and overwrite it (Figure 8 (d)).
  Config config = test_config();
  config.max_entries_per_append = 1;  // replicate index 2 alone, before the term-4 Noop
  Node s1 = make_node(0, 5, stored(3, log_with_terms({1, 2})), 0, config);
  elect(s1);
  ASSERT_EQ(s1.current_term(), 4u);
  ASSERT_EQ(s1.log().size(), 3u);  // [1, 2, Noop(4)]
  // S2 and S3 now hold index 2 (term 2): with S1 that is 3 of 5.
  step(s1, 1, AppendEntriesReply{4, true, 2, 0, 0});
  step(s1, 2, AppendEntriesReply{4, true, 2, 0, 0});
  EXPECT_EQ(s1.commit_index(), 0u)
      << "an entry of an earlier term is never committed by counting replicas";
  // Figure 8 (e): once an entry of the current term is on a majority, everything before it is
  // committed too.
  step(s1, 1, AppendEntriesReply{4, true, 3, 0, 0});
  EXPECT_EQ(s1.commit_index(), 0u);
  step(s1, 2, AppendEntriesReply{4, true, 3, 0, 0});
  EXPECT_EQ(s1.commit_index(), 3u);
}

TEST(RaftCommit, Figure8_UncommittedOldTermEntryMayBeOverwritten_5_4_2) {
  // Figure 8 (d): S5 (node 4) holds [1, 3]; S2, S3 hold [1, 2] (the entry of (c), not
  // committed). S5's last term 3 > 2, so S2 and S3 vote for it (§5.4.1) and it overwrites index 2.
  const LogEntry first{1, put("x", "1")};
  const LogEntry term2{2, put("x", "from S1 in term 2")};
  const LogEntry term3{3, put("x", "from S5 in term 3")};
  Node s5 = make_node(4, 5, stored(4, {first, term3}));
  Node s2 = make_node(1, 5, stored(4, {first, term2}));
  Node s3 = make_node(2, 5, stored(4, {first, term2}));
  Out out;
  s5.control(Control::Elect, 0, out);
  const auto rv = sent<RequestVote>(out)[0].second;
  for (Node* voter : {&s2, &s3}) {
    auto reply = sent<RequestVoteReply>(step(*voter, 4, rv));
    ASSERT_TRUE(reply[0].second.vote_granted);
    step(s5, voter->id(), reply[0].second);
  }
  ASSERT_EQ(s5.role(), Role::Leader);
  // S5's first AppendEntries carries only its Noop (prev = 2, term 3): S2 rejects, backs up.
  Out ae_out = step(s2, 4, AppendEntries{5, 4, 2, 3, {}, 0});
  auto rej = sent<AppendEntriesReply>(ae_out)[0].second;
  EXPECT_EQ(rej.conflict_term, 2u);
  Out resend = step(s5, 1, rej);
  auto ae = sent<AppendEntries>(resend);
  ASSERT_EQ(ae.size(), 1u);
  step(s2, 4, ae[0].second);
  ASSERT_EQ(s2.log().size(), 3u);
  EXPECT_EQ(s2.log()[1].term, 3u) << "the uncommitted term-2 entry was replaced";
  EXPECT_EQ(s2.log(), s5.log());
}

// ---------------------------------------------------------------------------------------
// Client interaction (§8)

TEST(RaftClientRequest, NonLeaderRepliesNotLeaderWithHint_8) {
  Node n = make_node(1, 3);
  auto r = sent<ClientReply>(step(n, 9, request(9, 1, get("x"))));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first, 9);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::NotLeader);
  EXPECT_EQ(r[0].second.leader_hint, kNoNode) << "no leader known yet";
  step(n, 0, AppendEntries{1, 0, 0, 0, {}, 0});
  r = sent<ClientReply>(step(n, 9, request(9, 1, get("x"))));
  EXPECT_EQ(r[0].second.leader_hint, 0);
}

TEST(RaftClientRequest, LeaderRepliesOnlyAfterEntryApplied_8) {
  Node n = make_node(0, 3);
  elect(n);
  step(n, 1, AppendEntriesReply{1, true, 1, 0, 0});  // Noop committed
  ASSERT_EQ(n.commit_index(), 1u);
  Out out = step(n, 9, request(9, 1, put("x", "v1")));
  EXPECT_TRUE(sent<ClientReply>(out).empty()) << "no reply before commit + apply";
  // Replicated at once, not at the next heartbeat. Peer 2 has not answered its first
  // AppendEntries yet: it gets the new entry batched with its next one.
  auto aes = sent<AppendEntries>(out);
  ASSERT_EQ(aes.size(), 1u);
  EXPECT_EQ(aes[0].first, 1);
  EXPECT_EQ(aes[0].second.entries.size(), 1u);
  EXPECT_EQ(n.log().size(), 2u);
  out = step(n, 1, AppendEntriesReply{1, true, 2, 0, 0});
  EXPECT_EQ(n.last_applied(), 2u);
  EXPECT_EQ(n.kv().get("x"), "v1");
  auto r = sent<ClientReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first, 9);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::Ok);
  EXPECT_EQ(r[0].second.seq, 1);
}

TEST(RaftClientRequest, ReadGoesThroughLogAndSeesLatestWrite_8) {
  Node n = make_node(0, 1);  // a single-server cluster commits at once
  elect(n);
  ASSERT_EQ(n.role(), Role::Leader);
  step(n, 9, request(9, 1, put("x", "a")));
  step(n, 9, request(9, 2, append("x", "b")));
  Out out = step(n, 9, request(9, 3, get("x")));
  EXPECT_EQ(n.log().back().command.op, Command::Op::Get) << "the read is a log entry";
  auto r = sent<ClientReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.value, "ab");
}

TEST(RaftClientRequest, RetryOfPendingRequestNotAppendedTwice_8) {
  Node n = make_node(0, 3);
  elect(n);
  step(n, 1, AppendEntriesReply{1, true, 1, 0, 0});
  step(n, 9, request(9, 1, append("x", "a;")));
  step(n, 9, request(9, 1, append("x", "a;")));  // rpc timeout retry, same seq
  EXPECT_EQ(n.log().size(), 2u);
  Out out = step(n, 1, AppendEntriesReply{1, true, 2, 0, 0});
  EXPECT_EQ(sent<ClientReply>(out).size(), 1u);
  EXPECT_EQ(n.kv().get("x"), "a;");
}

TEST(RaftClientRequest, RetryOfAppliedRequestGetsRememberedResult_8) {
  Node n = make_node(0, 1);
  elect(n);
  step(n, 9, request(9, 1, put("x", "a")));
  step(n, 9, request(9, 2, get("x")));
  step(n, 8, request(8, 1, put("x", "b")));
  const auto log_size = n.log().size();
  Out out = step(n, 9, request(9, 2, get("x")));  // the reply to seq 2 was lost; retry
  EXPECT_EQ(n.log().size(), log_size) << "answered from the session, not appended";
  auto r = sent<ClientReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::Ok);
  EXPECT_EQ(r[0].second.value, "a") << "the result of the original execution";
}

TEST(RaftClientRequest, DuplicateEntriesInLogAppliedOnce_8) {
  // Two leaders of different terms each appended the same (client, seq): applied once.
  std::vector<LogEntry> log = {LogEntry{1, put("x", "")}, LogEntry{2, put("x", "")}};
  log[0].command = Command{Command::Op::Append, "x", "a;", "", 9, 1, 1};
  log[1].command = log[0].command;
  Node n = make_node(0, 1, stored(2, log));
  Out out = elect(n);
  EXPECT_EQ(n.commit_index(), 3u);
  EXPECT_EQ(n.kv().get("x"), "a;");
}

TEST(RaftClientRequest, SteppingDownRepliesNotLeaderToWaitingClients_8) {
  Node n = make_node(0, 3);
  elect(n);
  step(n, 9, request(9, 1, put("x", "a")));
  Out out = step(n, 2, RequestVote{5, 2, 2, 1});
  EXPECT_EQ(n.role(), Role::Follower);
  auto r = sent<ClientReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first, 9);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::NotLeader);
}

TEST(RaftClientRequest, SteppingDownOnNewLeadersAppendEntriesGivesHint_8) {
  Node n = make_node(0, 3);
  elect(n);
  step(n, 9, request(9, 1, put("x", "a")));
  Out out = step(n, 2, AppendEntries{5, 2, 0, 0, {}, 0});
  EXPECT_EQ(n.role(), Role::Follower);
  auto r = sent<ClientReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::NotLeader);
  EXPECT_EQ(r[0].second.leader_hint, 2) << "the client can go straight to the new leader";
}

TEST(RaftClientRequest, NewLeaderAttachesRetryToUncommittedEntryOfEarlierTerm_8) {
  // The entry (client 9, seq 1) was appended by an earlier leader and is not committed yet.
  std::vector<LogEntry> log = {LogEntry{1, Command{Command::Op::Put, "x", "v", "", 9, 1, 1}}};
  Node n = make_node(0, 3, stored(1, log));
  elect(n);
  step(n, 9, request(9, 1, put("x", "v")));
  EXPECT_EQ(n.log().size(), 2u) << "the retry waits for the existing entry";
  Out out = step(n, 1, AppendEntriesReply{2, true, 2, 0, 0});
  auto r = sent<ClientReply>(out);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].second.status, ClientReply::Status::Ok);
}

// ---------------------------------------------------------------------------------------
// Recovery (Figure 2: volatile state is lost)

TEST(RaftRecovery, RestartRebuildsStateMachineAsCommitAdvances_Fig2) {
  std::vector<LogEntry> log = {LogEntry{1, put("x", "a")}, LogEntry{1, put("y", "b")}};
  Node n = make_node(1, 3, stored(1, log, 0));
  EXPECT_EQ(n.commit_index(), 0u);
  EXPECT_EQ(n.last_applied(), 0u);
  EXPECT_EQ(n.kv().get("x"), "");
  EXPECT_EQ(n.voted_for(), 0);
  step(n, 0, AppendEntries{1, 0, 2, 1, {}, 2});
  EXPECT_EQ(n.last_applied(), 2u);
  EXPECT_EQ(n.kv().get("x"), "a");
  EXPECT_EQ(n.kv().get("y"), "b");
}

}  // namespace
}  // namespace faultline::raft
