// MapReduce on SimGrid (sim/mapreduce_world): a real job end to end, stragglers acting on the
// workers' compute and disk jobs, the 6.824 crash test's crash and restart, the fault targets
// `worker-N` and the nemesis `targets:`. Each TEST is its own process (one simulation per
// process); a test comparing two runs forks one child per run, as experiment trials do.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/run.hpp"
#include "cli/scenario.hpp"
#include "cli/scenario_loader.hpp"
#include "common/rng.hpp"
#include "protocols/mapreduce/apps.hpp"
#include "protocols/mapreduce/job.hpp"

namespace faultline {
namespace {

const std::string kTexts = std::string(FAULTLINE_SOURCE_DIR) + "/data/mapreduce/texts/";

/// A 4-server job (coordinator n1, workers n2..n4) over one or two real texts: ~12 maps of
/// 64 KB, 3 reduces; 30 MB/s disks.
std::string scenario_text(const std::string& params, const std::string& faults = "",
                          const std::string& duration = "60s") {
  std::string text =
      "name: mapreduce-test\n"
      "description: a MapReduce job under test\n"
      "protocol: mapreduce\n"
      "duration: " + duration + "\n"
      "cluster: {nodes: 4, latency: 100us, bandwidth: 1Gbps, speed: 1Gf, "
      "disk: {read: 30MB/s, write: 30MB/s}}\n"
      "params: {input: [" + kTexts + "mill.txt, " + kTexts + "harbour.txt], split_size: 64KB, "
      "reduce_tasks: 3, map_flops_per_byte: 2000, sort_flops_per_byte: 500, "
      "reduce_flops_per_byte: 500" + params + "}\n"
      "checks: [mapreduce.output, mapreduce.commit]\n";
  if (!faults.empty()) text += "faults:\n" + faults;
  return text;
}

Simulation run(const std::string& params, const std::string& faults = "") {
  return simulate(load_scenario_text(scenario_text(params, faults), "mapreduce-test.yaml"));
}

std::vector<const EventRecord*> events(const RunRecord& r, const std::string& kind) {
  std::vector<const EventRecord*> out;
  for (const auto& e : r.events)
    if (e.kind == kind) out.push_back(&e);
  return out;
}

/// The reference output, computed here independently of the world's own check.
std::vector<std::string> sequential(const Scenario& s) {
  const auto config = mapreduce::config_from(s.params);
  std::vector<mapreduce::InputFile> files;
  for (std::size_t i = 0; i < config.input.size(); ++i) {
    std::ifstream in(s.input_paths.at(i), std::ios::binary);
    std::ostringstream content;
    content << in.rdbuf();
    files.push_back({config.input[i], content.str()});
  }
  const auto job = mapreduce::plan_job(config, std::move(files), {1, 2, 3}, 0, {0, 0, 0, 0}, Rng(1));
  return mapreduce::run_sequential(*mapreduce::make_app(config), job, config.combiner);
}

/// Job time (s) of one run in a child process; -1 when the job did not finish.
double job_time_in_child(const std::string& text) {
  int fds[2];
  if (pipe(fds) != 0) return -2;
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    double t = -1;
    const auto s = simulate(load_scenario_text(text, "mapreduce-test.yaml"));
    for (const auto* e : events(s.record, "job_done")) t = to_seconds(e->time);
    (void)!write(fds[1], &t, sizeof t);
    _exit(0);
  }
  close(fds[1]);
  double t = -3;
  (void)!read(fds[0], &t, sizeof t);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return t;
}

/// Map executions (start, end) per worker name, from task_ended events.
std::map<std::string, std::vector<double>> map_durations(const RunRecord& r) {
  std::map<std::string, std::vector<double>> out;
  for (const auto* e : events(r, "task_ended"))
    if (e->fields.value("task", "") == "map" && e->fields.value("outcome", "") == "committed")
      out[e->fields.value("worker", "")].push_back(to_seconds(e->time) -
                                                    e->fields["start_s"].get<double>());
  return out;
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v) sum += x;
  return v.empty() ? 0 : sum / static_cast<double>(v.size());
}

TEST(MapReduceWorld, SmallRealJobCompletesWithTheSequentialOutput) {
  const std::string text = scenario_text("");
  const Scenario scenario = load_scenario_text(text, "mapreduce-test.yaml");
  const auto s = simulate(scenario);
  ASSERT_EQ(events(s.record, "job_done").size(), 1u);
  EXPECT_TRUE(events(s.record, "job_failed").empty());
  EXPECT_TRUE(s.record.violations.empty()) << s.record.violations.front().detail;
  // The run ends soon after the job (World::finished), not at `duration`.
  const Time done = events(s.record, "job_done").front()->time;
  EXPECT_GE(s.record.end_time, done);
  EXPECT_LE(s.record.end_time, done + 20 * kMillisecond);
  const auto expected = sequential(scenario);
  ASSERT_EQ(expected.size(), 3u);
  for (int r = 0; r < 3; ++r) {
    const auto it = s.files.find("output/mr-out-" + std::to_string(r));
    ASSERT_NE(it, s.files.end()) << r;
    EXPECT_EQ(it->second, expected[static_cast<std::size_t>(r)]) << r;
    EXPECT_FALSE(it->second.empty());
  }
  EXPECT_EQ(s.files.count("expected/mr-out-0"), 0u);  // only when the check failed
  const auto summary = events(s.record, "output_summary");
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(summary.front()->fields["committed"], 3);
  // Roles for the trace: the coordinator is the first server.
  const auto coordinator = events(s.record, "became_coordinator");
  ASSERT_EQ(coordinator.size(), 1u);
  EXPECT_EQ(s.record.name(coordinator.front()->node), "n1");
  EXPECT_EQ(events(s.record, "became_worker").size(), 3u);
}

TEST(MapReduceWorld, AJobThatNeverEndsRunsUntilDuration) {
  // The coordinator crashes for good: the job neither completes nor fails, and the run lasts
  // until `duration` as any other run (World::finished stays false).
  const auto s = simulate(load_scenario_text(
      scenario_text("", "  - {at: 200ms, crash: coordinator}\n", "3s"), "mapreduce-test.yaml"));
  EXPECT_TRUE(events(s.record, "job_done").empty());
  EXPECT_TRUE(events(s.record, "job_failed").empty());
  EXPECT_EQ(s.record.end_time, 3 * kSecond);
  EXPECT_TRUE(s.record.violations.empty());  // no output is no violation for an unfinished job
}

TEST(MapReduceWorld, SlowDiskAndSlowCpuLengthenThatWorkersMaps) {
  // n2's disk at 1 MB/s instead of 30 (§3.6's bad disk), n3's CPU 10x slower: the NodeRuntime
  // runs the workers' disk and compute jobs on their own host and disk, so the faults act on
  // exactly those workers' tasks.
  const auto s = run(", backup_tasks: false",
                     "  - {at: 0s, slow: {node: n2, disk: 30}}\n"
                     "  - {at: 0s, slow: {node: n3, cpu: 10}}\n");
  ASSERT_EQ(events(s.record, "job_done").size(), 1u);
  EXPECT_TRUE(s.record.violations.empty());
  const auto d = map_durations(s.record);
  ASSERT_TRUE(d.count("n2") && d.count("n3") && d.count("n4"));
  EXPECT_GT(mean(d.at("n2")), 2 * mean(d.at("n4")));
  EXPECT_GT(mean(d.at("n3")), 2 * mean(d.at("n4")));
}

TEST(MapReduceWorld, ASlowDiskMakesTheJobSlower) {
  const double normal = job_time_in_child(scenario_text(", backup_tasks: false"));
  const double slow = job_time_in_child(
      scenario_text(", backup_tasks: false", "  - {at: 0s, slow: {node: n2, disk: 30}}\n"));
  ASSERT_GT(normal, 0);
  ASSERT_GT(slow, 0);
  EXPECT_GT(slow, 1.2 * normal) << "normal " << normal << " s, slow disk " << slow << " s";
}

TEST(MapReduceWorld, CrashSelfCrashesTheWorkerAndRestartsItLater) {
  const auto s = run(", crash_test_crash_p: 0.2, crash_test_restart: 500ms");
  const auto crashes_self = events(s.record, "crash_self");
  ASSERT_FALSE(crashes_self.empty());
  std::size_t matched = 0;
  for (const auto* c : crashes_self) {
    bool crashed = false, restarted = false;
    for (const auto& e : s.record.events) {
      if (e.node != c->node) continue;
      if (e.kind == "crash" && e.time == c->time) crashed = true;
      if (e.kind == "restart" && e.time == c->time + 500 * kMillisecond) restarted = true;
    }
    EXPECT_TRUE(crashed) << s.record.name(c->node) << " at " << to_seconds(c->time);
    if (crashed && (restarted || c->time + 500 * kMillisecond > s.record.end_time)) ++matched;
  }
  EXPECT_EQ(matched, crashes_self.size());
  // The job still completes with the sequential run's output (re-execution, §3.3).
  ASSERT_EQ(events(s.record, "job_done").size(), 1u);
  EXPECT_TRUE(s.record.violations.empty()) << s.record.violations.front().detail;
}

TEST(MapReduceWorld, WorkerNCrashesThatManyDistinctWorkers) {
  const auto s = run("", "  - {at: 300ms, crash: worker-2, for: 1s}\n");
  ASSERT_GE(s.record.faults.size(), 1u);
  ASSERT_TRUE(s.record.faults[0].target);
  const auto& target = *s.record.faults[0].target;
  EXPECT_EQ(target.size(), 2u);
  EXPECT_EQ(std::set<std::string>(target.begin(), target.end()).size(), 2u);
  for (const auto& name : target) EXPECT_NE(name, "n1");  // the coordinator is not a worker
  ASSERT_EQ(events(s.record, "job_done").size(), 1u);
  EXPECT_TRUE(s.record.violations.empty());
}

TEST(MapReduceWorld, NemesisWithTargetsLeavesTheCoordinatorAlone) {
  const auto s = run("", "  - at: 100ms\n    nemesis: {faults: [crash, restart], every: [200ms, 400ms], "
                         "until: 3s, targets: worker}\n");
  std::size_t nemesis_crashes = 0;
  for (const auto& f : s.record.faults) {
    if (f.kind != "crash" || !f.target) continue;
    ++nemesis_crashes;
    for (const auto& name : *f.target) EXPECT_NE(name, "n1");
  }
  EXPECT_GT(nemesis_crashes, 0u);
  ASSERT_EQ(events(s.record, "job_done").size(), 1u);
  EXPECT_TRUE(s.record.violations.empty());
}

}  // namespace
}  // namespace faultline
