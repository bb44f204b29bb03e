#include "cli/run.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "cli/python.hpp"
#include "cli/registry.hpp"
#include "cli/scenario_loader.hpp"
#include "faults/controller.hpp"
#include "reports/event_json.hpp"
#include "reports/history_io.hpp"
#include "reports/linearizability.hpp"
#include "reports/mapreduce_metrics.hpp"
#include "reports/operations.hpp"
#include "reports/raft_metrics.hpp"
#include "reports/report.hpp"
#include "reports/trace.hpp"
#include "sim/engine.hpp"
#include "sim/mapreduce_world.hpp"
#include "sim/raft_world.hpp"

namespace faultline {
namespace fs = std::filesystem;
namespace {

/// Chooses and prepares the output directory; an error message when it must be refused.
std::optional<std::string> prepare_out_dir(const RunOptions& options, const Scenario& scenario,
                                           fs::path& dir) {
  std::error_code ec;
  if (options.out) {
    dir = *options.out;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec) && !options.force)
      return fmt::format("{}: error: output directory exists and is not empty (use --force to replace it)",
                         dir.string());
  } else {
    dir = fs::path("runs") / fmt::format("{}-seed{}", scenario.name, scenario.seed);
  }
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec))
      return fmt::format("{}: error: output path exists and is not a directory", dir.string());
    for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
  }
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("{}: error: cannot create output directory: {}", dir.string(), ec.message());
  return std::nullopt;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

using MetricsFn = nlohmann::json (*)(const RunRecord&);

/// The protocol's metrics function (report.json keys beyond the common ones).
MetricsFn metrics_of(const std::string& protocol) {
  if (protocol == "mapreduce") return reports::mapreduce_metrics;
  return reports::raft_metrics;
}

/// True for protocols with client operations (the registry lists their workload ops): their
/// report carries ops_ok, latency_ms and phases.
bool has_client_ops(const std::string& protocol) {
  const ProtocolInfo* info = find_protocol(protocol);
  return info == nullptr || !info->workload_ops.empty();
}

/// The protocol's simulated world.
std::unique_ptr<sim::World> make_world(const Scenario& scenario, sim::RunContext& ctx) {
  if (scenario.protocol == "mapreduce") return std::make_unique<sim::MapReduceWorld>(scenario, ctx);
  return std::make_unique<sim::RaftWorld>(scenario, ctx);
}

/// The metrics `stop_when` sees mid-run: the same report.json keys as at the end.
nlohmann::json live_metrics(const RunRecord& record, const std::string& protocol) {
  reports::ReportInputs in;
  in.client_ops = has_client_ops(protocol);
  return reports::build_report(in, record, metrics_of(protocol)(record));
}

void write_file_creating_dirs(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  write_file(path, text);
}

/// The `linearizable` check: the run's history against the kv model, within the scenario's
/// `checks_budget`. A violation becomes one violation record; the verdict (possibly unknown)
/// goes into the report's checks and `linearizability`.
void check_linearizability(const Scenario& scenario, Simulation& sim, reports::ReportInputs& in) {
  const lin::History history = lin::from_entries(sim.record.history, lin::Model::Kv);
  lin::Options options;
  options.model = lin::Model::Kv;
  options.timeout_s = to_seconds(scenario.checks_budget);
  const lin::Result result = lin::check(history, options);
  const nlohmann::json j = result.to_json(history);
  in.extra["linearizability"] = j;
  nlohmann::json verdict = {{"ok", nullptr}, {"detail", std::string(lin::to_string(result.verdict))}};
  if (result.verdict == lin::Verdict::Linearizable) {
    verdict["ok"] = true;
    verdict["detail"] = fmt::format("linearizable ({} ops, {} keys)", history.ops.size(), result.partitions);
  } else if (result.verdict == lin::Verdict::Unknown) {
    verdict["detail"] = "unknown: " + result.reason;
  } else {
    verdict["ok"] = false;
    const auto& e = *result.explanation;
    const lin::Op& op = history.ops.at(e.op);
    ViolationRecord v;
    v.time = from_seconds(op.invoke_time);
    for (const auto& h : sim.record.history)
      if (h.process == op.process && h.client != kNoNode) {
        v.nodes = {sim.record.name(h.client)};
        break;
      }
    v.check = "linearizable";
    v.detail = e.text.substr(0, e.text.find('\n'));
    v.data = {{"process", op.process}, {"history_index", op.invoke_index}};
    if (e.key) v.data["key"] = *e.key;
    sim.record.violations.push_back(std::move(v));
    verdict["detail"] = "not linearizable: see `linearizability.explanation`";
  }
  in.check_verdicts["linearizable"] = verdict;
}

}  // namespace

Simulation simulate(const Scenario& scenario, bool trace_messages) {
  sim::SimEngine engine(scenario.cluster.network_model);
  // Every protocol's node table: servers (n1..nN or `names`), then clients c1..cM.
  sim::RunContext ctx(scenario.cluster, sim::standard_node_table(scenario), scenario.seed,
                      faults::Controller::cpu_factors(scenario), scenario.cluster.message_cost_flops);
  ctx.trace_messages = trace_messages;
  const std::unique_ptr<sim::World> world_owner = make_world(scenario, ctx);
  sim::World& world = *world_owner;
  const std::string protocol = scenario.protocol;

  std::function<bool()> stop_check;
  if (scenario.stop_when) {
    const Expectation stop = *scenario.stop_when;
    // Rebuilding the metrics costs O(events): skip polls where nothing new was recorded (no
    // event, operation, fault or violation), except once per simulated second for metrics that
    // move with time alone (sim_time_s, unavailable_ms).
    struct Seen {
      std::size_t events = 0, history = 0, faults = 0, violations = 0;
      Time at = -kSecond;
      bool operator==(const Seen&) const = default;
    };
    auto seen = std::make_shared<Seen>();
    stop_check = [&ctx, &world, stop, seen, protocol] {
      world.collect_violations();
      const Time now = sim::SimEngine::now();
      const auto& r = ctx.record;
      const Seen current{r.events.size(), r.history.size(), r.faults.size(), r.violations.size(), seen->at};
      if (current == *seen && now - seen->at < kSecond) return false;
      *seen = current;
      seen->at = now;
      ctx.record.end_time = now;
      const auto metrics = live_metrics(ctx.record, protocol);
      const auto verdict =
          reports::evaluate(reports::ExpectationInput{stop.text, stop.metric, stop.op, stop.value}, metrics);
      return verdict["ok"].get<bool>();
    };
  }
  faults::Controller controller(scenario, ctx, world, stop_check);
  world.start();
  controller.spawn();
  engine.run();
  world.finish();

  Simulation result;
  result.network_model = engine.description();
  result.protocol_metrics = metrics_of(protocol)(ctx.record);
  result.files = world.files();
  if (protocol == "mapreduce") {
    // The data rates of the paper's Figures 2 and 3 and one row per task execution; experiment
    // timeseries figures read rates.csv from here.
    result.files["rates.csv"] = reports::mapreduce_rates_csv(ctx.record);
    result.files["tasks.csv"] = reports::mapreduce_tasks_csv(ctx.record);
  }
  result.record = std::move(ctx.record);
  return result;
}

nlohmann::json simulation_report(const Scenario& scenario, const std::string& file, Simulation& sim,
                                 double wall_time_s) {
  reports::ReportInputs in;
  in.scenario = scenario.name;
  in.scenario_file = file;
  in.description = scenario.description;
  in.protocol = scenario.protocol;
  in.seed = scenario.seed;
  in.config = scenario.effective;
  in.network_model = sim.network_model;
  in.faultline_version = FAULTLINE_VERSION;
  in.simgrid_version = sim::SimEngine::simgrid_version();
  in.checks = scenario.checks;
  for (const auto& e : scenario.expect) in.expect.push_back({e.text, e.metric, e.op, e.value});
  if (std::find(scenario.checks.begin(), scenario.checks.end(), "linearizable") != scenario.checks.end())
    check_linearizability(scenario, sim, in);
  in.wall_time_s = wall_time_s;
  in.client_ops = has_client_ops(scenario.protocol);
  return reports::build_report(in, sim.record, sim.protocol_metrics);
}

int run_scenario(const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  Scenario scenario;
  try {
    scenario = load_scenario(options.file, options.sets);
  } catch (const ScenarioError& e) {
    std::cerr << e.format() << "\n";
    return 2;
  }
  if (options.seed) {
    scenario.seed = *options.seed;
    scenario.effective["seed"] = *options.seed;
  }
  fs::path out_dir;
  if (auto refusal = prepare_out_dir(options, scenario, out_dir)) {
    std::cerr << *refusal << "\n";
    return 2;
  }

  Simulation sim = simulate(scenario, options.trace_messages);

  nlohmann::json report = simulation_report(scenario, options.file, sim, 0.0);
  // The wall time includes the checks, which simulation_report runs.
  report["wall_time_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();

  std::string history;
  for (const auto& h : sim.record.history) history += to_json(h).dump() + "\n";
  std::string events;
  for (const auto& e : sim.record.events) events += reports::event_json(sim.record, e).dump() + "\n";
  reports::TraceOptions trace;
  trace.scenario = scenario.name;
  trace.protocol = scenario.protocol;
  trace.seed = scenario.seed;
  // Raft servers start as followers (§5.2) and emit no event saying so. MapReduce nodes
  // announce their role (`became_coordinator`, `became_worker`) at their first step.
  if (scenario.protocol == "raft") trace.initial_role = "follower";

  const std::string summary = reports::summary_text(report, sim.record, out_dir.string());
  write_file(out_dir / "report.json", report.dump(2) + "\n");
  write_file(out_dir / "history.jsonl", history);
  write_file(out_dir / "events.jsonl", events);
  write_file(out_dir / "summary.txt", summary);
  write_file(out_dir / "trace.json", reports::trace_json(sim.record, trace));
  for (const auto& [path, content] : sim.files) write_file_creating_dirs(out_dir / path, content);
  if (!options.quiet) std::cout << summary;
  // A figure that cannot be drawn (no python3 or matplotlib) is a warning, not a failed run:
  // the exit code keeps saying whether the protocol behaved (docs/scenarios.md, "--plots").
  if (options.plots) {
    std::vector<std::string> args = {out_dir.string()};
    if (options.quiet) args.emplace_back("--quiet");
    if (auto why = run_script("plot_timeline.py", args))
      std::cerr << "faultline: warning: --plots: timeline.png not drawn: " << *why << "\n";
  }
  return reports::run_exit_code(report, !scenario.expect.empty());
}

}  // namespace faultline
