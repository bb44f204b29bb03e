// reports/trace: trace.json (Chrome trace event format) built from a small hand-made run record.
#include "reports/trace.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "common/rng.hpp"

namespace faultline::reports {
namespace {

constexpr Time ms(std::int64_t n) { return n * kMillisecond; }

/// Two servers and a client: n1 is elected, crashes at 1 s (a `crash: leader` with `for: 1s`),
/// n2 takes over, n1 comes back at 2 s as a follower; c1's operations overlap once (an open-loop
/// style op), one times out and one is still open at the end; one message n1 -> n2.
RunRecord sample_record() {
  RunRecord r;
  r.nodes = {{0, "n1", NodeKind::Server}, {1, "n2", NodeKind::Server}, {2, "c1", NodeKind::Client}};
  auto event = [&](Time t, NodeId node, const char* kind,
                   nlohmann::json fields = nlohmann::json::object()) {
    r.events.push_back(EventRecord{t, node, kind, std::move(fields)});
  };
  for (NodeId id : {0, 1, 2}) event(0, id, "start", {{"incarnation", 0}});
  event(ms(100), 0, "became_candidate", {{"term", 1}});
  event(ms(110), 0, "became_leader", {{"term", 1}, {"last_log_index", 0}});
  FaultRecord crash{ms(1000),
                    0,
                    "crash",
                    {{"at", "1s"}, {"crash", "leader"}, {"for", "1s"}},
                    std::vector<std::string>{"n1"},
                    ""};
  r.faults.push_back(crash);
  event(ms(1000), kNoNode, "fault", {{"fault", "crash"}, {"index", 0}, {"target", {"n1"}}});
  event(ms(1000), 0, "crash", {{"incarnation", 0}});
  event(ms(1200), 1, "became_candidate", {{"term", 2}});
  event(ms(1210), 1, "became_leader", {{"term", 2}, {"last_log_index", 3}});
  FaultRecord restart = crash;
  restart.time = ms(2000);
  restart.kind = "restart";
  restart.note = "undo: for elapsed";
  r.faults.push_back(restart);
  event(ms(2000), kNoNode, "fault", {{"fault", "restart"}, {"index", 0}, {"target", {"n1"}}});
  event(ms(2000), 0, "restart", {{"incarnation", 1}});

  auto op = [&](std::int64_t process, OpType type, const char* f, Time t) {
    HistoryEntry h;
    h.process = process;
    h.type = type;
    h.f = f;
    h.key = "k1";
    h.time = t;
    h.client = 2;
    r.history.push_back(h);
  };
  op(0, OpType::Invoke, "get", ms(200));
  op(0, OpType::Ok, "get", ms(210));
  op(0, OpType::Invoke, "put", ms(500));
  op(7, OpType::Invoke, "get", ms(600));  // overlaps the put: needs a second track
  op(7, OpType::Ok, "get", ms(700));
  op(0, OpType::Info, "put", ms(1500));
  op(1, OpType::Invoke, "append", ms(1500));  // never completes
  r.messages.push_back(MessageRecord{ms(110), ms(112), 0, 1, "append_entries"});
  r.end_time = ms(3000);
  return r;
}

TraceOptions options() {
  TraceOptions o;
  o.scenario = "sample";
  o.protocol = "raft";
  o.seed = 7;
  o.initial_role = "follower";
  return o;
}

struct Parsed {
  nlohmann::json doc;
  std::map<std::string, std::pair<int, int>> track;  // thread name -> (pid, tid)
  std::vector<nlohmann::json> events;                // everything but metadata

  std::vector<nlohmann::json> on(const std::string& thread, const std::string& ph) const {
    std::vector<nlohmann::json> out;
    const auto [pid, tid] = track.at(thread);
    for (const auto& e : events)
      if (e["pid"] == pid && e["tid"] == tid && e["ph"] == ph) out.push_back(e);
    return out;
  }
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.doc = nlohmann::json::parse(text);
  for (const auto& e : p.doc["traceEvents"]) {
    if (e["ph"] == "M") {
      if (e["name"] == "thread_name") p.track[e["args"]["name"]] = {e["pid"], e["tid"]};
      continue;
    }
    p.events.push_back(e);
  }
  return p;
}

TEST(Trace, EveryEventHasTheRequiredFields) {
  const auto p = parse(trace_json(sample_record(), options()));
  ASSERT_TRUE(p.doc["traceEvents"].is_array());
  EXPECT_EQ(p.doc["otherData"]["scenario"], "sample");
  EXPECT_EQ(p.doc["otherData"]["seed"], 7);
  const std::set<std::string> phases = {"M", "X", "i", "b", "e"};
  for (const auto& e : p.doc["traceEvents"]) {
    ASSERT_TRUE(e.contains("name") && e["name"].is_string()) << e;
    ASSERT_TRUE(phases.count(e["ph"].get<std::string>())) << e;
    ASSERT_TRUE(e["ts"].is_number()) << e;
    ASSERT_TRUE(e["pid"].is_number_integer() && e["tid"].is_number_integer()) << e;
    if (e["ph"] == "X") {
      EXPECT_GE(e["dur"].get<double>(), 0) << e;
    }
    if (e["ph"] == "i") {
      EXPECT_EQ(e["s"], "t") << e;
    }
    if (e["ph"] == "b" || e["ph"] == "e") {
      EXPECT_TRUE(e["id"].is_string()) << e;
    }
  }
}

TEST(Trace, TracksAreNamedServersFirstThenClients) {
  const auto p = parse(trace_json(sample_record(), options()));
  for (const char* name : {"faults", "elections", "n1", "n2", "c1", "c1 (2)"})
    EXPECT_TRUE(p.track.count(name)) << name;
  EXPECT_FALSE(p.track.count("violations")) << "no violations, no track";
  EXPECT_LT(p.track.at("faults").first, p.track.at("n1").first);
  EXPECT_LT(p.track.at("n1").first, p.track.at("c1").first);
  EXPECT_EQ(p.track.at("n1").first, p.track.at("n2").first);
  EXPECT_LT(p.track.at("n1").second, p.track.at("n2").second);
  EXPECT_LT(p.track.at("c1").second, p.track.at("c1 (2)").second);
}

TEST(Trace, ServerRolesOverTimeIncludingTheCrash) {
  const auto p = parse(trace_json(sample_record(), options()));
  const auto n1 = p.on("n1", "X");
  std::vector<std::tuple<std::string, double, double>> got;
  for (const auto& e : n1)
    if (e["cat"] == "role") got.emplace_back(e["name"], e["ts"], e["dur"]);
  const std::vector<std::tuple<std::string, double, double>> want = {{"follower", 0, 100e3},
                                                                     {"candidate", 100e3, 10e3},
                                                                     {"leader", 110e3, 890e3},
                                                                     {"crashed", 1000e3, 1000e3},
                                                                     {"follower", 2000e3, 1000e3}};
  EXPECT_EQ(got, want);
  const auto n2 = p.on("n2", "X");
  ASSERT_GE(n2.size(), 3u);
  EXPECT_EQ(n2[2]["name"], "leader");
  EXPECT_EQ(n2[2]["args"]["term"], 2);
}

TEST(Trace, FaultsAndElectionsAreInstantsAndAForFaultIsAnAsyncSlice) {
  const auto p = parse(trace_json(sample_record(), options()));
  const auto faults = p.on("faults", "i");
  ASSERT_EQ(faults.size(), 2u);
  EXPECT_EQ(faults[0]["name"], "crash n1");
  EXPECT_EQ(faults[0]["args"]["spec"]["crash"], "leader");
  EXPECT_EQ(faults[1]["name"], "restart n1");
  const auto begin = p.on("faults", "b"), end = p.on("faults", "e");
  ASSERT_EQ(begin.size(), 1u);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(begin[0]["id"], end[0]["id"]);
  EXPECT_EQ(begin[0]["name"], end[0]["name"]);
  EXPECT_EQ(begin[0]["ts"], 1000e3);
  EXPECT_EQ(end[0]["ts"], 2000e3);
  const auto elections = p.on("elections", "i");
  ASSERT_EQ(elections.size(), 2u);
  EXPECT_EQ(elections[0]["name"], "n1 elected (term 1)");
  EXPECT_EQ(elections[1]["name"], "n2 elected (term 2)");
  EXPECT_EQ(elections[1]["args"]["term"], 2);
}

TEST(Trace, ClientOperationsAreSlicesOnNonOverlappingTracks) {
  const auto p = parse(trace_json(sample_record(), options()));
  std::vector<std::string> lane1, lane2;
  for (const auto& e : p.on("c1", "X")) lane1.push_back(e["name"]);
  for (const auto& e : p.on("c1 (2)", "X")) lane2.push_back(e["name"]);
  EXPECT_EQ(lane1, (std::vector<std::string>{"get", "put (info)", "append (info)"}));
  EXPECT_EQ(lane2, (std::vector<std::string>{"get"}));
  const auto open = p.on("c1", "X").back();
  EXPECT_EQ(open["args"]["outcome"], "info");
  EXPECT_EQ(open["ts"].get<double>() + open["dur"].get<double>(), 3000e3) << "open until the end";
  EXPECT_EQ(p.on("c1", "X")[0]["args"]["key"], "k1");
}

TEST(Trace, MessagesAreZeroLengthSlicesJoinedByAFlow) {
  const auto p = parse(trace_json(sample_record(), options()));
  std::vector<nlohmann::json> out, in;
  for (const auto& e : p.on("n1", "X"))
    if (e.contains("bind_id")) out.push_back(e);
  for (const auto& e : p.on("n2", "X"))
    if (e.contains("bind_id")) in.push_back(e);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(out[0]["bind_id"], in[0]["bind_id"]);
  EXPECT_EQ(out[0]["flow_out"], true);
  EXPECT_EQ(in[0]["flow_in"], true);
  EXPECT_EQ(out[0]["dur"], 0);
  EXPECT_EQ(out[0]["ts"], 110e3);
  EXPECT_EQ(in[0]["ts"], 112e3);
  EXPECT_EQ(in[0]["args"]["from"], "n1");

  RunRecord quiet = sample_record();
  quiet.messages.clear();
  EXPECT_EQ(trace_json(quiet, options()).find("bind_id"), std::string::npos);
}

TEST(Trace, SameRecordSameText) {
  EXPECT_EQ(trace_json(sample_record(), options()), trace_json(sample_record(), options()));
}

TEST(TraceUs, ReadsBackAsTheExactNanosecondTheWayPerfettoConvertsIt) {
  Rng rng(3);
  for (int i = 0; i < 200000; ++i) {
    const Time ns = rng.uniform(0, 3600 * kSecond);
    const double us = trace_us(ns);
    ASSERT_EQ(static_cast<Time>(us * 1000.0), ns) << ns;
    ASSERT_LT(us - static_cast<double>(ns) / 1000.0, 1e-6) << "only nudged by a few ulps";
    // What the JSON text holds must read back as the same double.
    ASSERT_EQ(nlohmann::json::parse(nlohmann::json(us).dump()).get<double>(), us);
  }
}

}  // namespace
}  // namespace faultline::reports
