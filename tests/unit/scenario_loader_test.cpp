// The scenario loader/validator (SCENARIOS.md, "A scenario"): a valid scenario with every
// section, defaults, `--set` overrides, one test per kind of bad input (each with its fixture in
// tests/data/bad/, whose first line `# expect: LINE:COL fragment` the end-to-end CLI test reads
// too), and a little fuzzing: no input may do anything but load or throw ScenarioError.
#include "cli/scenario_loader.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "common/suggest.hpp"
#include "common/rng.hpp"

namespace faultline {
namespace {

std::string data_path(const std::string& relative) {
  return std::string(FAULTLINE_SOURCE_DIR) + "/tests/data/" + relative;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool has(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

std::optional<ScenarioError> error_of(const std::string& path,
                                      const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario(path, overrides);
  } catch (const ScenarioError& e) {
    return e;
  }
  return std::nullopt;
}

std::optional<ScenarioError> text_error_of(const std::string& text,
                                           const std::vector<std::string>& overrides = {}) {
  try {
    load_scenario_text(text, "test.yaml", overrides);
  } catch (const ScenarioError& e) {
    return e;
  }
  return std::nullopt;
}

/// Loads tests/data/bad/`name` and checks the error's exact place and a fragment of its text.
void expect_bad(const std::string& name, int line, int column, const std::string& fragment) {
  const std::string path = data_path("bad/" + name);
  auto e = error_of(path);
  ASSERT_TRUE(e.has_value()) << name << " loaded without error";
  EXPECT_EQ(e->loc().file, path);
  EXPECT_EQ(e->loc().line, line) << e->format();
  EXPECT_EQ(e->loc().column, column) << e->format();
  const std::string prefix =
      path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": error: ";
  EXPECT_EQ(e->format().rfind(prefix, 0), 0u) << e->format();
  EXPECT_TRUE(has(e->format(), fragment)) << e->format() << "\n  lacks: " << fragment;
  EXPECT_EQ(std::string(e->what()), e->format());
}

const char* const kMinimal = R"(name: t
description: d
protocol: raft
duration: 10s
cluster:
  nodes: 5
)";

// ---- valid scenarios ---------------------------------------------------------------------------

TEST(ScenarioLoader, FullExampleLoads) {
  const Scenario s = load_scenario(data_path("good/full.yaml"));
  EXPECT_EQ(s.name, "raft-leader-crash");
  EXPECT_EQ(s.protocol, "raft");
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.duration, 10 * kSecond);
  EXPECT_TRUE(has(s.description, "one election timeout"));

  EXPECT_EQ(s.cluster.server_names, (std::vector<std::string>{"n1", "n2", "n3", "n4", "n5"}));
  EXPECT_EQ(s.cluster.topology, Topology::Star);
  EXPECT_EQ(s.cluster.latency, kMillisecond);
  EXPECT_DOUBLE_EQ(s.cluster.bandwidth_bytes_s, 1.25e8);
  EXPECT_DOUBLE_EQ(s.cluster.speed_flops, 2e9);
  ASSERT_TRUE(s.cluster.disk.has_value());
  EXPECT_DOUBLE_EQ(s.cluster.disk->read_bytes_s, 30e6);
  EXPECT_EQ(s.cluster.disk->sync_latency.lo, 250 * kMicrosecond);
  EXPECT_EQ(s.cluster.disk->sync_latency.hi, 250 * kMicrosecond);
  EXPECT_EQ(s.cluster.network_model, "exact");

  EXPECT_EQ(s.params.range("election_timeout").lo, 150 * kMillisecond);
  EXPECT_EQ(s.params.range("election_timeout").hi, 300 * kMillisecond);
  EXPECT_EQ(s.params.duration("heartbeat_interval"), 50 * kMillisecond);
  EXPECT_EQ(s.params.integer("max_entries_per_append"), 64);  // default

  EXPECT_EQ(s.workload.clients, 3);
  EXPECT_EQ(s.workload.ops, 500);
  EXPECT_FALSE(s.workload.rate_per_s.has_value());
  ASSERT_EQ(s.workload.mix.size(), 3u);
  EXPECT_EQ(s.workload.mix[2].first, "append");  // file order
  EXPECT_DOUBLE_EQ(s.workload.mix[2].second, 0.2);
  EXPECT_EQ(s.workload.keys, 10);
  EXPECT_EQ(s.workload.rpc_timeout, 100 * kMillisecond);
  EXPECT_EQ(s.workload.client_timeout, kSecond);

  EXPECT_EQ(s.checks, (std::vector<std::string>{"raft.safety"}));
  ASSERT_EQ(s.expect.size(), 4u);
  EXPECT_EQ(s.expect[2].metric, "election_time_ms.max");
  EXPECT_EQ(s.expect[2].op, "<");
  EXPECT_DOUBLE_EQ(s.expect[2].value, 1000);
  EXPECT_EQ(s.expect[2].text, "election_time_ms.max < 1000");
}

TEST(ScenarioLoader, FaultsAreSortedByTimeFileOrderForTies) {
  const Scenario s = load_scenario(data_path("good/full.yaml"));
  ASSERT_EQ(s.faults.size(), 13u);
  std::vector<int> order;
  for (const auto& f : s.faults) order.push_back(f.index);
  EXPECT_EQ(order, (std::vector<int>{7, 8, 6, 11, 12, 0, 9, 1, 2, 3, 4, 5, 10}));
  for (std::size_t i = 1; i < s.faults.size(); ++i)
    EXPECT_LE(s.faults[i - 1].at.lo, s.faults[i].at.lo);
}

TEST(ScenarioLoader, FaultDetails) {
  const Scenario s = load_scenario(data_path("good/full.yaml"));
  auto by_index = [&](int index) -> const FaultSpec& {
    for (const auto& f : s.faults)
      if (f.index == index) return f;
    throw std::runtime_error("no fault");
  };
  const FaultSpec& crash = by_index(0);
  EXPECT_EQ(crash.kind, FaultKind::Crash);
  EXPECT_EQ(crash.target.items, (std::vector<std::string>{"leader"}));
  EXPECT_EQ(crash.at.lo, 2 * kSecond);
  EXPECT_EQ(crash.loc.line, 33);  // the item: its first key, `at`
  EXPECT_EQ(crash.loc.column, 5);
  EXPECT_EQ(crash.spec, nlohmann::json::parse(R"({"at": "2s", "crash": "leader"})"));

  const FaultSpec& partition = by_index(2);
  ASSERT_EQ(partition.groups.size(), 2u);
  EXPECT_EQ(partition.groups[1].items, (std::vector<std::string>{"n3", "n4", "n5"}));

  const FaultSpec& cut = by_index(4);
  ASSERT_TRUE(cut.cut_from && cut.cut_to);
  EXPECT_EQ(cut.cut_from->items, (std::vector<std::string>{"n1"}));
  EXPECT_EQ(cut.cut_to->items, (std::vector<std::string>{"n2"}));

  const FaultSpec& slow = by_index(6);
  EXPECT_EQ(slow.kind, FaultKind::Slow);
  EXPECT_EQ(slow.at.lo, kSecond);
  EXPECT_EQ(slow.at.hi, 1'050 * kMillisecond);
  EXPECT_EQ(slow.for_duration, 4 * kSecond);
  EXPECT_EQ(slow.slow.node.items, (std::vector<std::string>{"n3"}));
  EXPECT_DOUBLE_EQ(slow.slow.cpu, 10);
  EXPECT_EQ(slow.slow.latency, 5 * kMillisecond);
  EXPECT_EQ(slow.spec["slow"]["cpu"], 10);  // plain YAML numbers stay numbers

  const FaultSpec& lossy = by_index(7);
  EXPECT_DOUBLE_EQ(*lossy.network.drop, 0.1);
  EXPECT_DOUBLE_EQ(*lossy.network.duplicate, 0.01);
  EXPECT_EQ(lossy.network.delay->hi, 27 * kMillisecond);
  EXPECT_FALSE(lossy.network.from.has_value());

  const FaultSpec& links = by_index(8);
  EXPECT_EQ(links.network.to->items, (std::vector<std::string>{"n2", "n3"}));

  const FaultSpec& reorder = by_index(9);
  ASSERT_TRUE(reorder.network.long_delay.has_value());
  EXPECT_DOUBLE_EQ(reorder.network.long_delay->p, 0.66);
  EXPECT_EQ(reorder.network.long_delay->delay.hi, 2'200 * kMillisecond);

  EXPECT_TRUE(by_index(10).network.reliable);
  EXPECT_EQ(by_index(11).target.items, (std::vector<std::string>{"n2"}));

  const FaultSpec& nemesis = by_index(12);
  EXPECT_EQ(nemesis.nemesis.faults, (std::vector<std::string>{"crash", "partition"}));
  EXPECT_EQ(nemesis.nemesis.every.lo, 700 * kMillisecond);
  EXPECT_EQ(nemesis.nemesis.until, 8 * kSecond);
}

TEST(ScenarioLoader, DefaultsAreFilled) {
  const Scenario s = load_scenario(data_path("good/minimal.yaml"));
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.cluster.server_names, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_EQ(s.cluster.topology, Topology::Star);
  EXPECT_EQ(s.cluster.latency, kMillisecond);
  EXPECT_DOUBLE_EQ(s.cluster.bandwidth_bytes_s, 1.25e8);
  EXPECT_FALSE(s.cluster.disk.has_value());
  EXPECT_FALSE(s.cluster.racks.has_value());
  EXPECT_EQ(s.params.range("election_timeout").lo, 150 * kMillisecond);
  EXPECT_EQ(s.params.range("election_timeout").hi, 300 * kMillisecond);
  EXPECT_EQ(s.params.duration("heartbeat_interval"), 50 * kMillisecond);
  EXPECT_EQ(s.workload.clients, 0);
  ASSERT_EQ(s.workload.mix.size(), 2u);
  EXPECT_EQ(s.workload.mix[0], (std::pair<std::string, double>{"get", 0.5}));
  EXPECT_EQ(s.workload.rpc_timeout, 100 * kMillisecond);
  EXPECT_EQ(s.workload.start, 0);
  EXPECT_TRUE(s.faults.empty());
  // The protocol's default: every Raft run gets a safety and a linearizability verdict.
  EXPECT_EQ(s.checks, (std::vector<std::string>{"raft.safety", "linearizable"}));
  EXPECT_EQ(s.checks_budget, 10 * kSecond);
  EXPECT_TRUE(s.expect.empty());
  EXPECT_FALSE(s.stop_when.has_value());
}

TEST(ScenarioLoader, EffectiveHasEverySectionWithUnits) {
  const Scenario s = load_scenario(data_path("good/minimal.yaml"));
  const auto& e = s.effective;
  for (const char* key : {"name", "description", "protocol", "seed", "duration", "cluster",
                          "params", "workload", "faults", "checks", "expect"}) {
    EXPECT_TRUE(e.contains(key)) << key;
  }
  EXPECT_EQ(e["duration"], "2s");
  EXPECT_EQ(e["cluster"]["latency"], "1ms");
  EXPECT_EQ(e["cluster"]["bandwidth"], "1Gbps");
  EXPECT_EQ(e["cluster"]["nodes"], 3);
  EXPECT_EQ(e["params"]["election_timeout"], nlohmann::json::parse(R"(["150ms", "300ms"])"));
  EXPECT_EQ(e["params"]["heartbeat_interval"], "50ms");
  EXPECT_EQ(e["workload"]["rpc_timeout"], "100ms");
  EXPECT_EQ(e["faults"], nlohmann::json::array());
  EXPECT_EQ(e["checks"], nlohmann::json::parse(R"(["raft.safety", "linearizable"])"));
  EXPECT_EQ(e["checks_budget"], "10s");
}

TEST(ScenarioLoader, ChecksBudgetIsAPositiveDuration) {
  const std::string base = "name: b\ndescription: d\nprotocol: raft\nduration: 1s\ncluster: {nodes: 3}\n";
  EXPECT_EQ(load_scenario_text(base + "checks_budget: 2s\n", "b.yaml").checks_budget, 2 * kSecond);
  EXPECT_THROW(load_scenario_text(base + "checks_budget: 0s\n", "b.yaml"), ScenarioError);
  EXPECT_THROW(load_scenario_text(base + "checks_budget: 10\n", "b.yaml"), ScenarioError);
}

TEST(ScenarioLoader, EffectiveReadsBackToItself) {
  // The effective scenario is itself a valid scenario (JSON is YAML) with the same effect.
  for (const char* file : {"good/minimal.yaml", "good/full.yaml"}) {
    const Scenario s = load_scenario(data_path(file));
    const Scenario again = load_scenario_text(s.effective.dump(), "effective.json");
    EXPECT_EQ(again.effective, s.effective) << file;
    EXPECT_EQ(again.faults.size(), s.faults.size());
  }
}

TEST(ScenarioLoader, EffectiveIsDeterministic) {
  const std::string a = load_scenario(data_path("good/full.yaml")).effective.dump();
  const std::string b = load_scenario(data_path("good/full.yaml")).effective.dump();
  EXPECT_EQ(a, b);
}

TEST(ScenarioLoader, EveryGoodFixtureLoads) {
  for (const auto& entry : std::filesystem::directory_iterator(data_path("good"))) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_NO_THROW(load_scenario(entry.path().string())) << entry.path();
  }
}

TEST(ScenarioLoader, NamesRatesRacksAndStopWhen) {
  const Scenario s = load_scenario_text(R"(name: t
description: d
protocol: raft
seed: 42
duration: 1min
cluster:
  names: [alpha, beta, gamma]
  topology: racks
  racks: {racks: 2, hosts_per_rack: 2, uplink: 10Gbps, core: 40Gbps}
  network_model: tcp
workload:
  clients: 2
  rate: 200/s
  start: 1s
faults:
  - at: 1s
    partition: [alpha, [beta, c1]]
  - at: 2s
    crash: [gamma, random-2]
    for: 500ms
stop_when: leader_changes >= 1
)",
                                        "t.yaml");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration, 60 * kSecond);
  EXPECT_EQ(s.cluster.server_names, (std::vector<std::string>{"alpha", "beta", "gamma"}));
  ASSERT_TRUE(s.cluster.racks.has_value());
  EXPECT_EQ(s.cluster.racks->hosts_per_rack, 2);
  EXPECT_DOUBLE_EQ(s.cluster.racks->uplink_bytes_s, 1.25e9);
  EXPECT_EQ(s.cluster.network_model, "tcp");
  EXPECT_DOUBLE_EQ(*s.workload.rate_per_s, 200);
  EXPECT_FALSE(s.workload.ops.has_value());
  EXPECT_EQ(s.workload.start, kSecond);
  EXPECT_EQ(s.faults[0].groups[1].items, (std::vector<std::string>{"beta", "c1"}));
  EXPECT_EQ(s.faults[1].target.items, (std::vector<std::string>{"gamma", "random-2"}));
  EXPECT_EQ(s.faults[1].for_duration, 500 * kMillisecond);
  ASSERT_TRUE(s.stop_when.has_value());
  EXPECT_EQ(s.stop_when->metric, "leader_changes");
  EXPECT_EQ(s.effective["workload"]["rate"], "200/s");
  EXPECT_EQ(s.effective["stop_when"], "leader_changes >= 1");
}

TEST(ScenarioLoader, ErrorFormat) {
  ScenarioError plain(SourceLoc{"a.yaml", 3, 7}, "bad thing");
  EXPECT_EQ(plain.format(), "a.yaml:3:7: error: bad thing");
  ScenarioError suggested(SourceLoc{"a.yaml", 12, 5}, "unknown key 'electon_timeout' in params",
                          "did you mean 'election_timeout'?");
  EXPECT_EQ(suggested.format(),
            "a.yaml:12:5: error: unknown key 'electon_timeout' in params (did you mean "
            "'election_timeout'?)");
  EXPECT_EQ(std::string(suggested.what()), suggested.format());
  EXPECT_EQ(suggested.suggestion(), "did you mean 'election_timeout'?");
}

// ---- --set overrides --------------------------------------------------------------------------

TEST(ScenarioOverride, ParamRange) {
  const Scenario s =
      load_scenario(data_path("good/minimal.yaml"), {"params.election_timeout=[100ms,200ms]"});
  EXPECT_EQ(s.params.range("election_timeout").lo, 100 * kMillisecond);
  EXPECT_EQ(s.params.range("election_timeout").hi, 200 * kMillisecond);
  EXPECT_EQ(s.effective["params"]["election_timeout"],
            nlohmann::json::parse(R"(["100ms", "200ms"])"));
}

TEST(ScenarioOverride, SeedAndLaterWins) {
  const Scenario s =
      load_scenario(data_path("good/minimal.yaml"), {"seed=3", "seed=7", "cluster.nodes=5"});
  EXPECT_EQ(s.seed, 7u);
  EXPECT_EQ(s.effective["seed"], 7);
  EXPECT_EQ(s.cluster.server_names.size(), 5u);
}

TEST(ScenarioOverride, CreatesMissingSectionsAndIndexesLists) {
  const Scenario s =
      load_scenario(data_path("good/full.yaml"),
                    {"workload.clients=1", "faults.0.at=3s", "cluster.disk.read=1GB/s"});
  EXPECT_EQ(s.workload.clients, 1);
  for (const auto& f : s.faults) {
    if (f.index == 0) {
      EXPECT_EQ(f.at.lo, 3 * kSecond);
    }
  }
  EXPECT_DOUBLE_EQ(s.cluster.disk->read_bytes_s, 1e9);
  const Scenario m =
      load_scenario(data_path("good/minimal.yaml"), {"workload.clients=2", "workload.ops=5"});
  EXPECT_EQ(m.workload.clients, 2);
}

TEST(ScenarioOverride, BadPathIsLocatedInTheSetText) {
  auto e = error_of(data_path("good/minimal.yaml"), {"cluster.nodes.x=1"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->loc().file, "<--set cluster.nodes.x=1>");
  EXPECT_EQ(e->loc().line, 1);
  EXPECT_EQ(e->loc().column, 15);
  EXPECT_TRUE(has(e->message(), "not a mapping")) << e->format();
}

TEST(ScenarioOverride, UnknownKeyGetsDidYouMean) {
  auto e = error_of(data_path("good/minimal.yaml"), {"params.electon_timeout=[1ms,2ms]"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->format(),
            "<--set params.electon_timeout=[1ms,2ms]>:1:8: error: unknown key 'electon_timeout' "
            "in params (did you mean 'election_timeout'?)");
}

TEST(ScenarioOverride, BadValueIsLocatedAtTheValue) {
  auto e = error_of(data_path("good/minimal.yaml"), {"params.heartbeat_interval=50"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->format(),
            "<--set params.heartbeat_interval=50>:1:27: error: params.heartbeat_interval: "
            "expected a duration with a unit, e.g. '50ms' (did you mean '50ms'?)");
  auto range = error_of(data_path("good/minimal.yaml"), {"params.election_timeout=[1ms, 2s"});
  ASSERT_TRUE(range);
  EXPECT_EQ(range->loc().file, "<--set params.election_timeout=[1ms, 2s>");
  EXPECT_TRUE(has(range->message(), "YAML syntax error")) << range->format();
}

TEST(ScenarioOverride, MalformedSetText) {
  for (const char* text : {"seed", "=7", "params..x=1", "faults.99.at=1s", "faults.x.at=1s"}) {
    auto e = error_of(data_path("good/full.yaml"), {text});
    ASSERT_TRUE(e) << text;
    EXPECT_EQ(e->loc().file, std::string("<--set ") + text + ">");
    EXPECT_EQ(e->loc().line, 1);
  }
  EXPECT_EQ(error_of(data_path("good/full.yaml"), {"params..x=1"})->loc().column, 8);
}

// ---- bad input: one test per case, each with its fixture -------------------------------------

TEST(ScenarioBad, YamlSyntaxError) {
  expect_bad("syntax_error.yaml", 8, 2, "YAML syntax error: end of map not found");
}
TEST(ScenarioBad, DuplicateKey) {
  expect_bad("duplicate_key.yaml", 6, 1,
             "duplicate key 'duration' at the top level (first at 5:1)");
}
TEST(ScenarioBad, UnknownTopLevelKey) {
  expect_bad("unknown_top_level_key.yaml", 8, 1,
             "unknown key 'worklaod' at the top level (did you mean 'workload'?)");
}
TEST(ScenarioBad, UnknownParam) {
  expect_bad("unknown_param.yaml", 9, 3,
             "unknown key 'electon_timeout' in params (did you mean 'election_timeout'?)");
}
TEST(ScenarioBad, WrongTypeWord) {
  expect_bad("wrong_type.yaml", 7, 10,
             "cluster.nodes: expected an integer from 1 to 100000, got 'five'");
}
TEST(ScenarioBad, WrongTypeMapping) {
  expect_bad("wrong_type_map.yaml", 8, 12,
             "cluster.latency: expected a duration such as '100ms', got a mapping");
}
TEST(ScenarioBad, BareNumberWithoutUnit) {
  expect_bad("bare_number.yaml", 9, 23,
             "expected a duration with a unit, e.g. '50ms' (did you mean '50ms'?)");
}
TEST(ScenarioBad, ZeroDuration) {
  expect_bad("zero_duration.yaml", 5, 11, "duration: expected a duration > 0, got '0s'");
}
TEST(ScenarioBad, NegativeDuration) {
  expect_bad("negative_duration.yaml", 11, 16, "expected a duration > 0, got '-100ms'");
}
TEST(ScenarioBad, RangeLoAboveHi) {
  expect_bad("range_reversed.yaml", 9, 21,
             "the range [300ms, 150ms] has lo > hi (did you mean '[150ms, 300ms]'?)");
}
TEST(ScenarioBad, UnknownNodeName) {
  expect_bad("unknown_node.yaml", 10, 12, "unknown node or role 'gama' (did you mean 'gamma'?)");
}
TEST(ScenarioBad, UnknownNumberedNode) {
  expect_bad("unknown_node_number.yaml", 10, 12,
             "unknown node or role 'n4' (the servers are n1..n3)");
}
TEST(ScenarioBad, UnknownRole) {
  expect_bad("unknown_role.yaml", 10, 12, "unknown node or role 'leadr' (did you mean 'leader'?)");
}
TEST(ScenarioBad, RandomNTooLarge) {
  expect_bad("random_n_too_large.yaml", 10, 12,
             "'random-7' asks for 7 servers but the cluster has 5");
}
TEST(ScenarioBad, NodeInTwoPartitionGroups) {
  expect_bad("partition_overlap.yaml", 10, 28,
             "node 'n2' is in two groups: group 1 (at 10:22) and group 2");
}
TEST(ScenarioBad, FaultAfterDuration) {
  expect_bad("fault_after_duration.yaml", 9, 9,
             "fault at 12s is after the end of the run (duration 10s)");
}
TEST(ScenarioBad, NemesisUntilAfterDuration) {
  expect_bad("nemesis_until_after_duration.yaml", 10, 70,
             "nemesis until 20s is after the end of the run (duration 10s)");
}
TEST(ScenarioBad, UnknownCheck) {
  expect_bad("unknown_check.yaml", 8, 10,
             "unknown check 'raft.safty' for raft (did you mean 'raft.safety'?)");
}
TEST(ScenarioBad, UnknownMetric) {
  expect_bad("unknown_metric.yaml", 9, 5,
             "unknown metric 'leader_chnages' for raft (did you mean 'leader_changes'?)");
}
TEST(ScenarioBad, MalformedExpectation) {
  expect_bad("malformed_expect.yaml", 9, 19, "expected a number after '==', got 'zero'");
}
TEST(ScenarioBad, EmptyFile) { expect_bad("empty.yaml", 1, 1, "the file is empty"); }
TEST(ScenarioBad, MissingRequiredKey) {
  expect_bad("missing_required_key.yaml", 2, 1,
             "missing required key 'description' at the top level");
}
TEST(ScenarioBad, ProtocolNotImplemented) {
  expect_bad("protocol_not_implemented.yaml", 4, 11,
             "protocol 'gfs' is not implemented yet (implemented: raft, mapreduce)");
}
TEST(ScenarioBad, UnknownProtocol) {
  expect_bad("unknown_protocol.yaml", 4, 11, "unknown protocol 'rfat' (did you mean 'raft'?)");
}
TEST(ScenarioBad, ProbabilityOutOfRange) {
  expect_bad("probability_out_of_range.yaml", 10, 21, "probability '150%' is out of range");
}
TEST(ScenarioBad, TopLevelNotMapping) {
  expect_bad("top_level_not_mapping.yaml", 2, 1, "expected a mapping at the top level");
}
TEST(ScenarioBad, FaultsNotAList) {
  expect_bad("faults_not_list.yaml", 8, 9, "faults: expected a list of faults");
}
TEST(ScenarioBad, ForWithHeal) {
  expect_bad("for_with_heal.yaml", 10, 5, "'for' cannot be used with heal");
}
TEST(ScenarioBad, TwoFaultKindsInOneItem) {
  expect_bad("two_fault_kinds.yaml", 11, 5, "has both 'crash' and 'isolate'");
}
TEST(ScenarioBad, InvalidName) {
  expect_bad("invalid_name.yaml", 2, 7, "(did you mean 'leader-crash'?)");
}
TEST(ScenarioBad, ServerNamedLikeClient) {
  expect_bad("server_named_like_client.yaml", 7, 17, "'c1' is also the name of a client");
}
TEST(ScenarioBad, OpsAndRate) { expect_bad("ops_and_rate.yaml", 11, 3, "give either 'ops'"); }
TEST(ScenarioBad, ElectClient) { expect_bad("elect_client.yaml", 13, 12, "'c1' is a client"); }
TEST(ScenarioBad, TwoDocuments) {
  expect_bad("two_documents.yaml", 9, 1, "expected one YAML document, found 2");
}
TEST(ScenarioBad, UnknownMixOperation) {
  expect_bad("unknown_mix_op.yaml", 11, 19,
             "unknown key 'gte' in workload.mix (did you mean 'get'?)");
}
TEST(ScenarioBad, RacksTooSmall) {
  expect_bad("racks_too_small.yaml", 9, 10, "fewer than the 5 servers");
}

TEST(ScenarioBad, UnreadableFile) {
  const std::string path = data_path("bad/does_not_exist.yaml");
  auto e = error_of(path);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->format(), path + ":1:1: error: cannot read file: No such file or directory");
  auto dir = error_of(data_path("bad"));
  ASSERT_TRUE(dir);
  EXPECT_EQ(dir->format(), data_path("bad") + ":1:1: error: cannot read file: it is a directory");
}

TEST(ScenarioBad, EveryFixtureMatchesItsExpectComment) {
  // The contract the end-to-end CLI test relies on: `# expect: LINE:COL fragment` on line 1.
  int fixtures = 0;
  for (const auto& entry : std::filesystem::directory_iterator(data_path("bad"))) {
    if (entry.path().extension() != ".yaml") continue;
    ++fixtures;
    const std::string text = read_text(entry.path().string());
    const std::string first_line = text.substr(0, text.find('\n'));
    const std::string tag = "# expect: ";
    ASSERT_EQ(first_line.rfind(tag, 0), 0u) << entry.path();
    const std::string rest = first_line.substr(tag.size());
    const std::string where = rest.substr(0, rest.find(' '));
    const std::string fragment = rest.substr(where.size() + 1);
    auto e = error_of(entry.path().string());
    ASSERT_TRUE(e) << entry.path();
    EXPECT_EQ(e->format().rfind(entry.path().string() + ":" + where + ": error: ", 0), 0u)
        << e->format();
    EXPECT_TRUE(has(e->format(), fragment)) << e->format() << "\n  lacks: " << fragment;
  }
  EXPECT_GE(fixtures, 25);
}

// ---- more bad input, from text ------------------------------------------------------------------

std::string with(const std::string& extra) { return std::string(kMinimal) + extra; }

TEST(ScenarioBadText, MoreCases) {
  struct Case {
    std::string text;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"", "the file is empty"},
      {"# only a comment\n", "the file is empty"},
      {"just text", "expected a mapping at the top level"},
      {with("seed: -1\n"), "seed: expected an integer >= 0"},
      {with("seed: 99999999999999999999999\n"), "seed: 99999999999999999999999 is out of range"},
      {with("faults: 3\n"), "faults: expected a list"},
      {with("faults: [3]\n"), "faults.0: expected a fault"},
      {with("faults:\n  - crash: n1\n"), "missing required key 'at' in faults.0"},
      {with("faults:\n  - at: 1s\n"), "expected one fault"},
      {with("faults:\n  - {at: 1s, crash: []}\n"), "empty list"},
      {with("faults:\n  - {at: 1s, crash: [[n1]]}\n"), "got a list"},
      {with("faults:\n  - {at: 1s, crash: random-0}\n"), "selects no server"},
      {with("faults:\n  - {at: 1s, crash: c1}\n"), "there are no clients"},
      {with("faults:\n  - {at: 1, crash: n1}\n"), "(did you mean '1s'?)"},
      {with("faults:\n  - {at: [2s, 1s], crash: n1}\n"), "has lo > hi"},
      {with("faults:\n  - {at: [1s, 2s, 3s], crash: n1}\n"), "got a list of 3 items"},
      {with("faults:\n  - {at: 1s, crash: n1, for: 0s}\n"), "expected a duration > 0"},
      {with("faults:\n  - {at: 1s, restart: n1, for: 1s}\n"), "'for' cannot be used with restart"},
      {with("faults:\n  - {at: 1s, elect: n1, for: 1s}\n"), "'for' cannot be used with elect"},
      {with("faults:\n  - {at: 1s, network: reliable, for: 1s}\n"), "'network: reliable' undoes"},
      {with("faults:\n  - {at: 1s, network: relaible}\n"), "(did you mean 'reliable'?)"},
      {with("faults:\n  - {at: 1s, network: {from: n1}}\n"), "at least one of drop"},
      {with("faults:\n  - {at: 1s, network: {drop: 2}}\n"), "(did you mean '2%'?)"},
      {with("faults:\n  - {at: 1s, network: {long_delay: {p: 1%}}}\n"),
       "missing required key 'delay'"},
      {with("faults:\n  - {at: 1s, partition: [[n1, n2]]}\n"), "at least 2 groups"},
      {with("faults:\n  - {at: 1s, partition: n1}\n"), "at least 2 groups"},
      {with("faults:\n  - {at: 1s, cut: {from: n1}}\n"), "missing required key 'to'"},
      {with("faults:\n  - {at: 1s, cut: {from: n1, too: n2}}\n"), "(did you mean 'to'?)"},
      {with("faults:\n  - {at: 1s, slow: {node: n1}}\n"), "at least one of cpu, disk, latency"},
      {with("faults:\n  - {at: 1s, slow: {node: n1, cpu: 0.5}}\n"), "expected a factor >= 1"},
      {with("faults:\n  - {at: 1s, slow: {cpu: 2}}\n"), "missing required key 'node'"},
      {with("faults:\n  - {at: 1s, nemesis: {faults: [crash, explode], every: 1s, until: 5s}}\n"),
       "unknown value 'explode'"},
      {with("faults:\n  - {at: 1s, nemesis: {faults: [crash], every: 0s, until: 5s}}\n"),
       "expected a duration > 0"},
      {with("faults:\n  - {at: 3s, nemesis: {faults: [crash], every: 1s, until: 2s}}\n"),
       "is not after its start"},
      {with("faults:\n  - {at: 1s, nemesis: {faults: [crash], every: 1s}}\n"),
       "missing required key 'until'"},
      {with("checks: [raft.safety, raft.safety]\n"), "listed twice"},
      {with("checks: {a: 1}\n"), "checks: expected a list"},
      {with("expect: [violations]\n"), "expected a comparison"},
      {with("expect: ['violations = 0']\n"), "(did you mean '=='?)"},
      {with("expect: [== 0]\n"), "expected 'metric op number'"},
      {with("expect: [violations == 1e999]\n"), "expected a number"},
      {with("stop_when: [a]\n"), "stop_when: expected an expectation"},
      {with("params: [1]\n"), "params: expected a mapping"},
      {with("params:\n  max_entries_per_append: 0\n"), "expected an integer >= 1"},
      {with("params:\n  max_entries_per_append: 1.5\n"), "expected an integer >= 1"},
      {with("params:\n  heartbeat_interval: 0ms\n"), "expected a duration > 0"},
      {with("params:\n  election_timeout: [0ms, 10ms]\n"), "expected a duration > 0"},
      {with("params:\n  election_timeout: {lo: 1ms}\n"), "expected a duration or a range"},
      {with("workload: 5\n"), "workload: expected a mapping"},
      {with("workload:\n  clients: 2\n"), "missing required key 'ops' or 'rate'"},
      {with("workload:\n  clients: -1\n"), "expected an integer from 0"},
      {with("workload:\n  clients: 1\n  rate: 200\n"), "(did you mean '200/s'?)"},
      {with("workload:\n  clients: 1\n  ops: 0\n"), "expected an integer >= 1"},
      {with("workload:\n  clients: 1\n  ops: 5\n  mix: {get: 0, put: 0}\n"), "sum to 0"},
      {with("workload:\n  clients: 1\n  ops: 5\n  mix: {get: -1}\n"), "expected a weight >= 0"},
      {with("workload:\n  clients: 1\n  ops: 5\n  client_timeout: 0s\n"),
       "expected a duration > 0"},
      {with("workload:\n  start: 20s\n"), "after the end of the run"},
      {with("workload:\n  keys: 0\n"), "workload.keys: expected an integer from 1"},
      {R"(name: t
description: d
protocol: raft
duration: 10s
cluster: {nodes: 3, names: [a, b]}
)",
       "cluster.nodes is 3 but cluster.names lists 2 servers"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {names: [a, a]}\n",
       "'a' is listed twice"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {names: [A]}\n",
       "not a valid server name"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {names: [leader]}\n",
       "is a role word"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {names: []}\n",
       "non-empty list"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {}\n",
       "missing required key 'nodes' in cluster"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: 5\n",
       "cluster: expected a mapping"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 0}\n",
       "expected an integer from 1"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 9999999999}\n",
       "expected an integer from 1 to 100000"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, topology: "
       "two-switch}\n",
       "'two-switch' is not implemented yet"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, topology: "
       "rack}\n",
       "(did you mean 'racks'?)"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, topology: "
       "racks}\n",
       "missing required key 'racks' in cluster"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, racks: {racks: "
       "1}}\n",
       "only used with 'topology: racks'"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, bandwidth: "
       "0Gbps}\n",
       "expected a bandwidth > 0"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, bandwidth: "
       "100}\n",
       "(did you mean '100Mbps'?)"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, speed: 2GHz}\n",
       "unknown speed unit"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, network_model: "
       "udp}\n",
       "unknown value 'udp'"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3, disk: {red: "
       "1MB/s}}\n",
       "(did you mean 'read'?)"},
      {"name: t\ndescription: '  '\nprotocol: raft\nduration: 10s\ncluster: {nodes: 3}\n",
       "expected a non-empty description"},
      {"name: t\ndescription: d\nprotocol: raft\nduration: 10\ncluster: {nodes: 3}\n",
       "(did you mean '10s'?)"},
      {"name: t\ndescription: d\nprotocol: [raft]\nduration: 10s\ncluster: {nodes: 3}\n",
       "protocol: expected a protocol name"},
      {"name: t\nname: u\n", "duplicate key 'name'"},
      {"name: t\ncluster: {nodes: 3, nodes: 4}\n", "duplicate key 'nodes' in cluster"},
      {"? [a, b]\n: 1\n", "expected a plain key"},
      {"a: &x [*x]\n", ""},
      {"{", "YAML syntax error"},
      {",a: 1\n", "YAML syntax error: unexpected ','"},  // yaml-cpp's LoadAll never ends here
      {"a: 1\n---\n,\n", "YAML syntax error: unexpected ','"},
  };
  for (const auto& c : cases) {
    auto e = text_error_of(c.text);
    ASSERT_TRUE(e.has_value()) << "no error for:\n" << c.text;
    EXPECT_TRUE(has(e->format(), c.fragment)) << e->format() << "\n  lacks: " << c.fragment;
    EXPECT_GE(e->loc().line, 1) << e->format();
    EXPECT_GE(e->loc().column, 1) << e->format();
  }
}

TEST(ScenarioBadText, ExpectationColumnsPointInsideTheString) {
  auto plain = text_error_of(with("expect: [violations == x]\n"));
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->loc().line, 7);
  EXPECT_EQ(plain->loc().column, 24);
  auto quoted = text_error_of(with("expect: ['violations == x']\n"));
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->loc().column, 25);
}

// ---- fuzzing: anything loads or throws ScenarioError, never anything else ---------------------

void load_anything(const std::string& text) {
  try {
    load_scenario_text(text, "fuzz.yaml");
  } catch (const ScenarioError& e) {
    EXPECT_GE(e.loc().line, 1) << e.format();
    EXPECT_GE(e.loc().column, 1) << e.format();
  }
}

TEST(ScenarioFuzz, EveryTruncationOfTheFullExample) {
  const std::string full = read_text(data_path("good/full.yaml"));
  for (std::size_t n = 0; n <= full.size(); ++n) load_anything(full.substr(0, n));
}

TEST(ScenarioFuzz, RandomByteEdits) {
  const std::string full = read_text(data_path("good/full.yaml"));
  Rng rng(12345);
  const std::string alphabet = "[]{}:,-#&*!|>'\"%@` \n\t0123456789.abcnsm\x01\xff";
  for (int trial = 0; trial < 3000; ++trial) {
    std::string text = full;
    const int edits = 1 + static_cast<int>(rng.below(4));
    for (int k = 0; k < edits; ++k) {
      const std::size_t at = rng.below(text.size());
      switch (rng.below(3)) {
        case 0:
          text[at] = alphabet[rng.below(alphabet.size())];
          break;
        case 1:
          text.erase(at, 1 + rng.below(8));
          break;
        default:
          text.insert(at, 1, alphabet[rng.below(alphabet.size())]);
          break;
      }
    }
    load_anything(text);
  }
}

TEST(ScenarioFuzz, HostileDocuments) {
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'k'; ++c) {
    const char prev = static_cast<char>(c - 1);
    laughs +=
        fmt::format("{0}: &{0} [*{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}]\n", c, prev);
  }
  const std::vector<std::string> texts = {
      std::string(100000, '['),
      std::string(5000, '[') + std::string(5000, ']'),
      std::string(5000, '{'),
      laughs,
      "a: &a [*a]\n",
      std::string("\x00\x01\x02\xff\xfe garbage", 14),
      "\xef\xbb\xbf" + std::string(kMinimal),  // UTF-8 byte order mark
      with("seed: 1e400\n"),
      with("duration: 99999999999999999999999999h\n"),
      with("faults:\n  - {at: 1s, crash: random-99999999999999999999999}\n"),
      with("workload: {clients: 99999999999999999999, ops: 1}\n"),
      with("expect: ['" + std::string(10000, 'x') + " == 1']\n"),
      std::string(kMinimal) + "faults:\n" +
          [] {
            std::string s;
            for (int i = 0; i < 2000; ++i) s += "  - {at: 1s, crash: n1}\n";
            return s;
          }(),
      "---\n---\n---\n",
      "%YAML 1.2\n---\nname: t\n",
      "!!binary aGVsbG8=\n",
      "name: !!int t\n",
      "a: b: c\n",
      "\t\tname: t\n",
  };
  for (const auto& text : texts) load_anything(text);
}

// ---- did-you-mean -------------------------------------------------------------------------------

TEST(ScenarioSuggest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("electon_timeout", "election_timeout"), 1u);
  EXPECT_EQ(edit_distance("leadre", "leader"), 1u);  // a transposition
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(ScenarioSuggest, ClosestMatch) {
  const std::vector<std::string> keys = {"election_timeout", "heartbeat_interval"};
  EXPECT_EQ(closest_match("electon_timeout", keys), "election_timeout");
  EXPECT_EQ(closest_match("Election_Timeout", keys), "election_timeout");
  EXPECT_EQ(closest_match("zzz", keys), std::nullopt);
  EXPECT_EQ(did_you_mean("hearbeat_interval", keys), "did you mean 'heartbeat_interval'?");
  EXPECT_EQ(did_you_mean("x", keys), "");
  EXPECT_EQ(closest_match("n7", {"n1", "n2"}), "n1");  // ties: the first candidate
}

}  // namespace
}  // namespace faultline
