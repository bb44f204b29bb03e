// reports/mapreduce_metrics: the MapReduce report metrics, rates.csv and tasks.csv, from
// hand-built event sequences (the EVENT lists of protocols/mapreduce/coordinator.hpp and
// worker.hpp), and their listing in cli/registry.cpp and docs/report.schema.json.
#include "reports/mapreduce_metrics.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/registry.hpp"
#include "protocols/mapreduce/messages.hpp"

namespace faultline::reports {
namespace {

using nlohmann::json;

constexpr NodeId kCoordinator = 0, kW1 = 1, kW2 = 2, kW3 = 3;

Time at(double seconds) { return from_seconds(seconds); }

/// A coordinator "m" and workers w1..w3, with helpers that append the cores' events.
struct Events {
  RunRecord record;
  Events() {
    record.nodes = {{0, "m", NodeKind::Server},
                    {1, "w1", NodeKind::Server},
                    {2, "w2", NodeKind::Server},
                    {3, "w3", NodeKind::Server}};
  }
  void event(double t, NodeId node, const std::string& kind, json fields = json::object()) {
    record.events.push_back({at(t), node, kind, std::move(fields)});
  }
  void started(int maps, int reduces) {
    event(0, kCoordinator, "job_started", {{"maps", maps}, {"reduces", reduces}, {"workers", 3}});
  }
  void assign(double t, const std::string& task, int id, int attempt, const std::string& worker,
              bool backup = false, const std::string& locality = "") {
    json f = {
        {"task", task}, {"id", id}, {"attempt", attempt}, {"worker", worker}, {"backup", backup}};
    if (task == "map") f["locality"] = locality;
    event(t, kCoordinator, "task_assigned", f);
  }
  void ended(double t, const std::string& task, int id, int attempt, const std::string& worker,
             const std::string& outcome, double start_s) {
    event(t, kCoordinator, "task_ended",
          {{"task", task},
           {"id", id},
           {"attempt", attempt},
           {"worker", worker},
           {"outcome", outcome},
           {"start_s", start_s}});
  }
  /// A transfer ending at `t`; id and attempt when >= 0.
  void transfer(double t, NodeId node, const std::string& what, double bytes, double start_s,
                bool local = false, int id = -1, int attempt = -1) {
    json f = {{"what", what}, {"bytes", static_cast<std::uint64_t>(bytes)}, {"start_s", start_s}};
    if (what == "input") f["local"] = local;
    if (id >= 0) {
      f["id"] = id;
      f["attempt"] = attempt;
    }
    event(t, node, "transfer", f);
  }
};

/// rates.csv as rows of numbers (the header checked separately).
std::vector<std::vector<double>> rows(const std::string& csv) {
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> out;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
    out.push_back(row);
  }
  return out;
}

/// Three maps (one lost with its worker and re-executed elsewhere), two reduces (one won by
/// its backup): the counts of §3.3 re-execution and §3.6 backup tasks.
Events three_maps_two_reduces() {
  Events r;
  r.started(3, 2);
  r.assign(0, "map", 0, 0, "w1", false, "local");
  r.assign(0, "map", 1, 0, "w2", false, "rack");
  r.assign(0, "map", 2, 0, "w3", false, "remote");
  r.ended(2, "map", 0, 0, "w1", "committed", 0);
  r.ended(3, "map", 2, 0, "w3", "committed", 0);
  r.event(4, kCoordinator, "worker_dead", {{"worker", "w2"}});
  r.ended(4, "map", 1, 0, "w2", "lost", 0);
  r.assign(4, "map", 1, 1, "w1", false, "local");
  r.ended(5, "map", 1, 1, "w1", "committed", 4);
  r.assign(5, "reduce", 0, 0, "w1");
  r.assign(5, "reduce", 1, 0, "w3");
  r.event(7, kCoordinator, "backup_phase", {{"task", "reduce"}});
  r.assign(7, "reduce", 1, 1, "w2", true);
  r.ended(8, "reduce", 0, 0, "w1", "committed", 5);
  r.ended(9, "reduce", 1, 1, "w2", "committed", 7);
  r.ended(9, "reduce", 1, 0, "w3", "aborted", 5);
  r.event(9, kCoordinator, "job_done", {{"job_time_s", 9.0}});
  r.event(9.5, kNoNode, "output_summary",
          {{"committed", 2}, {"temporaries_left", 0}, {"duplicate_renames", 1}});
  r.record.end_time = at(10);
  return r;
}

TEST(MapReduceMetrics, CountsTasksExecutionsReexecutionsAndBackups) {
  const json m = mapreduce_metrics(three_maps_two_reduces().record);
  EXPECT_EQ(m["job_done"], 1);
  EXPECT_EQ(m["job_failed"], 0);
  EXPECT_FALSE(m.contains("job_failed_reason"));
  EXPECT_DOUBLE_EQ(m["job_time_s"].get<double>(), 9.0);
  EXPECT_EQ(m["tasks"], 5);
  EXPECT_EQ(m["maps"], 3);
  EXPECT_EQ(m["reduces"], 2);
  EXPECT_EQ(m["attempts"], 7);
  EXPECT_EQ(m["reexecuted"], 1);  // map 1 after w2 died; the reduce backup is not one
  EXPECT_EQ(m["backup_tasks"], 1);
  EXPECT_EQ(m["backups_won"], 1);
  EXPECT_EQ(m["workers_dead"], 1);
  EXPECT_EQ(m["duplicate_completions"], 0);
  EXPECT_DOUBLE_EQ(m["maps_done_s"].get<double>(), 5.0);
  EXPECT_TRUE(m["map_backup_phase_s"].is_null());
  EXPECT_DOUBLE_EQ(m["reduce_backup_phase_s"].get<double>(), 7.0);
  EXPECT_EQ(m["outputs_committed"], 2);
  EXPECT_EQ(m["temporaries_left"], 0);
  EXPECT_EQ(m["duplicate_renames"], 1);
}

TEST(MapReduceMetrics, WastedWorkIsTaskSecondsOfExecutionsNotKept) {
  // Task-seconds: maps 2 + 3 + 4 (lost) + 1, reduces 3 + 2 + 4 (aborted) = 19; wasted 8.
  const json m = mapreduce_metrics(three_maps_two_reduces().record);
  EXPECT_NEAR(m["wasted_work_pct"].get<double>(), 100.0 * 8 / 19, 1e-9);
}

TEST(MapReduceMetrics, RunningExecutionsCountToTheEndInTheTotalOnly) {
  Events r;
  r.started(2, 1);
  r.assign(0, "map", 0, 0, "w1", false, "local");
  r.assign(0, "map", 1, 0, "w2", false, "local");
  r.ended(1, "map", 0, 0, "w1", "lost", 0);  // 1 s wasted
  r.record.end_time = at(4);                 // map 1 still running: 4 s
  EXPECT_NEAR(mapreduce_metrics(r.record)["wasted_work_pct"].get<double>(), 100.0 * 1 / 5, 1e-9);
  EXPECT_TRUE(mapreduce_metrics(Events().record)["wasted_work_pct"].is_null());  // no execution
}

TEST(MapReduceMetrics, LocalityOfKeptMapExecutionsAndOfAllAssignments) {
  const json m = mapreduce_metrics(three_maps_two_reduces().record);
  // Kept: map 0 local, map 1 (second execution) local, map 2 remote.
  EXPECT_EQ(m["maps_local"], 2);
  EXPECT_EQ(m["maps_rack"], 0);
  EXPECT_EQ(m["maps_remote"], 1);
  EXPECT_EQ(m["map_assignments_local"], 2);
  EXPECT_EQ(m["map_assignments_rack"], 1);
  EXPECT_EQ(m["map_assignments_remote"], 1);
}

TEST(MapReduceMetrics, TaskTimesAreStatsOverAcceptedExecutions) {
  const json m = mapreduce_metrics(three_maps_two_reduces().record);
  EXPECT_EQ(m["map_time_s"]["count"], 3);  // 2, 3 and 1 s; the lost one is not counted
  EXPECT_DOUBLE_EQ(m["map_time_s"]["min"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["map_time_s"]["mean"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(m["map_time_s"]["p50"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(m["map_time_s"]["max"].get<double>(), 3.0);
  EXPECT_EQ(m["reduce_time_s"]["count"], 2);  // 3 s and the backup's 2 s
  EXPECT_DOUBLE_EQ(m["reduce_time_s"]["min"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(m["reduce_time_s"]["max"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(m["reduce_time_s"]["p99"].get<double>(), 3.0);
}

TEST(MapReduceMetrics, NothingToMeasureGivesNulls) {
  Events r;
  r.started(4, 2);
  r.record.end_time = at(1);
  const json m = mapreduce_metrics(r.record);
  EXPECT_EQ(m["job_done"], 0);
  EXPECT_TRUE(m["job_time_s"].is_null());
  EXPECT_EQ(m["tasks"], 6);
  EXPECT_EQ(m["attempts"], 0);
  for (const char* key : {"maps_done_s", "shuffle_done_s", "output_done_s", "outputs_committed",
                          "temporaries_left", "duplicate_renames"})
    EXPECT_TRUE(m[key].is_null()) << key;
  EXPECT_EQ(m["map_time_s"]["count"], 0);
  EXPECT_TRUE(m["map_time_s"]["p50"].is_null());
  EXPECT_DOUBLE_EQ(m["input_peak_mb_s"].get<double>(), 0.0);
}

TEST(MapReduceMetrics, JobFailedCarriesItsReason) {
  Events r;
  r.started(1, 1);
  r.event(2, kCoordinator, "job_failed",
          {{"reason", "coordinator restarted without a checkpoint"}});
  r.record.end_time = at(3);
  const json m = mapreduce_metrics(r.record);
  EXPECT_EQ(m["job_failed"], 1);
  EXPECT_EQ(m["job_done"], 0);
  EXPECT_EQ(m["job_failed_reason"], "coordinator restarted without a checkpoint");
  EXPECT_TRUE(m["job_time_s"].is_null());
}

TEST(MapReduceMetrics, BytesTotalsLocalityOfReadsAndLastTransfers) {
  Events r;
  r.started(2, 1);
  r.transfer(1, kW1, "input", 64e6, 0, true, 0, 0);
  r.transfer(2, kW2, "input", 32e6, 0.5, false, 1, 0);
  r.transfer(4, kW3, "shuffle", 10e6, 3);
  r.transfer(5.5, kW3, "shuffle", 20e6, 4);
  r.transfer(7, kW3, "output", 30e6, 6);
  r.transfer(8.25, kW1, "output", 30e6, 7);  // a replica
  r.record.end_time = at(9);
  const json m = mapreduce_metrics(r.record);
  EXPECT_EQ(m["input_bytes_local"], 64'000'000);
  EXPECT_EQ(m["input_bytes_remote"], 32'000'000);
  EXPECT_DOUBLE_EQ(m["input_mb"].get<double>(), 96.0);
  EXPECT_DOUBLE_EQ(m["shuffle_mb"].get<double>(), 30.0);
  EXPECT_DOUBLE_EQ(m["output_mb"].get<double>(), 60.0);
  EXPECT_DOUBLE_EQ(m["shuffle_done_s"].get<double>(), 5.5);
  EXPECT_DOUBLE_EQ(m["output_done_s"].get<double>(), 8.25);
  // Input: 64 MB in [0, 1) plus 32 MB over [0.5, 2): a third of it (32/3 MB) in [0, 1).
  EXPECT_NEAR(m["input_peak_mb_s"].get<double>(), 64.0 + 32.0 / 3, 1e-9);
  // Shuffle: 10 MB in [3, 4); 20 MB over [4, 5.5): 40/3 MB in [4, 5).
  EXPECT_NEAR(m["shuffle_peak_mb_s"].get<double>(), 40.0 / 3, 1e-9);
  EXPECT_NEAR(m["output_peak_mb_s"].get<double>(), 30.0, 1e-9);
}

TEST(MapReduceMetrics, RatesSpreadEachTransferUniformlyOverTheSecondsItSpans) {
  Events r;
  r.transfer(3.25, kW1, "input", 11e6, 0.5, true);  // 4 MB/s: 2 | 4 | 4 | 1
  r.transfer(4.2, kW2, "shuffle", 3e6, 4.2);        // zero length: all in [4, 5)
  r.transfer(5, kW3, "output", 1e6, 4);             // ends on the run's end: [4, 5) only
  r.record.end_time = at(5);
  const std::string csv = mapreduce_rates_csv(r.record);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "time_s,input_mb_s,shuffle_mb_s,output_mb_s");
  const auto t = rows(csv);
  ASSERT_EQ(t.size(), 5u);  // [0, 1) .. [4, 5)
  const std::vector<std::vector<double>> want = {
      {0, 2, 0, 0}, {1, 4, 0, 0}, {2, 4, 0, 0}, {3, 1, 0, 0}, {4, 0, 3, 1}};
  for (std::size_t k = 0; k < want.size(); ++k)
    for (std::size_t c = 0; c < 4; ++c) EXPECT_NEAR(t[k][c], want[k][c], 1e-6) << k << "," << c;
}

TEST(MapReduceMetrics, RatesCoverTheRunAndAZeroLengthTransferAtTheEndStaysInside) {
  Events r;
  r.transfer(3, kW1, "output", 2e6, 3);  // exactly at the end of a 3 s run: [2, 3)
  r.record.end_time = at(3);
  auto t = rows(mapreduce_rates_csv(r.record));
  ASSERT_EQ(t.size(), 3u);
  EXPECT_NEAR(t[2][3], 2.0, 1e-9);
  r.record.end_time = at(3.5);  // now [3, 4) exists and holds it
  t = rows(mapreduce_rates_csv(r.record));
  ASSERT_EQ(t.size(), 4u);
  EXPECT_NEAR(t[2][3], 0.0, 1e-9);
  EXPECT_NEAR(t[3][3], 2.0, 1e-9);
}

TEST(MapReduceMetrics, RatesAddUpToTheBytesMoved) {
  // Many overlapping transfers of odd lengths: the intervals hold every byte exactly once.
  Events r;
  double total = 0;
  for (int i = 0; i < 2000; ++i) {
    const double start = 0.137 * i, length = 0.01 * (i % 97) + 0.3 * (i % 5);
    const double bytes = 1e5 * (1 + i % 13);
    r.transfer(start + length, kW1 + i % 3, "shuffle", bytes, start);
    total += bytes;
  }
  r.record.end_time = at(0.137 * 2000 + 2);
  double sum = 0;
  for (const auto& row : rows(mapreduce_rates_csv(r.record))) sum += row[2];
  EXPECT_NEAR(sum, total / 1e6, 1e-3);  // the CSV keeps 6 decimals per row
  EXPECT_NEAR(mapreduce_metrics(r.record)["shuffle_mb"].get<double>(), total / 1e6, 1e-9);
}

/// Figure 3(c): a completed map's output dies with its worker; its input comes off the input
/// rate at the reset, and the re-execution reads it again.
Events map_reset_and_reexecuted(bool transfers_name_their_task) {
  Events r;
  r.started(1, 1);
  const int id = transfers_name_their_task ? 0 : -1;
  r.assign(0, "map", 0, 0, "w1", false, "local");
  r.transfer(2, kW1, "input", 2e6, 0, true, id, 0);
  r.ended(2, "map", 0, 0, "w1", "committed", 0);
  r.event(3, kW1, "crash", {{"incarnation", 0}});
  r.event(5, kCoordinator, "worker_dead", {{"worker", "w1"}});
  r.ended(5, "map", 0, 0, "w1", "reset", 0);
  r.assign(5, "map", 0, 1, "w2", false, "remote");
  r.transfer(7.5, kW2, "input", 2e6, 5.5, false, id, 1);
  r.assign(6, "map", 0, 2, "w3", true, "rack");
  r.ended(7.5, "map", 0, 1, "w2", "committed", 5);
  r.ended(8, "map", 0, 2, "w3", "duplicate", 6);
  r.record.end_time = at(8);
  return r;
}

TEST(MapReduceMetrics, ResetMapSubtractsItsInputAtTheReset) {
  for (const bool named : {true, false}) {
    SCOPED_TRACE(named ? "transfers carry id and attempt" : "matched by worker");
    const auto t = rows(mapreduce_rates_csv(map_reset_and_reexecuted(named).record));
    ASSERT_EQ(t.size(), 8u);
    const std::vector<double> input = {1, 1, 0, 0, 0, 0.5 - 2, 1, 0.5};
    for (std::size_t k = 0; k < input.size(); ++k) EXPECT_NEAR(t[k][1], input[k], 1e-6) << k;
  }
}

TEST(MapReduceMetrics, ResetMapIsWastedAndItsLaterExecutionIsTheOneKept) {
  const json m = mapreduce_metrics(map_reset_and_reexecuted(true).record);
  EXPECT_EQ(m["attempts"], 3);
  EXPECT_EQ(m["reexecuted"], 1);
  EXPECT_EQ(m["backup_tasks"], 1);
  EXPECT_EQ(m["backups_won"], 0);
  EXPECT_EQ(m["duplicate_completions"], 1);
  EXPECT_DOUBLE_EQ(m["maps_done_s"].get<double>(), 7.5);
  EXPECT_EQ(m["maps_local"], 0);
  EXPECT_EQ(m["maps_remote"], 1);
  // Executions: 2 s (reset), 2.5 s (kept), 2 s (duplicate).
  EXPECT_NEAR(m["wasted_work_pct"].get<double>(), 100.0 * 4 / 6.5, 1e-9);
  EXPECT_EQ(m["map_time_s"]["count"], 2);                     // both accepted completions
  EXPECT_DOUBLE_EQ(m["input_peak_mb_s"].get<double>(), 1.0);  // reads only, resets aside
  EXPECT_DOUBLE_EQ(m["input_mb"].get<double>(), 4.0);
}

TEST(MapReduceMetrics, TasksCsvHasOneRowPerExecutionInAssignmentOrder) {
  const std::string csv = mapreduce_tasks_csv(map_reset_and_reexecuted(true).record);
  EXPECT_EQ(csv,
            "task,id,attempt,worker,backup,locality,start_s,end_s,outcome\n"
            "map,0,0,w1,0,local,0,2,reset\n"
            "map,0,1,w2,0,remote,5,7.5,committed\n"
            "map,0,2,w3,1,rack,6,8,duplicate\n");
}

TEST(MapReduceMetrics, TasksCsvMarksRunningAndOrphanedExecutions) {
  Events r;
  r.started(2, 1);
  r.assign(0, "map", 0, 0, "w1", false, "local");
  r.assign(0, "map", 1, 0, "w2", false, "rack");
  r.ended(1.5, "map", 0, 0, "w1", "committed", 0);
  r.assign(1.5, "reduce", 0, 0, "w1");
  // The coordinator crashes: its assignments in progress die with it. The restarted one
  // (from its checkpoint) assigns map 1 again, reusing attempt numbers.
  r.event(2, kCoordinator, "crash", {{"incarnation", 0}});
  r.event(3, kCoordinator, "restart", {{"incarnation", 1}});
  r.assign(3, "map", 1, 0, "w3", false, "remote");
  r.record.end_time = at(4);
  EXPECT_EQ(mapreduce_tasks_csv(r.record),
            "task,id,attempt,worker,backup,locality,start_s,end_s,outcome\n"
            "map,0,0,w1,0,local,0,1.5,committed\n"
            "map,1,0,w2,0,rack,0,2,orphaned\n"
            "reduce,0,0,w1,0,,1.5,2,orphaned\n"
            "map,1,0,w3,0,remote,3,,running\n");
  const json m = mapreduce_metrics(r.record);
  EXPECT_EQ(m["reexecuted"], 1);
  // 1.5 kept, 2 + 0.5 orphaned, 1 running.
  EXPECT_NEAR(m["wasted_work_pct"].get<double>(), 100.0 * 2.5 / 5, 1e-9);
}

TEST(MapReduceMetrics, SelfCrashesDelaysAndDuplicatesAreCounted) {
  Events r;
  r.started(1, 1);
  r.event(1, kW1, "crash_self", {{"task", "map"}, {"id", 0}, {"attempt", 0}});
  r.event(2, kW2, "call_delayed", {{"task", "map"}, {"id", 0}, {"attempt", 1}, {"delay_s", 3.0}});
  r.event(3, kW3, "call_delayed",
          {{"task", "reduce"}, {"id", 0}, {"attempt", 0}, {"delay_s", 1.0}});
  r.record.end_time = at(4);
  const json m = mapreduce_metrics(r.record);
  EXPECT_EQ(m["crashes_self"], 1);
  EXPECT_EQ(m["calls_delayed"], 2);
}

TEST(MapReduceMetrics, RpcsListEveryMessageKindOfTheProtocol) {
  RunRecord record;
  record.count_sent("ping", 0);
  record.count_sent("ping", kSecond);
  record.count_sent("fetch", kSecond);
  const json rpcs = mapreduce_metrics(record)["rpcs"];
  EXPECT_EQ(rpcs["ping"], 2);
  EXPECT_EQ(rpcs["fetch"], 1);
  EXPECT_EQ(rpcs["replica_ack"], 0);
  std::set<std::string> listed;
  for (const auto& [kind, n] : rpcs.items()) listed.insert(kind);
  const auto& kinds = mapreduce::kind_names();
  EXPECT_EQ(listed, std::set<std::string>(kinds.begin(), kinds.end()));
}

TEST(MapReduceMetrics, MetricsAreTheSameWhateverTheRun) {
  // Deterministic: the same record gives the same report, byte for byte.
  const auto r = map_reset_and_reexecuted(true).record;
  EXPECT_EQ(mapreduce_metrics(r).dump(), mapreduce_metrics(r).dump());
  EXPECT_EQ(mapreduce_rates_csv(r), mapreduce_rates_csv(r));
}

/// Every metric path the function produces, stats objects as their own path.
std::set<std::string> produced_paths(const json& m) {
  std::set<std::string> paths;
  for (const auto& [key, value] : m.items()) {
    if (key == "rpcs") {
      for (const auto& [kind, n] : value.items()) paths.insert("rpcs." + kind);
    } else {
      paths.insert(key);
    }
  }
  return paths;
}

TEST(MapReduceMetrics, RegistryListsEveryMetricItProduces) {
  const ProtocolInfo* p = find_protocol("mapreduce");
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->implemented);
  std::set<std::string> registered;
  for (const auto& spec : p->metrics) registered.insert(spec.path);
  json m = mapreduce_metrics(three_maps_two_reduces().record);
  m["job_failed_reason"] = "";  // present when the job failed
  const auto produced = produced_paths(m);
  EXPECT_EQ(produced, [&] {
    auto r = registered;
    r.insert("job_failed_reason");  // a string: not usable in expect:, so not registered
    return r;
  }());
  EXPECT_TRUE(is_known_metric(*p, "reduce_time_s.p99"));
  EXPECT_TRUE(is_known_metric(*p, "rpcs.fetch_reply"));
  const auto& kinds = mapreduce::kind_names();
  EXPECT_EQ(p->message_kinds, kinds);
  EXPECT_EQ(p->roles, (std::vector<std::string>{"coordinator", "worker"}));
  EXPECT_EQ(p->default_checks, (std::vector<std::string>{"mapreduce.output", "mapreduce.commit"}));
  EXPECT_TRUE(p->workload_ops.empty());
  EXPECT_FALSE(p->params.empty());
}

TEST(MapReduceMetrics, ReportSchemaDescribesEveryMetric) {
  std::ifstream in(std::string(FAULTLINE_SOURCE_DIR) + "/docs/report.schema.json");
  ASSERT_TRUE(in.good());
  const json schema = json::parse(in);
  const json& properties = schema["properties"];
  json m = mapreduce_metrics(three_maps_two_reduces().record);
  m["job_failed_reason"] = "";
  for (const auto& [key, value] : m.items()) EXPECT_TRUE(properties.contains(key)) << key;
  // The mapreduce branch of allOf requires the metrics every MapReduce run has.
  bool found = false;
  for (const auto& branch : schema["allOf"]) {
    if (branch["if"]["properties"]["protocol"].value("const", "") != "mapreduce") continue;
    found = true;
    for (const auto& key : branch["then"]["required"])
      EXPECT_TRUE(m.contains(key.get<std::string>())) << key;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace faultline::reports
