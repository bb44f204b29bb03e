// The replicated state machine: KV semantics and at-most-once sessions (extended paper §8).
#include <gtest/gtest.h>

#include "protocols/raft/kv.hpp"
#include "protocols/raft/messages.hpp"

namespace faultline::raft {
namespace {

Command cmd(Command::Op op, std::string key, std::string value = "", std::string expected = "",
            std::int64_t client_id = -1, std::int64_t seq = 0, std::int64_t ack_below = 0) {
  Command c;
  c.op = op;
  c.key = std::move(key);
  c.value = std::move(value);
  c.expected = std::move(expected);
  c.client_id = client_id;
  c.seq = seq;
  c.ack_below = ack_below;
  return c;
}

TEST(RaftKv, Get_AbsentKeyReadsEmptyString) {
  KvStore kv;
  EXPECT_EQ(kv.get("missing"), "");
  EXPECT_EQ(kv.apply(cmd(Command::Op::Get, "missing")).value, "");
}

TEST(RaftKv, PutAppendCas_Semantics) {
  KvStore kv;
  kv.apply(cmd(Command::Op::Put, "x", "a"));
  EXPECT_EQ(kv.get("x"), "a");
  kv.apply(cmd(Command::Op::Append, "x", "b;"));
  EXPECT_EQ(kv.get("x"), "ab;");
  kv.apply(cmd(Command::Op::Append, "y", "1;"));  // append to absent == append to ""
  EXPECT_EQ(kv.get("y"), "1;");

  auto miss = kv.apply(cmd(Command::Op::Cas, "x", "z", "nope"));
  EXPECT_FALSE(miss.cas_matched);
  EXPECT_EQ(miss.value, "ab;") << "cas reports the key's value after the op";
  EXPECT_EQ(kv.get("x"), "ab;");

  auto hit = kv.apply(cmd(Command::Op::Cas, "x", "z", "ab;"));
  EXPECT_TRUE(hit.cas_matched);
  EXPECT_EQ(kv.get("x"), "z");

  // cas on an absent key matches the empty string
  EXPECT_TRUE(kv.apply(cmd(Command::Op::Cas, "new", "v", "")).cas_matched);
  EXPECT_EQ(kv.apply(cmd(Command::Op::Get, "new")).value, "v");
}

TEST(RaftKv, Apply_DuplicateClientSeqExecutedOnce_8) {
  // §8: a command whose serial number was already executed is answered, not re-executed.
  KvStore kv;
  KvStore::Outcome outcome;
  kv.apply(cmd(Command::Op::Append, "x", "a;", "", 5, 1, 1), &outcome);
  EXPECT_EQ(outcome, KvStore::Outcome::Executed);
  kv.apply(cmd(Command::Op::Append, "x", "a;", "", 5, 1, 1), &outcome);
  EXPECT_EQ(outcome, KvStore::Outcome::Duplicate);
  EXPECT_EQ(kv.get("x"), "a;");
  EXPECT_TRUE(kv.applied(5, 1));
  EXPECT_FALSE(kv.applied(5, 2));
  EXPECT_FALSE(kv.applied(6, 1));
}

TEST(RaftKv, Apply_DuplicateReturnsRememberedResultNotCurrentState_8) {
  KvStore kv;
  kv.apply(cmd(Command::Op::Put, "x", "old"));
  auto first = kv.apply(cmd(Command::Op::Get, "x", "", "", 5, 1, 1));
  kv.apply(cmd(Command::Op::Put, "x", "new"));
  auto again = kv.apply(cmd(Command::Op::Get, "x", "", "", 5, 1, 1));
  EXPECT_EQ(first.value, "old");
  EXPECT_EQ(again.value, "old");
  ASSERT_NE(kv.remembered(5, 1), nullptr);
  EXPECT_EQ(kv.remembered(5, 1)->value, "old");
}

TEST(RaftKv, Apply_SeveralOutstandingSeqsRememberedUntilAcked) {
  // Open loop: seqs 1, 2, 3 outstanding at once (ack_below 1); applied out of order.
  KvStore kv;
  kv.apply(cmd(Command::Op::Append, "x", "3;", "", 9, 3, 1));
  kv.apply(cmd(Command::Op::Append, "x", "1;", "", 9, 1, 1));
  kv.apply(cmd(Command::Op::Append, "x", "2;", "", 9, 2, 1));
  EXPECT_NE(kv.remembered(9, 1), nullptr);
  EXPECT_NE(kv.remembered(9, 2), nullptr);
  EXPECT_NE(kv.remembered(9, 3), nullptr);
  // Retries of each are duplicates.
  for (int seq = 1; seq <= 3; ++seq) {
    KvStore::Outcome o;
    kv.apply(cmd(Command::Op::Append, "x", "dup;", "", 9, seq, 1), &o);
    EXPECT_EQ(o, KvStore::Outcome::Duplicate) << seq;
  }
  EXPECT_EQ(kv.get("x"), "3;1;2;");
  // Seq 4 says everything below 3 is finished: 1 and 2 are forgotten, 3 is still remembered.
  kv.apply(cmd(Command::Op::Put, "y", "v", "", 9, 4, 3));
  EXPECT_EQ(kv.remembered(9, 1), nullptr);
  EXPECT_EQ(kv.remembered(9, 2), nullptr);
  EXPECT_NE(kv.remembered(9, 3), nullptr);
  EXPECT_TRUE(kv.stale(9, 1));
  EXPECT_FALSE(kv.stale(9, 3));
  // A very late retry of seq 1 is stale: not executed again.
  KvStore::Outcome o;
  kv.apply(cmd(Command::Op::Append, "x", "1;", "", 9, 1, 1), &o);
  EXPECT_EQ(o, KvStore::Outcome::Stale);
  EXPECT_EQ(kv.get("x"), "3;1;2;");
  // The applied-writes record is never forgotten (end-of-run check).
  EXPECT_TRUE(kv.applied(9, 1));
}

TEST(RaftKv, Applied_RecordsWritesOnly) {
  KvStore kv;
  kv.apply(cmd(Command::Op::Get, "x", "", "", 1, 1, 1));
  kv.apply(cmd(Command::Op::Cas, "x", "v", "wrong", 1, 2, 2));
  kv.apply(cmd(Command::Op::Put, "x", "v", "", 1, 3, 3));
  EXPECT_FALSE(kv.applied(1, 1));
  EXPECT_TRUE(kv.applied(1, 2)) << "a cas that did not match was still executed";
  EXPECT_TRUE(kv.applied(1, 3));
}

TEST(RaftKv, Apply_SameCommandsSameStateOnEveryReplica) {
  // Determinism: two replicas applying the same log agree, duplicates and stale ones included.
  std::vector<Command> log = {cmd(Command::Op::Put, "a", "1", "", 3, 1, 1),
                              cmd(Command::Op::Append, "a", "2", "", 3, 2, 2),
                              cmd(Command::Op::Append, "a", "2", "", 3, 2, 2),
                              cmd(Command::Op::Append, "a", "x", "", 3, 1, 1),
                              cmd(Command::Op::Cas, "a", "3", "12", 4, 1, 1)};
  KvStore r1, r2;
  for (const auto& c : log) {
    EXPECT_EQ(r1.apply(c), r2.apply(c));
  }
  EXPECT_EQ(r1.data(), r2.data());
  EXPECT_EQ(r1.get("a"), "3");
}

}  // namespace
}  // namespace faultline::raft
