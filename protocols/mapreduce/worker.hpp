// A MapReduce worker (§3.1 steps 3-6), as a pure state machine (DESIGN.md).
//
// Map: read the split (local disk, or from a replica holder over the network), run map()
// (compute job of map_flops_per_byte per input byte), write the R partitions to the local disk,
// report MapDone. Serves Fetch requests from reducers out of its local disk (a disk read, then
// the data on the wire). Reduce: fetch its partition of every map output (batched per source
// worker; a location that died is re-fetched from where the coordinator says the map was
// re-run), sort, reduce, write the output to a temporary file plus output_replicas - 1 copies
// on other workers, rename atomically (OutputOp), report ReduceDone.
//
// Map outputs are volatile: a crashed worker restarts empty (its disk is lost to the job,
// §3.3) and registers again. With the 6.824 crash test on, each map()/reduce() call first
// draws: crash (the worker emits `crash_self` and stops acting; the simulator kills and
// restarts it) or delay (the call starts after a delay).
//
// Events (events.jsonl; workers by name):
//   transfer        {what: "input"|"shuffle"|"output", bytes, start_s, local (input only),
//                    id and attempt (input: the map task; output: the reduce task; shuffle:
//                    the reduce task and its attempt)}
//                   emitted when a transfer ends: the rate time series (1 s buckets) and the
//                   local/remote read counts come from these
//   crash_self      {task, id, attempt}          (6.824 crash test)
//   call_delayed    {task, id, attempt, delay_s} (6.824 crash test)
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "common/effects.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"
#include "protocols/mapreduce/apps.hpp"
#include "protocols/mapreduce/job.hpp"
#include "protocols/mapreduce/messages.hpp"
#include "protocols/mapreduce/output_store.hpp"

namespace faultline::mapreduce {

class Worker {
 public:
  using Message = mapreduce::Message;
  using PersistOp = OutputOp;
  using Out = Effects<Message, PersistOp>;

  /// `app`: the real-mode application (nullptr in modelled mode). `incarnation`: restart
  /// count, sent in Register.
  Worker(NodeId id, std::shared_ptr<const Job> job, const App* app, Rng rng,
         std::uint32_t incarnation, Time now);

  void step(const Envelope<Message>& in, Time now, Out& out);
  void tick(Time now, Out& out);
  Time next_deadline() const;
  /// A compute or disk job this worker started has finished.
  void job_done(JobId job, Time now, Out& out);
  void check_invariants() const;

  std::string_view role_name() const { return "worker"; }
  std::uint64_t current_term() const { return coordinator_epoch_; }
  NodeId id() const { return id_; }
  /// True once a 6.824 crash-test draw crashed this worker (it no longer acts).
  bool crashed_itself() const { return crashed_itself_; }
  /// Map tasks and reduce tasks this worker is running now.
  std::size_t running_maps() const { return maps_.size(); }
  std::size_t running_reduces() const { return reduces_.size(); }
  /// Whether this worker holds the output of map `task`, attempt `attempt` (volatile).
  bool holds_output(int task, int attempt) const { return outputs_.count({task, attempt}) != 0; }
  std::size_t outputs_held() const { return outputs_.size(); }
  /// Jobs (compute and disk) started and not finished yet.
  std::size_t pending_jobs() const { return pending_.size(); }

 private:
  using Key = std::pair<int, int>;  // (task, attempt)
  enum class Phase { Reading, Delayed, Computing, Writing, Shuffling, Committing };
  enum class JobKind {
    MapRead,
    MapCompute,
    MapWrite,
    ReduceCompute,
    ReduceWrite,
    ServeSplit,
    ServeFetch,
    ServeReplica
  };

  struct MapOutput {
    std::vector<KvList> partitions;              // real mode: R lists
    std::vector<std::uint64_t> partition_bytes;  // real mode: their sizes
    std::uint64_t bytes = 0;                     // all R partitions
  };
  struct MapRun {
    int task = 0;
    int attempt = 0;
    Phase phase = Phase::Reading;
    NodeId source = kNoNode;  // where the split is read from
    bool local = true;
    Time read_start = 0;
    Time read_deadline = kNever;  // remote read: retry at
    Time delay_until = kNever;    // crash test: the delayed call starts at
    JobId job = 0;
    MapOutput output;  // computed, being written
  };
  struct Outstanding {
    Time sent = 0;
    Time deadline = 0;
    std::vector<MapLocation> maps;
  };
  struct ReplicaTarget {
    NodeId node = kNoNode;
    Time deadline = 0;
    bool acked = false;
  };
  struct ReduceRun {
    int task = 0;
    int attempt = 0;
    Phase phase = Phase::Shuffling;
    std::vector<MapLocation> loc;        // by map id; worker kNoNode while unknown
    std::vector<char> fetched;           // by map id
    std::vector<NodeId> requested_from;  // by map id: the source of a fetch in flight
    std::vector<KvList> pairs;           // real mode: by map id
    /// Every location the coordinator numbered up to this one has reached `loc` (see TaskRef);
    /// reported in Pong, so a lost MapLocations is sent again.
    std::uint64_t locations_through = 0;
    /// MapLocations received beyond a gap (after -> through), merged once the gap closes.
    std::map<std::uint64_t, std::uint64_t> locations_later;
    int fetched_count = 0;
    std::uint64_t shuffled = 0;               // partition bytes fetched
    std::map<NodeId, std::set<int>> waiting;  // per source: located, unfetched, not requested
    std::set<NodeId> ready;                   // sources with waiting maps and no fetch in flight
    std::map<NodeId, Outstanding> outstanding;
    std::set<std::pair<Time, NodeId>> fetch_deadlines;
    Time delay_until = kNever;
    JobId job = 0;
    std::uint64_t output_bytes = 0;
    Time write_start = 0;
    bool local_written = false;
    std::vector<ReplicaTarget> targets;
    std::set<NodeId> used_targets;
  };
  struct PendingJob {
    JobKind kind = JobKind::MapRead;
    Key key{0, 0};
    NodeId peer = kNoNode;
    std::uint64_t bytes = 0;
    FetchReply reply;  // ServeFetch
  };

  JobId start_compute(JobKind kind, Key key, double flops, Out& out);
  JobId start_disk(JobKind kind, Key key, std::uint64_t bytes, bool write, Out& out,
                   std::uint32_t ops = 1);
  /// Epoch rule: false for a message of an older coordinator; a newer one makes the worker
  /// forget the tasks of the previous coordinator.
  bool accept_epoch(std::uint64_t epoch);
  void send(NodeId to, Message msg, Out& out) const;
  std::string name(NodeId node) const;
  /// 6.824 crash test: false when the call crashed the worker; sets `delay_until` when the
  /// call is delayed.
  bool crash_test(const char* what, int task, int attempt, Time now, Time& delay_until, Out& out);

  void on_assign_map(const AssignMap& m, Time now, Out& out);
  void on_split_data(const SplitData& m, Time now, Out& out);
  void read_remote(MapRun& run, Time now, Out& out);
  void map_input_done(MapRun& run, Time now, Out& out);
  void start_map(MapRun& run, Out& out);

  void on_assign_reduce(const AssignReduce& m, Time now, Out& out);
  void on_map_locations(const MapLocations& m, Time now, Out& out);
  /// Merges locations numbered in (after, through] into a shuffling reduce; idempotent.
  void merge_locations(ReduceRun& run, const std::vector<MapLocation>& maps, std::uint64_t after,
                       std::uint64_t through);
  void set_location(ReduceRun& run, const MapLocation& loc);
  void add_waiting(ReduceRun& run, int map);
  void trigger_fetches(ReduceRun& run, Time now, Out& out);
  void send_fetch(ReduceRun& run, NodeId source, Time now, Out& out);
  void on_fetch_reply(NodeId from, const FetchReply& m, Time now, Out& out);
  void fetch_timeout(ReduceRun& run, NodeId source);
  void on_shuffle_done(const ShuffleDone& m, Time now, Out& out);
  void shuffle_complete(ReduceRun& run, Time now, Out& out);
  void start_reduce(ReduceRun& run, Out& out);
  void reduce_computed(ReduceRun& run, Time now, Out& out);
  void send_replica(ReduceRun& run, ReplicaTarget& target, Time now, Out& out);
  void on_replica_ack(NodeId from, const ReplicaAck& m, Time now, Out& out);
  void maybe_commit(Key key, Time now, Out& out);

  void serve_fetch(NodeId to, const Fetch& m, Time now, Out& out);
  void deliver_fetch_reply(NodeId to, FetchReply reply, Time now, Out& out);
  void on_abort(const AbortTask& m);

  NodeId id_;
  std::shared_ptr<const Job> job_;
  const App* app_;
  Rng rng_;
  std::uint32_t incarnation_;
  std::uint64_t coordinator_epoch_ = 0;
  bool crashed_itself_ = false;
  bool real_ = false;
  bool heard_coordinator_ = false;  // stop registering once the coordinator answered
  Time register_deadline_ = 0;
  JobId next_job_ = 1;
  std::map<Key, MapRun> maps_;
  std::map<Key, ReduceRun> reduces_;
  std::map<Key, MapOutput> outputs_;  // completed map outputs on the local disk (volatile)
  std::map<JobId, PendingJob> pending_;
  /// MapLocations that overtook their AssignReduce (a small message passes a large one).
  std::map<Key, std::vector<MapLocations>> early_locations_;
  std::set<Key> ended_reduces_;                     // reduce attempts finished or aborted here
  std::map<Key, std::uint64_t> committed_reduces_;  // renamed here: output bytes
};

}  // namespace faultline::mapreduce
