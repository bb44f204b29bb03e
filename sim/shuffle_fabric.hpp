// The aggregated MapReduce shuffle (params.shuffle: aggregated), for paper-scale runs.
//
// Why: one SimGrid flow per reducer per map machine is 4000 x 1800 = 7.2 million flows at the
// scale of the paper's sort (§5.3); measured here, a flow costs ~0.6 ms of wall time when
// thousands share the core, so that shuffle alone would take hours. The fabric moves the same
// bytes as one flow per (source rack, destination rack) at a time: a batch carries, for every
// running reduce attempt in the destination rack, its partitions of every map output completed
// in the source rack that it does not have yet. A pair starts its next batch when the previous
// one has arrived and at least `batch_interval` after the previous one started, so a full-scale
// sort stays within ~10^5 flows. The flow runs between the racks' gateways (sim/platform.hpp):
// it crosses the source rack's aggregate host links, its uplink, the core, the destination
// uplink and aggregate host links, and contends there with every other flow.
//
// Before a batch leaves, its partitions are read from the disks of the map workers holding
// them: one request per (reduce attempt, map output), as a per-fetch reducer would make
// (each pays cluster.disk.access_time, RunContext::disk_load). A worker's disk serves the
// shuffle in rounds: one SimGrid read carries every request pending when the round starts,
// whichever batches they belong to, so a full-scale sort needs one disk activity per round
// per worker, not one per request (60 million).
//
// What it leaves out, against the per-fetch shuffle (docs/reproductions/mapreduce.md compares
// the two at 1/100 scale): per-host link contention inside a rack, and the fair share a
// worker's many concurrent fetch reads would take from its own map reads and writes (here the
// shuffle is one read at a time per disk).
//
// Re-execution: a map output reset (its worker died) before a batch carrying it arrived is not
// delivered by that batch; the map's next commit ships it from its new rack. When a reduce
// attempt has every partition, the fabric sends it ShuffleDone (over its host's loopback).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "common/ids.hpp"
#include "common/time.hpp"
#include "protocols/mapreduce/job.hpp"
#include "sim/run_context.hpp"

namespace faultline::sim {

class ShuffleFabric {
 public:
  ShuffleFabric(RunContext& ctx, std::shared_ptr<const mapreduce::Job> job, Duration batch_interval);

  /// The coordinator accepted map `map`'s output, which lives on `worker`.
  void map_committed(int map, NodeId worker);
  /// That output was lost with its worker (it will be committed again elsewhere).
  void map_reset(int map);
  /// A reduce attempt started on `worker` (it waits for ShuffleDone).
  void reduce_started(int reduce, int attempt, NodeId worker);
  /// The attempt ended (committed, aborted, lost): nothing more is shipped to it.
  void reduce_ended(int reduce, int attempt);

  std::uint64_t flows() const { return flows_; }
  std::uint64_t bytes() const { return bytes_; }
  /// Disk read rounds on the source workers (SimGrid I/O activities).
  std::uint64_t disk_rounds() const { return disk_rounds_; }

 private:
  struct Attempt {
    int reduce = 0;
    int attempt = 0;
    NodeId worker = kNoNode;
    int rack = 0;
    std::vector<bool> have;          // by map id
    int delivered = 0;
    std::uint64_t bytes = 0;
    std::vector<std::size_t> cursor;  // by source rack: entries of completed_[rack] considered
    bool active = true;
  };
  struct Entry {
    int map = 0;
    std::uint32_t generation = 0;
  };
  struct Pair {
    bool in_flight = false;
    bool scheduled = false;  // a wake-up at next_start is pending
    Time next_start = 0;
  };
  using Key = std::pair<int, int>;  // (reduce, attempt)
  struct Item {
    Key attempt;
    std::vector<Entry> entries;
  };
  /// A batch between its start and its arrival: it ships once its disk reads are done.
  struct Batch {
    int from = 0;
    int to = 0;
    std::vector<Item> items;
    std::uint64_t bytes = 0;
    Time started = 0;
    int reads_left = 0;  // source workers whose disk has not read this batch's partitions yet
  };
  struct Read {
    std::uint64_t bytes = 0;
    std::uint32_t ops = 0;  // partitions: one disk access each
    std::shared_ptr<Batch> batch;
  };
  /// A source worker's disk serving the shuffle (see the header comment: reads in rounds).
  struct SourceDisk {
    std::vector<Read> pending;
    bool busy = false;
  };

  void poke_source(int rack);
  void poke_destination(int rack);
  void try_start(int from, int to);
  void start(int from, int to);
  void read_on(NodeId worker, Read read);
  void ship(const std::shared_ptr<Batch>& batch);
  void deliver(Attempt& a);
  Pair& pair(int from, int to) { return pairs_[static_cast<std::size_t>(from * racks_ + to)]; }

  RunContext& ctx_;
  std::shared_ptr<const mapreduce::Job> job_;
  Duration batch_interval_;
  int racks_ = 1;
  std::vector<std::uint32_t> generation_;   // by map: bumped at every commit and reset
  std::vector<int> location_rack_;           // by map: rack of the live output, -1 if none
  std::vector<NodeId> location_worker_;      // by map: worker holding the live output
  std::vector<std::vector<Entry>> completed_;  // by rack: map outputs committed there, in order
  std::map<Key, std::unique_ptr<Attempt>> attempts_;
  std::vector<std::vector<Attempt*>> by_rack_;  // active attempts per destination rack
  std::vector<Pair> pairs_;
  std::map<NodeId, SourceDisk> disks_;
  std::uint64_t flows_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t disk_rounds_ = 0;
};

}  // namespace faultline::sim
