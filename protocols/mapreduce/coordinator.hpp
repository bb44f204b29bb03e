// The MapReduce master (§3.2 "Master data structures", §3.3 "Fault tolerance", §3.4
// "Locality", §3.6 "Backup tasks"), as a pure state machine (DESIGN.md).
//
// For each map and reduce task it keeps the state (idle, in-progress, completed) and the
// workers running it; for each completed map task the location of its output. It pings the
// workers; one that does not answer within worker_timeout is dead: its in-progress tasks and
// its *completed map tasks* go back to idle (their output lived on its disk) and, once re-run,
// their new location goes to the reducers still running; its completed reduce tasks stay done
// (their output is in the global file system).
//
// Events (events.jsonl; reports/mapreduce_metrics reads them; workers by name):
//   job_started      {maps, reduces, workers}
//   task_assigned    {task: "map"|"reduce", id, attempt, worker, backup, locality (maps:
//                     "local"|"rack"|"remote")}
//   task_ended       {task, id, attempt, worker, outcome, start_s}   outcome is one of
//                     committed  (the first completion: accepted),
//                     duplicate  (completed after another execution was accepted: ignored),
//                     aborted    (the other execution won; the coordinator stopped this one),
//                     lost       (the worker died while running it),
//                     reset      (a completed map whose output died with its worker)
//   worker_registered {worker, incarnation}      worker_dead {worker}
//   backup_phase     {task}  (the first backup of that phase was launched)
//   checkpoint       {maps_completed, reduces_completed}
//   job_done         {job_time_s}                job_failed {reason}
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <variant>
#include <vector>

#include "common/effects.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"
#include "protocols/mapreduce/job.hpp"
#include "protocols/mapreduce/messages.hpp"

namespace faultline::mapreduce {

/// What the coordinator keeps on stable storage: its boot count, and with
/// coordinator_checkpoint the last checkpoint of completed work.
struct CoordinatorStorage {
  std::uint64_t epoch = 0;  // incremented at every boot
  bool has_checkpoint = false;
  std::vector<MapLocation> completed_maps;
  std::vector<int> completed_reduces;
  bool job_over = false;  // done or failed: a restarted coordinator does not start again
};
struct BootEpoch {
  std::uint64_t epoch = 0;
};
struct SaveCheckpoint {
  std::vector<MapLocation> completed_maps;
  std::vector<int> completed_reduces;
};
struct JobOver {};
using CoordinatorOp = std::variant<BootEpoch, SaveCheckpoint, JobOver>;
void apply(CoordinatorStorage& storage, const CoordinatorOp& op);

enum class TaskState { Idle, InProgress, Completed };

struct AttemptRecord {
  int attempt = 0;
  NodeId worker = kNoNode;
  Time start = 0;
  bool backup = false;
  bool running = true;
};

struct TaskRecord {
  TaskKind kind = TaskKind::Map;
  int id = 0;
  TaskState state = TaskState::Idle;
  std::vector<AttemptRecord> attempts;  // every execution, in order
  MapLocation output;                   // maps, when completed: where the output lives
  int committed_attempt = -1;
};

class Coordinator {
 public:
  using Message = mapreduce::Message;
  using PersistOp = CoordinatorOp;
  using Persistent = CoordinatorStorage;
  using Out = Effects<Message, PersistOp>;

  /// `recovered`: stable storage (empty at first boot). A boot with epoch > 0 is a restart:
  /// without a checkpoint the job fails (the paper's implementation); with one the coordinator
  /// resumes from it.
  Coordinator(NodeId id, std::shared_ptr<const Job> job, Rng rng,
              const CoordinatorStorage& recovered, Time now);

  void step(const Envelope<Message>& in, Time now, Out& out);
  void tick(Time now, Out& out);
  Time next_deadline() const;
  void job_done(JobId, Time, Out&) {}
  void check_invariants() const;

  std::string_view role_name() const { return "coordinator"; }
  std::uint64_t current_term() const { return epoch_; }
  NodeId id() const { return id_; }
  bool done() const { return done_; }
  bool failed() const { return failed_; }
  const std::vector<TaskRecord>& map_tasks() const { return maps_; }
  const std::vector<TaskRecord>& reduce_tasks() const { return reduces_; }

 private:
  // (implementation state: workers and their slots, idle queues by locality, timers)
  NodeId id_;
  std::shared_ptr<const Job> job_;
  Rng rng_;
  std::uint64_t epoch_ = 0;
  bool done_ = false;
  bool failed_ = false;
  std::vector<TaskRecord> maps_;
  std::vector<TaskRecord> reduces_;
};

}  // namespace faultline::mapreduce
