// The Raft workload client: leader discovery and retries (extended paper §8), Jepsen-style
// history entries (SCENARIOS.md, "History format"), closed and open loop.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "protocols/raft/client.hpp"
#include "tests/harness/raft_test_util.hpp"

namespace faultline::raft {
namespace {

using testing::from;

constexpr NodeId kClient = 10;
const std::vector<NodeId> kServers = {0, 1, 2};
using Out = Client::Out;

ClientConfig config(std::int64_t ops,
                    std::vector<std::pair<std::string, double>> mix = {{"put", 1}}, int index = 0,
                    int num_clients = 1) {
  ClientConfig c;
  c.client_index = index;
  c.num_clients = num_clients;
  c.ops = ops;
  c.mix = std::move(mix);
  c.keys = 3;
  c.rpc_timeout = 100 * kMillisecond;
  c.client_timeout = kSecond;
  c.start = 10 * kMillisecond;
  return c;
}

Client make_client(const ClientConfig& c, std::uint64_t seed = 3) {
  return Client(kClient, kServers, c, Rng(seed).fork("workload/c1"), 0);
}

std::vector<std::pair<NodeId, ClientRequest>> requests(const Out& out) {
  std::vector<std::pair<NodeId, ClientRequest>> found;
  for (const auto& s : out.sends) found.emplace_back(s.to, std::get<ClientRequest>(s.msg));
  return found;
}

Out tick(Client& c, Time now) {
  Out out;
  c.tick(now, out);
  c.check_invariants();
  return out;
}

Out reply(Client& c, NodeId server, ClientReply r, Time now) {
  Out out;
  c.step(from(server, kClient, std::move(r)), now, out);
  c.check_invariants();
  return out;
}

ClientReply ok(const ClientRequest& req, std::string value = "", bool cas_matched = false) {
  return ClientReply{req.client_id, req.seq,          ClientReply::Status::Ok,
                     kNoNode,       std::move(value), cas_matched};
}

ClientReply not_leader(const ClientRequest& req, NodeId hint) {
  return ClientReply{req.client_id, req.seq, ClientReply::Status::NotLeader, hint, "", false};
}

TEST(RaftWorkloadClient, FirstOperationAtStartGoesToInitialGuess) {
  Client c = make_client(config(5, {{"put", 1}}, /*index=*/1, /*num_clients=*/2));
  EXPECT_EQ(c.next_deadline(), 10 * kMillisecond);
  EXPECT_TRUE(tick(c, 9 * kMillisecond).empty());
  Out out = tick(c, 10 * kMillisecond);
  auto reqs = requests(out);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].first, 1) << "initial guess: servers[client_index % servers]";
  EXPECT_EQ(reqs[0].second.client_id, kClient);
  EXPECT_EQ(reqs[0].second.seq, 1);
  EXPECT_EQ(reqs[0].second.ack_below, 1);
  EXPECT_EQ(reqs[0].second.command.op, Command::Op::Put);
  EXPECT_EQ(reqs[0].second.command.value, "c2.1") << "unique value: client number and seq";
  ASSERT_EQ(out.history.size(), 1u);
  EXPECT_EQ(out.history[0].type, OpType::Invoke);
  EXPECT_EQ(out.history[0].process, 1);
  EXPECT_EQ(out.history[0].client, kClient);
  EXPECT_EQ(out.history[0].time, 10 * kMillisecond);
}

TEST(RaftWorkloadClient, ClosedLoopIssuesNextOperationOnCompletion) {
  Client c = make_client(config(3));
  auto req = requests(tick(c, 10 * kMillisecond))[0].second;
  Out out = reply(c, 0, ok(req), 12 * kMillisecond);
  ASSERT_EQ(out.history.size(), 2u);
  EXPECT_EQ(out.history[0].type, OpType::Ok);
  EXPECT_EQ(out.history[1].type, OpType::Invoke);
  EXPECT_EQ(out.history[1].process, out.history[0].process);
  auto next = requests(out);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].second.seq, 2);
  EXPECT_EQ(next[0].second.ack_below, 2) << "seq 1 is finished";
  EXPECT_EQ(c.outstanding(), 1u);
}

TEST(RaftWorkloadClient, RpcTimeoutRetriesNextServerWithSameSeq_8) {
  Client c = make_client(config(1));
  auto first = requests(tick(c, 10 * kMillisecond))[0];
  EXPECT_EQ(c.next_deadline(), 110 * kMillisecond);
  Out out = tick(c, 110 * kMillisecond);
  auto retry = requests(out);
  ASSERT_EQ(retry.size(), 1u);
  EXPECT_EQ(retry[0].first, 1) << "the next server, round robin";
  EXPECT_EQ(retry[0].second.seq, first.second.seq);
  EXPECT_EQ(retry[0].second.command, first.second.command);
  EXPECT_TRUE(out.history.empty()) << "a retry is the same operation in the history";
  out = tick(c, 210 * kMillisecond);
  EXPECT_EQ(requests(out)[0].first, 2);
  out = tick(c, 310 * kMillisecond);
  EXPECT_EQ(requests(out)[0].first, 0) << "wraps around";
}

TEST(RaftWorkloadClient, NotLeaderWithHintRedirectsAtOnce_8) {
  Client c = make_client(config(1));
  auto req = requests(tick(c, 10 * kMillisecond))[0].second;
  Out out = reply(c, 0, not_leader(req, 2), 11 * kMillisecond);
  auto again = requests(out);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, 2);
  EXPECT_EQ(again[0].second.seq, req.seq);
  EXPECT_EQ(c.believed_leader(), 2);
  // A redirect from the server we left is stale and ignored.
  EXPECT_TRUE(reply(c, 0, not_leader(req, 1), 12 * kMillisecond).empty());
}

TEST(RaftWorkloadClient, NotLeaderWithoutHintTriesNextAndPausesAfterFullRound) {
  Client c = make_client(config(1));
  auto req = requests(tick(c, 10 * kMillisecond))[0].second;
  auto r1 = requests(reply(c, 0, not_leader(req, kNoNode), 11 * kMillisecond));
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].first, 1);
  auto r2 = requests(reply(c, 1, not_leader(req, kNoNode), 12 * kMillisecond));
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].first, 2);
  // Third server without a hint: no leader anywhere (an election): pause one rpc_timeout.
  EXPECT_TRUE(reply(c, 2, not_leader(req, kNoNode), 13 * kMillisecond).sends.empty());
  EXPECT_EQ(c.next_deadline(), 113 * kMillisecond);
  auto r3 = requests(tick(c, 113 * kMillisecond));
  ASSERT_EQ(r3.size(), 1u);
  EXPECT_EQ(r3[0].first, 0);
  EXPECT_EQ(r3[0].second.seq, req.seq);
}

TEST(RaftWorkloadClient, ClientTimeoutRecordsInfoAndContinuesUnderNewProcess) {
  // Jepsen's scheme: process p becomes p + num_clients after an info.
  Client c = make_client(config(2, {{"put", 1}}, /*index=*/1, /*num_clients=*/3));
  tick(c, 10 * kMillisecond);
  Time now = 10 * kMillisecond;
  Out out;
  while (out.history.empty()) {
    now = c.next_deadline();
    out = tick(c, now);
  }
  EXPECT_EQ(now, 10 * kMillisecond + kSecond);
  ASSERT_EQ(out.history.size(), 2u);
  EXPECT_EQ(out.history[0].type, OpType::Info);
  EXPECT_EQ(out.history[0].process, 1);
  EXPECT_EQ(out.history[0].value, "c2.1") << "info carries the invoke's argument";
  EXPECT_EQ(out.history[1].type, OpType::Invoke);
  EXPECT_EQ(out.history[1].process, 4);
  EXPECT_EQ(c.ops_info(), 1);
  auto next = requests(out);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].second.seq, 2);
  EXPECT_EQ(next[0].second.ack_below, 2) << "the given-up seq no longer holds sessions back";
  // A late reply to the given-up op is ignored.
  ClientRequest old = next[0].second;
  old.seq = 1;
  EXPECT_TRUE(reply(c, 0, ok(old), now + 1).empty());
}

TEST(RaftWorkloadClient, DoneAfterLastOperationArmsNoTimer) {
  Client c = make_client(config(1));
  EXPECT_FALSE(c.done());
  auto req = requests(tick(c, 10 * kMillisecond))[0].second;
  Out out = reply(c, 0, ok(req), 11 * kMillisecond);
  EXPECT_TRUE(out.sends.empty());
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.next_deadline(), kNever);
}

TEST(RaftWorkloadClient, HistoryEntriesWellFormed) {
  // get: invoke null, ok the value read; put/append: the value; cas: [expected, new] + result.
  Client c = make_client(config(40, {{"get", 1}, {"put", 1}, {"append", 1}, {"cas", 1}}));
  std::vector<HistoryEntry> history;
  Time now = 10 * kMillisecond;
  Out out = tick(c, now);
  std::map<std::string, std::string> store;  // a model of the cluster: replies consistently
  while (!c.done()) {
    history.insert(history.end(), out.history.begin(), out.history.end());
    const auto req = requests(out).at(0).second;
    const Command& cmd = req.command;
    ClientReply r = ok(req);
    if (cmd.op == Command::Op::Get) r.value = store[cmd.key];
    if (cmd.op == Command::Op::Put) store[cmd.key] = cmd.value;
    if (cmd.op == Command::Op::Append) store[cmd.key] += cmd.value;
    if (cmd.op == Command::Op::Cas) {
      r.cas_matched = store[cmd.key] == cmd.expected;
      if (r.cas_matched) store[cmd.key] = cmd.value;
      r.value = store[cmd.key];
    }
    now += kMillisecond;
    out = reply(c, 0, r, now);
  }
  history.insert(history.end(), out.history.begin(), out.history.end());
  ASSERT_EQ(history.size(), 80u);
  std::set<std::string> values;
  int cas_matched = 0;
  for (std::size_t i = 0; i < history.size(); i += 2) {
    const HistoryEntry& inv = history[i];
    const HistoryEntry& done = history[i + 1];
    ASSERT_EQ(inv.type, OpType::Invoke);
    ASSERT_EQ(done.type, OpType::Ok);
    EXPECT_EQ(inv.f, done.f);
    EXPECT_EQ(inv.key, done.key);
    ASSERT_TRUE(inv.key.has_value());
    EXPECT_EQ(inv.key->substr(0, 1), "k");
    EXPECT_LE(inv.time, done.time);
    if (inv.f == "get") {
      EXPECT_TRUE(inv.value.is_null());
      EXPECT_TRUE(done.value.is_string());
      EXPECT_FALSE(done.result.has_value());
    } else if (inv.f == "cas") {
      ASSERT_TRUE(inv.value.is_array());
      ASSERT_EQ(inv.value.size(), 2u);
      EXPECT_EQ(done.value, inv.value);
      ASSERT_TRUE(done.result.has_value());
      cas_matched += *done.result;
      EXPECT_TRUE(values.insert(inv.value[1].get<std::string>()).second) << "unique new value";
    } else {
      ASSERT_TRUE(inv.value.is_string());
      EXPECT_EQ(done.value, inv.value);
      EXPECT_TRUE(values.insert(inv.value.get<std::string>()).second) << "unique value";
      if (inv.f == "append") {
        EXPECT_EQ(inv.value.get<std::string>().back(), ';');
      }
    }
  }
  // cas expects the last value the client saw, so with a consistent store some cas match.
  EXPECT_GT(cas_matched, 0);
  // Acked writes: every put and append, and the cas that matched.
  std::size_t writes = 0;
  for (std::size_t i = 1; i < history.size(); i += 2) {
    writes += history[i].f == "put" || history[i].f == "append" ||
              (history[i].f == "cas" && history[i].result == true);
  }
  EXPECT_EQ(c.acked_writes().size(), writes);
}

TEST(RaftWorkloadClient, MixAndKeysFollowWeights) {
  Client c = make_client(config(3000, {{"get", 3}, {"put", 1}}));
  std::map<Command::Op, int> ops;
  std::map<std::string, int> keys;
  Out out = tick(c, 10 * kMillisecond);
  Time now = 10 * kMillisecond;
  while (!c.done()) {
    const auto req = requests(out).at(0).second;
    ++ops[req.command.op];
    ++keys[req.command.key];
    out = reply(c, 0, ok(req), ++now);
  }
  EXPECT_NEAR(ops[Command::Op::Get] / 3000.0, 0.75, 0.04);
  EXPECT_EQ(keys.size(), 3u);
  for (const auto& [key, n] : keys) EXPECT_NEAR(n / 3000.0, 1.0 / 3, 0.04) << key;
}

TEST(RaftWorkloadClient, OpenLoopPoissonArrivalsEachWithOwnProcess) {
  ClientConfig cfg = config(200, {{"put", 1}}, /*index=*/2, /*num_clients=*/4);
  cfg.ops = 200;
  cfg.rate_per_s = 1000;
  Client c = make_client(cfg);
  std::vector<HistoryEntry> invokes;
  std::vector<ClientRequest> reqs;
  Time now = 0;
  while (invokes.size() < 200) {
    now = c.next_deadline();
    ASSERT_LT(now, kSecond) << "200 arrivals at 1000/s take about 0.2 s";
    Out out = tick(c, now);
    for (auto& h : out.history) invokes.push_back(h);
    for (auto& [to, r] : requests(out)) reqs.push_back(r);
  }
  EXPECT_GT(now, 100 * kMillisecond);
  EXPECT_LT(now, 400 * kMillisecond);
  EXPECT_EQ(c.outstanding(), 200u) << "open loop does not wait for replies";
  for (std::size_t k = 0; k < invokes.size(); ++k) {
    EXPECT_EQ(invokes[k].process, 2 + static_cast<std::int64_t>(k) * 4);
  }
  EXPECT_EQ(reqs.back().ack_below, 1) << "seq 1 still outstanding";
  // Completing seq 1 lets ack_below move to the smallest outstanding seq.
  reply(c, 0, ok(reqs[0]), now);
  reply(c, 0, ok(reqs[2]), now);
  // Every request from now on (retries after rpc_timeout) carries the new ack_below.
  Out retry = tick(c, c.next_deadline());
  auto rs = requests(retry);
  ASSERT_FALSE(rs.empty());
  for (const auto& [to, r] : rs) EXPECT_EQ(r.ack_below, 2);
}

}  // namespace
}  // namespace faultline::raft
