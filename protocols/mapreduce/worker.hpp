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
#include <string_view>
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

 private:
  NodeId id_;
  std::shared_ptr<const Job> job_;
  const App* app_;
  Rng rng_;
  std::uint32_t incarnation_;
  std::uint64_t coordinator_epoch_ = 0;
  bool crashed_itself_ = false;
};

}  // namespace faultline::mapreduce
