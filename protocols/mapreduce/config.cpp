#include "protocols/mapreduce/config.hpp"

#include <optional>
#include <utility>

namespace faultline::mapreduce {

namespace {

ParamSpec spec(std::string name, ParamType type, std::string default_yaml, std::string help,
               std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt,
               std::vector<std::string> choices = {}) {
  return ParamSpec{std::move(name),   type, std::move(default_yaml), std::move(help), min, max,
                   std::move(choices)};
}

}  // namespace

std::vector<ParamSpec> param_schema() {
  const double positive_ns = 1.0;  // durations that must be > 0
  std::vector<ParamSpec> s;
  s.push_back(spec("payload", ParamType::String, "real",
                   "real: user map/reduce functions over real text, output checked against a "
                   "sequential run; modelled: sizes and costs only (paper-scale runs)",
                   std::nullopt, std::nullopt, {"real", "modelled"}));
  s.push_back(spec("app", ParamType::String, "wordcount",
                   "real mode: the application (§2.3 examples): wordcount, inverted-index, grep "
                   "or sort",
                   std::nullopt, std::nullopt, {"wordcount", "inverted-index", "grep", "sort"}));
  s.push_back(spec("input", ParamType::StringList, "[]",
                   "real mode: input files, resolved against the scenario file's directory"));
  s.push_back(spec("grep_pattern", ParamType::String, "the",
                   "real mode: the pattern the grep application looks for (§5.2)"));
  s.push_back(spec("split_size", ParamType::Size, "1MB",
                   "real mode: a split ends at the first line end after this many bytes; "
                   "modelled mode: the size of every split (64MB in the paper, §3.1, §5)",
                   1.0));
  s.push_back(spec("input_size", ParamType::Size, "0B",
                   "modelled mode: total input bytes; M = ceil(input_size / split_size) (1TB "
                   "for the grep and sort of §5.2-5.3)"));
  s.push_back(spec("reduce_tasks", ParamType::Integer, "3",
                   "R, the number of reduce tasks and output files (§3.1)", 1.0));
  s.push_back(
      spec("map_slots", ParamType::Integer, "1", "map tasks a worker runs at once (§3.1)", 1.0));
  s.push_back(spec("reduce_slots", ParamType::Integer, "1",
                   "reduce tasks a worker runs at once (one at a time in §5.3)", 1.0));
  s.push_back(spec("input_replicas", ParamType::Integer, "3",
                   "replicas of every input split on distinct workers (GFS keeps 3, §3.4)", 1.0));
  s.push_back(spec("locality", ParamType::Bool, "true",
                   "locality scheduling (§3.4): a map goes to a replica holder, else to the same "
                   "rack, else anywhere"));
  s.push_back(spec("ping_interval", ParamType::Duration, "1s",
                   "the coordinator pings every worker this often (§3.3 gives no value)",
                   positive_ns));
  s.push_back(spec("worker_timeout", ParamType::Duration, "3s",
                   "a worker not heard from for this long is declared dead (§3.3)", positive_ns));
  s.push_back(spec("fetch_timeout", ParamType::Duration, "2s",
                   "a split read, shuffle fetch or output replica write without an answer is "
                   "retried after this long",
                   positive_ns));
  s.push_back(spec("backup_tasks", ParamType::Bool, "true",
                   "backup executions of the last in-progress tasks of each phase (§3.6)"));
  s.push_back(spec("backup_threshold", ParamType::Probability, "0.9",
                   "backups start once no task of the phase is idle and this fraction of it is "
                   "complete (§3.6: \"close to completion\")"));
  s.push_back(spec("combiner", ParamType::Bool, "false",
                   "apply the application's combiner to each map output partition (§4.3)"));
  s.push_back(spec("startup", ParamType::Duration, "0s",
                   "fixed job start-up cost before the first assignment: program propagation, "
                   "GFS opens, locality lookups (about a minute at 1800 machines, §5.2)"));
  s.push_back(spec("map_flops_per_byte", ParamType::Real, "10",
                   "compute cost of map() per input byte (flops)", 0.0));
  s.push_back(spec("sort_flops_per_byte", ParamType::Real, "10",
                   "compute cost of sorting per intermediate byte at the reducer (flops, §3.1 "
                   "step 5)",
                   0.0));
  s.push_back(spec("reduce_flops_per_byte", ParamType::Real, "10",
                   "compute cost of reduce() per intermediate byte (flops)", 0.0));
  s.push_back(spec("intermediate_ratio", ParamType::Real, "1.0",
                   "modelled mode: intermediate bytes per input byte (1 for sort, §5.3)", 0.0));
  s.push_back(spec("output_ratio", ParamType::Real, "1.0",
                   "modelled mode: output bytes per intermediate byte", 0.0));
  s.push_back(spec("output_replicas", ParamType::Integer, "1",
                   "copies of every output file, the others on other workers (2 in §5.3)", 1.0));
  s.push_back(spec("shuffle", ParamType::String, "per-fetch",
                   "per-fetch: reducers fetch from map workers, one message per batch (§3.1 "
                   "step 5); aggregated: the simulator moves the shuffle rack to rack "
                   "(modelled paper-scale runs)",
                   std::nullopt, std::nullopt, {"per-fetch", "aggregated"}));
  s.push_back(spec("shuffle_batch_interval", ParamType::Duration, "5s",
                   "aggregated shuffle: a (source rack, destination rack) pair starts a batch "
                   "at most this often (fewer flows, coarser timing)",
                   positive_ns));
  s.push_back(spec("bulk_message_size", ParamType::Size, "1MB",
                   "messages of at least this size (split data, fetched partitions, output "
                   "replicas) travel as flows of their own, so pings never queue behind them",
                   1.0));
  s.push_back(spec("coordinator_checkpoint", ParamType::Bool, "false",
                   "false: a coordinator crash fails the job (the paper's implementation, §3.3); "
                   "true: checkpoints every checkpoint_interval, a restart resumes from the last "
                   "one"));
  s.push_back(spec("checkpoint_interval", ParamType::Duration, "1s",
                   "period of the coordinator's checkpoints (§3.3 \"periodic checkpoints\")",
                   positive_ns));
  s.push_back(spec("crash_test_crash_p", ParamType::Probability, "0",
                   "6.824 crash test: probability that a map()/reduce() call crashes its worker"));
  s.push_back(spec("crash_test_delay_p", ParamType::Probability, "0",
                   "6.824 crash test: probability that a call that did not crash is delayed"));
  s.push_back(spec("crash_test_delay", ParamType::DurationRange, "[0s, 10s]",
                   "6.824 crash test: the delay of a delayed call, drawn uniformly"));
  s.push_back(spec("crash_test_restart", ParamType::Duration, "1s",
                   "6.824 crash test: a worker that crashed itself restarts after this long"));
  return s;
}

Config config_from(const ParamValues& params) {
  Config c;
  c.payload = params.text("payload") == "modelled" ? Payload::Modelled : Payload::Real;
  c.app = params.text("app");
  c.input = params.list("input");
  c.grep_pattern = params.text("grep_pattern");
  c.split_size = params.size("split_size");
  c.input_size = params.size("input_size");
  c.reduce_tasks = params.integer("reduce_tasks");
  c.map_slots = params.integer("map_slots");
  c.reduce_slots = params.integer("reduce_slots");
  c.input_replicas = params.integer("input_replicas");
  c.locality = params.flag("locality");
  c.ping_interval = params.duration("ping_interval");
  c.worker_timeout = params.duration("worker_timeout");
  c.fetch_timeout = params.duration("fetch_timeout");
  c.backup_tasks = params.flag("backup_tasks");
  c.backup_threshold = params.real("backup_threshold");
  c.combiner = params.flag("combiner");
  c.startup = params.duration("startup");
  c.map_flops_per_byte = params.real("map_flops_per_byte");
  c.sort_flops_per_byte = params.real("sort_flops_per_byte");
  c.reduce_flops_per_byte = params.real("reduce_flops_per_byte");
  c.intermediate_ratio = params.real("intermediate_ratio");
  c.output_ratio = params.real("output_ratio");
  c.output_replicas = params.integer("output_replicas");
  c.shuffle = params.text("shuffle") == "aggregated" ? Shuffle::Aggregated : Shuffle::PerFetch;
  c.shuffle_batch_interval = params.duration("shuffle_batch_interval");
  c.bulk_message_size = params.size("bulk_message_size");
  c.coordinator_checkpoint = params.flag("coordinator_checkpoint");
  c.checkpoint_interval = params.duration("checkpoint_interval");
  c.crash_test_crash_p = params.real("crash_test_crash_p");
  c.crash_test_delay_p = params.real("crash_test_delay_p");
  c.crash_test_delay = params.range("crash_test_delay");
  c.crash_test_restart = params.duration("crash_test_restart");
  return c;
}

}  // namespace faultline::mapreduce
