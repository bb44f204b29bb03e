// Raft messages: names, wire sizes, and the persistent state's incremental ops (Figure 2).
#include <gtest/gtest.h>

#include "protocols/raft/messages.hpp"
#include "tests/harness/raft_test_util.hpp"

namespace faultline::raft {
namespace {

using testing::log_with_terms;

TEST(RaftMessages, KindName_EveryAlternative) {
  EXPECT_STREQ(kind_name(RequestVote{}), "request_vote");
  EXPECT_STREQ(kind_name(RequestVoteReply{}), "request_vote_reply");
  AppendEntries with_entries;
  with_entries.entries.push_back(LogEntry{1, Command{}});
  EXPECT_STREQ(kind_name(with_entries), "append_entries");
  // §5.2's heartbeat is an AppendEntries without entries, named apart for counts and filters.
  EXPECT_STREQ(kind_name(AppendEntries{}), "heartbeat");
  EXPECT_STREQ(kind_name(AppendEntriesReply{}), "append_entries_reply");
  EXPECT_STREQ(kind_name(ClientRequest{}), "client_request");
  EXPECT_STREQ(kind_name(ClientReply{}), "client_reply");
}

TEST(RaftMessages, WireSize_GrowsWithEntriesAndStrings) {
  const auto heartbeat = wire_size(AppendEntries{});
  EXPECT_GE(heartbeat, 24u);
  EXPECT_LE(heartbeat, 128u);
  AppendEntries one;
  one.entries = log_with_terms({1});
  AppendEntries two;
  two.entries = log_with_terms({1, 1});
  EXPECT_GT(wire_size(one), heartbeat);
  EXPECT_EQ(wire_size(two) - wire_size(one), wire_size(one) - heartbeat)
      << "equal-size entries cost the same";

  ClientRequest small;
  small.command.key = "k";
  ClientRequest big = small;
  big.command.value = std::string(1000, 'v');
  EXPECT_EQ(wire_size(big) - wire_size(small), 1000u);

  ClientReply reply;
  ClientReply read = reply;
  read.value = std::string(100, 'v');
  EXPECT_EQ(wire_size(read) - wire_size(reply), 100u);
  EXPECT_GE(wire_size(RequestVote{}), 24u);
  EXPECT_GE(wire_size(RequestVoteReply{}), 24u);
}

TEST(RaftPersistentState, Apply_TruncateThenAppendIsIncremental_5_3) {
  PersistentState ps;
  ps.apply(SetTermVote{3, 2});
  EXPECT_EQ(ps.current_term, 3u);
  EXPECT_EQ(ps.voted_for, 2);
  ps.apply(AppendLog{1, log_with_terms({1, 1, 2})});
  ASSERT_EQ(ps.log.size(), 3u);
  ps.apply(TruncateLog{2});
  ASSERT_EQ(ps.log.size(), 1u);
  ps.apply(AppendLog{2, log_with_terms({3})});
  ASSERT_EQ(ps.log.size(), 2u);
  EXPECT_EQ(ps.log[1].term, 3u);
  ps.apply(TruncateLog{10});  // past the end: nothing to delete
  EXPECT_EQ(ps.log.size(), 2u);
  EXPECT_GT(persist_size(AppendLog{1, log_with_terms({1, 1})}),
            persist_size(AppendLog{1, log_with_terms({1})}));
}

TEST(RaftCommand, OpName_AllOps) {
  EXPECT_STREQ(op_name(Command::Op::Noop), "noop");
  EXPECT_STREQ(op_name(Command::Op::Get), "get");
  EXPECT_STREQ(op_name(Command::Op::Put), "put");
  EXPECT_STREQ(op_name(Command::Op::Append), "append");
  EXPECT_STREQ(op_name(Command::Op::Cas), "cas");
}

}  // namespace
}  // namespace faultline::raft
