// The job as the coordinator and workers see it: input splits with their sizes and the workers
// holding their replicas, the racks, and in real mode the split text. Built once per run by
// the simulator (plan_job) and shared read-only by every core; nothing in it changes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.hpp"
#include "common/rng.hpp"
#include "protocols/mapreduce/config.hpp"

namespace faultline::mapreduce {

/// One map task's input (§3.1 step 1): a byte range of an input file in real mode.
struct Split {
  int id = 0;
  std::uint64_t bytes = 0;
  std::vector<NodeId> replicas;  // workers whose disk holds the split (GFS chunk replicas)
  int file = -1;                 // real mode: index into Job::files
  std::uint64_t offset = 0;      // real mode: first byte in that file
};

struct InputFile {
  std::string name;     // as written in params.input
  std::string content;  // real mode: the whole file (a few MB)
};

struct Job {
  Config config;
  std::vector<NodeId> workers;  // sorted
  NodeId coordinator = kNoNode;
  /// rack_of[node id] (every node id of the run; 0 for all on a star topology).
  std::vector<int> rack_of;
  std::vector<InputFile> files;  // real mode
  std::vector<Split> splits;     // M = splits.size()
  std::vector<std::string> names;  // node names by node id, for events
  int reduce_tasks = 1;          // R

  int map_tasks() const { return static_cast<int>(splits.size()); }
  int rack(NodeId n) const { return rack_of.at(static_cast<std::size_t>(n)); }
  /// Real mode: the split's text.
  std::string_view text(const Split& s) const;
  /// Bytes of map `m`'s output for reduce `r` in modelled mode (uniform partitions).
  std::uint64_t modelled_partition_bytes(int m) const;
};

/// Splits real input at line ends (a split ends at the first '\n' at or after split_size
/// bytes) and places `input_replicas` replicas of each split on distinct workers, drawn from
/// `placement` (the run's stream "placement"). Modelled mode: ceil(input_size / split_size)
/// splits of split_size bytes (the last one shorter).
Job plan_job(const Config& config, std::vector<InputFile> files, std::vector<NodeId> workers,
             NodeId coordinator, std::vector<int> rack_of, Rng placement);

}  // namespace faultline::mapreduce
