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

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
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
  Time first_boot = 0;      // when epoch 1 booted: job_time_s and the startup delay count from it
  bool has_checkpoint = false;
  std::vector<MapLocation> completed_maps;
  std::vector<int> completed_reduces;
  bool job_over = false;  // done or failed: a restarted coordinator does not start again
};
struct BootEpoch {
  std::uint64_t epoch = 0;
  Time first_boot = 0;  // carried forward from the first boot
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
  /// Tasks of a kind in state Completed.
  int completed(TaskKind kind) const { return completed_[static_cast<int>(kind)]; }
  /// Whether the coordinator currently believes `worker` alive.
  bool alive(NodeId worker) const;
  /// Running attempts of a kind on `worker`.
  int running_on(NodeId worker, TaskKind kind) const;

 private:
  static constexpr int kKinds = 2;
  static int k(TaskKind kind) { return static_cast<int>(kind); }

  /// What the coordinator knows of one worker (by index into job_->workers).
  struct WorkerState {
    bool alive = false;
    bool has_incarnation = false;
    std::uint32_t incarnation = 0;
    bool heard = false;  // any message in this epoch
    Time last_heard = 0;
    bool watched = false;           // in deadlines_: alive, or holding restored outputs unconfirmed
    Time deadline = 0;              // its key in deadlines_ while watched
    bool ping_outstanding = false;  // pinged, no message since
    bool missed_ping = false;       // a ping round passed with a ping outstanding
    std::array<int, kKinds> running{0, 0};
    /// (kind, task, attempt) of every running attempt on it.
    std::set<std::tuple<int, int, int>> attempts;
    /// Completed maps whose output lives on its disk.
    std::set<int> outputs;
  };
  /// Per task bookkeeping beside the public TaskRecord.
  struct TaskAux {
    int next_attempt = 0;
    int running = 0;
    bool backup_launched = false;
  };

  TaskRecord& task(TaskKind kind, int id) {
    return kind == TaskKind::Map ? maps_[id] : reduces_[id];
  }
  const TaskRecord& task(TaskKind kind, int id) const {
    return kind == TaskKind::Map ? maps_[id] : reduces_[id];
  }
  TaskAux& aux(TaskKind kind, int id) { return aux_[k(kind)][static_cast<std::size_t>(id)]; }
  int total(TaskKind kind) const {
    return kind == TaskKind::Map ? job_->map_tasks() : job_->reduce_tasks;
  }
  int slots(TaskKind kind) const;
  /// Index of a worker in job_->workers, or -1.
  int windex(NodeId node) const;
  std::string name(NodeId node) const;
  int rack_of(NodeId node) const;

  void boot(Time now, Out& out);
  void restore(const CoordinatorStorage& recovered, Time now);
  void heard(int w, Time now);
  void watch(int w, Time deadline);
  void unwatch(int w);
  void mark_alive(int w);
  void declare_dead(int w, Time now, Out& out);
  void on_register(int w, const Register& m, Time now, Out& out);
  void on_map_done(int w, const MapDone& m, Time now, Out& out);
  void on_reduce_done(int w, const ReduceDone& m, Time now, Out& out);
  /// Accepts a completion of (kind, id, attempt) by worker w; false when it was not running.
  bool commit(TaskKind kind, int id, int attempt, int w, Time now, Out& out);
  void stop_attempt(TaskKind kind, int id, AttemptRecord& a, const char* outcome, Out& out);
  void to_idle(TaskKind kind, int id);
  void reset_map(int m, Out& out);
  void update_free(int w, TaskKind kind);

  void schedule(Time now, Out& out);
  void assign(TaskKind kind, int id, int w, bool backup, Time now, Out& out);
  /// The idle map to give worker w (locality, §3.4), or -1.
  int pick_map(int w) const;
  /// Where worker w should read split m from.
  NodeId pick_source(int m, NodeId worker) const;
  const char* locality(NodeId source, NodeId worker) const;
  void schedule_backups(TaskKind kind, Time now, Out& out);
  std::vector<NodeId> pick_replicas(NodeId assignee);
  /// Numbers map m's new location and forwards it to every running reduce (§3.1 step 4).
  void send_locations(int m, Out& out);
  /// A reduce on worker w reported (Pong) that it holds the locations numbered up to
  /// `ref.locations_through` only: sends it the current locations numbered after that.
  void send_missing_locations(int w, const TaskRef& ref, Out& out);
  /// Sends worker w the assignments of every attempt it runs again (after a silence).
  void resend_assignments(int w, Out& out);
  AssignReduce reduce_assignment(int id, int attempt, bool backup, NodeId node);
  void checkpoint(Out& out);
  void finish(Time now, Out& out);
  void emit_ended(TaskKind kind, int id, const AttemptRecord& a, const char* outcome,
                  Out& out) const;
  void full_check() const;

  NodeId id_;
  std::shared_ptr<const Job> job_;
  Rng rng_;
  std::uint64_t epoch_ = 0;
  bool done_ = false;
  bool failed_ = false;
  std::vector<TaskRecord> maps_;
  std::vector<TaskRecord> reduces_;

  Time boot_time_ = 0;
  Time first_boot_ = 0;
  bool restart_ = false;
  bool fail_at_boot_ = false;  // a restart without a checkpoint to resume from (§3.3)
  bool assigning_ = false;     // the startup delay has passed
  bool booted_ = false;        // boot() ran (the first tick or step)
  bool idle_ = false;          // job over (done, failed, or over before this boot): does nothing
  Time assign_from_ = 0;       // first_boot + startup (§5.2)
  Time next_ping_ = kNever;
  Time next_checkpoint_ = kNever;
  std::vector<int> worker_index_;  // by node id: index into job_->workers, or -1
  std::vector<WorkerState> workers_;
  std::set<std::pair<Time, int>> deadlines_;  // (last heard + worker_timeout, worker index)
  std::array<std::set<int>, kKinds> free_;    // alive workers with a free slot, by index
  std::array<std::vector<TaskAux>, kKinds> aux_;
  std::array<std::set<int>, kKinds> idle_tasks_;  // idle task ids
  std::vector<std::set<int>> idle_on_worker_;     // idle maps with a replica on that worker
  std::vector<std::set<int>> idle_in_rack_;       // idle maps with a replica in that rack
  std::array<std::set<int>, kKinds> no_backup_;   // in-progress tasks without a backup yet
  std::set<int> running_reduces_;                 // in-progress reduce ids
  /// Map locations forwarded to reducers are numbered 1, 2, ... in this epoch (see TaskRef):
  /// the last number given, and by number the completed maps whose current location it is
  /// (a reset map leaves it; restored maps have none: every AssignReduce carries them).
  std::uint64_t locations_numbered_ = 0;
  std::map<std::uint64_t, int> located_by_number_;
  std::vector<std::uint64_t> location_number_;  // by map id: its entry in located_by_number_, or 0
  std::array<int, kKinds> completed_{0, 0};
  std::array<bool, kKinds> backup_phase_{false, false};
  std::vector<NodeId> alive_list_;
  bool alive_dirty_ = true;
  mutable std::uint64_t checks_ = 0;
};

}  // namespace faultline::mapreduce
