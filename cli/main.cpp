// The `faultline` command (SCENARIOS.md, "Command line").
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/check.hpp"
#include "cli/commands.hpp"
#include "cli/experiment.hpp"
#include "cli/run.hpp"

int main(int argc, char** argv) {
  using namespace faultline;
  CLI::App app{"faultline: a discrete-event simulator of classic distributed systems on SimGrid.\n"
               "Run a scenario, see what the protocol did under faults, get a consistency verdict."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("faultline ") + FAULTLINE_VERSION);

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "Run one scenario and write its report");
  run_cmd->add_option("FILE", run.file, "scenario file (YAML)")->required();
  run_cmd->add_option("--seed", run.seed, "override the scenario's seed");
  run_cmd->add_option("--out", run.out, "output directory (default runs/<name>-seed<N>/)");
  run_cmd->add_flag("--force", run.force, "replace a non-empty --out directory");
  run_cmd->add_option("--set", run.sets, "override a scenario value: key.path=value (YAML value)")
      ->take_all()
      ->allow_extra_args(false);
  run_cmd->add_flag("--quiet", run.quiet, "do not print the summary");
  run_cmd->add_flag("--plots", run.plots, "also draw timeline.png (needs python3 with matplotlib)");
  run_cmd->add_flag("--trace-messages", run.trace_messages, "draw every delivered message in trace.json");

  std::vector<std::string> validate_files;
  auto* validate_cmd = app.add_subcommand("validate", "Check scenario files without running them");
  validate_cmd->add_option("FILE", validate_files, "scenario files")->required();

  bool list_json = false;
  auto* list_cmd = app.add_subcommand("list", "List protocols, roles, checks and the scenario library");
  list_cmd->add_flag("--json", list_json, "machine-readable output");

  std::string protocol;
  bool explain_json = false;
  auto* explain_cmd = app.add_subcommand("explain", "A protocol's params, metrics, checks and roles");
  explain_cmd->add_option("PROTOCOL", protocol, "protocol name (see `faultline list`)")->required();
  explain_cmd->add_flag("--json", explain_json, "machine-readable output");

  ExperimentOptions experiment;
  auto* experiment_cmd = app.add_subcommand(
      "experiment", "Run an experiment: a sweep of trials, summaries, the paper's numbers beside ours");
  experiment_cmd->add_option("FILE", experiment.file, "experiment file (YAML)")->required();
  experiment_cmd->add_option("--jobs", experiment.jobs, "worker processes (default: number of cores)");
  experiment_cmd->add_option("--trials", experiment.trials, "trials per point (replaces trials and trials_at)");
  experiment_cmd->add_option("--out", experiment.out, "output directory (default runs/<name>/)");
  experiment_cmd->add_flag("--force", experiment.force, "replace a non-empty --out directory");

  CheckOptions check;
  auto* check_cmd = app.add_subcommand("check", "Check a history (history.jsonl or Jepsen EDN) for linearizability");
  check_cmd->add_option("HISTORY", check.file, "history file: JSON lines or Jepsen EDN")->required();
  check_cmd->add_option("--model", check.model, "register | cas-register | kv | multi-register")->required();
  check_cmd->add_option("--initial", check.initial, "initial value, JSON (default null; kv ignores it)");
  check_cmd->add_option("--timeout", check.timeout, "wall-clock budget, a duration (default 60s)");
  check_cmd->add_flag("--json", check.json, "print the result as JSON");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    // Usage errors are bad input (exit 2); --help and --version exit 0.
    return code == 0 ? 0 : 2;
  }
  try {
    if (*run_cmd) return run_scenario(run);
    if (*validate_cmd) return validate_command(validate_files);
    if (*list_cmd) return list_command(list_json);
    if (*explain_cmd) return explain_command(protocol, explain_json);
    if (*check_cmd) return check_command(check);
    if (*experiment_cmd) return run_experiment(experiment);
  } catch (const std::exception& e) {
    std::cerr << "faultline: internal error: " << e.what() << "\n";
    return 70;
  }
  return 2;
}
