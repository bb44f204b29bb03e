// MapReduce's parameters (`params:` of a mapreduce scenario). Every field: meaning, unit,
// default, and the paper section it comes from (Dean & Ghemawat, OSDI 2004).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/params.hpp"
#include "common/time.hpp"

namespace faultline::mapreduce {

/// Real: user map/reduce functions run over real text (apps.hpp) and the output is checked
/// byte for byte against a sequential run. Modelled: sizes only, costs from the params below
/// (a 1 TB sort without 1 TB of memory). Both run the same coordinator and worker cores.
enum class Payload { Real, Modelled };

/// How reduce workers get their partitions. PerFetch: each reducer fetches from each map
/// worker (batched per source worker), one message per fetch (§3.1 step 5). Aggregated: the
/// simulator moves the shuffle as one flow per (source rack, destination rack) at a time and
/// tells each reducer when its input is complete (sim/shuffle_fabric; docs/reproductions/
/// mapreduce.md explains why and shows the two agree).
enum class Shuffle { PerFetch, Aggregated };

struct Config {
  Payload payload = Payload::Real;
  /// Real mode: the application (apps.hpp): wordcount | inverted-index | grep | sort.
  std::string app = "wordcount";
  /// Real mode: input files (paths as given; the loader resolves them against the scenario).
  std::vector<std::string> input;
  /// Real mode: grep's pattern.
  std::string grep_pattern = "the";
  /// Real mode: split size (a split ends at the first line end after this many bytes).
  /// Modelled mode: the size of every split (64 MB in the paper, §5; set by the paper
  /// scenarios). The default, as in the params schema, suits the real-mode inputs.
  std::uint64_t split_size = 1'000'000;
  /// Modelled mode: total input bytes (M = ceil(input_size / split_size)).
  std::uint64_t input_size = 0;
  /// R, the number of reduce tasks and output files (§3.1).
  std::int64_t reduce_tasks = 3;
  /// Concurrent map / reduce tasks per worker machine ("one reduce at a time", §5.3).
  std::int64_t map_slots = 1;
  std::int64_t reduce_slots = 1;
  /// Replicas of every input split, placed on distinct workers (GFS: 3, §3.4).
  std::int64_t input_replicas = 3;
  /// Locality scheduling (§3.4): a replica holder, else the same rack, else anywhere.
  bool locality = true;
  /// The coordinator pings every worker this often (§3.3 gives no value).
  Duration ping_interval = 1 * kSecond;
  /// A worker that has not answered for this long is declared dead (§3.3).
  Duration worker_timeout = 3 * kSecond;
  /// A reducer (or a map reading a remote split) that got no answer retries after this long.
  Duration fetch_timeout = 2 * kSecond;
  /// Backup tasks (§3.6): when no idle task of a phase is left and at least this fraction of
  /// the phase's tasks is complete, each in-progress task of the phase gets one backup.
  bool backup_tasks = true;
  double backup_threshold = 0.9;
  /// Combiner (§4.3): reduce applied to each map's output partition before it is written.
  bool combiner = false;
  /// Fixed job start-up cost: program propagation to workers, GFS opens, locality lookups
  /// (§5.2: "about a minute" at 1800 machines). No task is assigned before it has passed.
  Duration startup = 0;
  /// Costs (both modes). Flops per input byte of a map; per intermediate byte to sort; per
  /// intermediate byte to reduce.
  double map_flops_per_byte = 10;
  double sort_flops_per_byte = 10;
  double reduce_flops_per_byte = 10;
  /// Modelled mode: intermediate bytes per input byte, output bytes per intermediate byte.
  double intermediate_ratio = 1.0;
  double output_ratio = 1.0;
  /// Copies of every output file (the first on the reducer's own disk, the others on other
  /// workers over the network; the sort of §5.3 writes 2).
  std::int64_t output_replicas = 1;
  Shuffle shuffle = Shuffle::PerFetch;
  /// Aggregated shuffle: a (source rack, destination rack) pair starts a batch at most this
  /// often (sim/shuffle_fabric.hpp); the flow budget at full scale depends on it.
  Duration shuffle_batch_interval = 5 * kSecond;
  /// Messages of at least this many bytes (split data, fetched partitions, output replicas)
  /// travel as flows of their own, so a worker's pings are not queued behind them
  /// (sim/transport.hpp, set_bulk_threshold).
  std::uint64_t bulk_message_size = 1'000'000;
  /// Coordinator failure (§3.3): false: a coordinator crash fails the job (the paper's
  /// implementation). true: the coordinator writes a checkpoint every `checkpoint_interval`
  /// and a restarted coordinator resumes from it.
  bool coordinator_checkpoint = false;
  Duration checkpoint_interval = 1 * kSecond;
  /// The MIT 6.824 crash test: each map or reduce function call crashes its worker with this
  /// probability, else is delayed by `crash_test_delay` with probability `crash_test_delay_p`.
  /// A worker that crashed this way restarts after `crash_test_restart`.
  double crash_test_crash_p = 0;
  double crash_test_delay_p = 0;
  DurationRange crash_test_delay{0, 10 * kSecond};
  Duration crash_test_restart = 1 * kSecond;
};

/// The `params:` schema of mapreduce (names, types, defaults, help).
std::vector<ParamSpec> param_schema();
/// Builds the typed Config from validated params (every schema key present).
Config config_from(const ParamValues& params);

}  // namespace faultline::mapreduce
