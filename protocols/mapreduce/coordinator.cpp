#include "protocols/mapreduce/coordinator.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace faultline::mapreduce {

namespace {

// Assertions for bugs in faultline itself (DESIGN.md); protocol outcomes are events, never
// aborts.
[[noreturn]] void check_failed(const char* file, int line, const char* expr,
                               const std::string& detail) {
  std::fprintf(stderr, "%s:%d: faultline bug: mapreduce coordinator invariant `%s` violated: %s\n",
               file, line, expr, detail.c_str());
  std::abort();
}

#define MR_CHECK(cond, message)                                      \
  do {                                                               \
    if (!(cond)) check_failed(__FILE__, __LINE__, #cond, (message)); \
  } while (false)

constexpr const char* kind_label(TaskKind kind) { return kind == TaskKind::Map ? "map" : "reduce"; }

// Attempt numbers of different coordinator incarnations never collide: a worker may still hold
// map outputs of an earlier incarnation (kept in a checkpoint) while running new attempts.
constexpr int kAttemptsPerEpoch = 100000;

// Bytes of a checkpoint on stable storage: a location per completed map, an id per reduce.
constexpr std::uint64_t kCheckpointMapBytes = 16;
constexpr std::uint64_t kCheckpointReduceBytes = 8;

}  // namespace

void apply(CoordinatorStorage& storage, const CoordinatorOp& op) {
  if (const auto* b = std::get_if<BootEpoch>(&op)) {
    storage.epoch = b->epoch;
    storage.first_boot = b->first_boot;
  } else if (const auto* c = std::get_if<SaveCheckpoint>(&op)) {
    storage.has_checkpoint = true;
    storage.completed_maps = c->completed_maps;
    storage.completed_reduces = c->completed_reduces;
  } else {
    storage.job_over = true;
  }
}

// ------------------------------------------------------------------------------------------
// Construction and boot

Coordinator::Coordinator(NodeId id, std::shared_ptr<const Job> job, Rng rng,
                         const CoordinatorStorage& recovered, Time now)
    : id_(id), job_(std::move(job)), rng_(rng), epoch_(recovered.epoch + 1), boot_time_(now) {
  MR_CHECK(job_ != nullptr, "a coordinator needs a job");
  const Config& c = job_->config;
  MR_CHECK(c.ping_interval > 0 && c.worker_timeout > 0, "ping_interval and worker_timeout > 0");
  MR_CHECK(c.map_slots >= 1 && c.reduce_slots >= 1, "at least one slot of each kind");
  MR_CHECK(!c.coordinator_checkpoint || c.checkpoint_interval > 0, "checkpoint_interval > 0");
  restart_ = recovered.epoch > 0;
  first_boot_ = restart_ ? recovered.first_boot : now;
  assign_from_ = first_boot_ + c.startup;

  NodeId max_id = static_cast<NodeId>(job_->rack_of.size()) - 1;
  for (NodeId w : job_->workers) max_id = std::max(max_id, w);
  worker_index_.assign(static_cast<std::size_t>(std::max(0, max_id + 1)), -1);
  for (std::size_t i = 0; i < job_->workers.size(); ++i) {
    MR_CHECK(i == 0 || job_->workers[i - 1] < job_->workers[i], "job workers sorted and distinct");
    worker_index_[static_cast<std::size_t>(job_->workers[i])] = static_cast<int>(i);
  }
  workers_.resize(job_->workers.size());
  location_number_.assign(static_cast<std::size_t>(job_->map_tasks()), 0);
  idle_on_worker_.resize(job_->workers.size());
  int racks = 1;
  for (int r : job_->rack_of) racks = std::max(racks, r + 1);
  idle_in_rack_.resize(static_cast<std::size_t>(racks));

  const int attempt_base =
      static_cast<int>((epoch_ - 1) % 20000) * kAttemptsPerEpoch;  // stays within int
  for (TaskKind kind : {TaskKind::Map, TaskKind::Reduce}) {
    auto& tasks = kind == TaskKind::Map ? maps_ : reduces_;
    tasks.resize(static_cast<std::size_t>(total(kind)));
    aux_[k(kind)].resize(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      tasks[i].kind = kind;
      tasks[i].id = static_cast<int>(i);
      aux_[k(kind)][i].next_attempt = attempt_base;
    }
  }

  if (restart_ && recovered.job_over) {
    idle_ = true;  // the job finished or failed before this boot: nothing to do
  } else if (restart_ && (!c.coordinator_checkpoint || !recovered.has_checkpoint)) {
    fail_at_boot_ = true;
  } else if (restart_) {
    restore(recovered, now);
  }
  for (int m = 0; m < total(TaskKind::Map); ++m) {
    if (maps_[m].state == TaskState::Idle) to_idle(TaskKind::Map, m);
  }
  for (int r = 0; r < total(TaskKind::Reduce); ++r) {
    if (reduces_[r].state == TaskState::Idle) to_idle(TaskKind::Reduce, r);
  }
}

void Coordinator::restore(const CoordinatorStorage& recovered, Time now) {
  // §3.3: "a new copy can be started from the last checkpointed state". Completed maps keep
  // their locations (their outputs are on the workers' disks, if those survived: a worker that
  // does not answer within worker_timeout is treated as dead and its maps are re-executed);
  // completed reduces are in the global file system. Everything else starts over.
  for (const MapLocation& loc : recovered.completed_maps) {
    if (loc.map < 0 || loc.map >= total(TaskKind::Map)) continue;
    const int w = windex(loc.worker);
    if (w < 0) continue;
    TaskRecord& t = maps_[loc.map];
    if (t.state == TaskState::Completed) continue;
    t.state = TaskState::Completed;
    t.attempts.push_back(AttemptRecord{loc.attempt, loc.worker, 0, false, false});
    t.committed_attempt = loc.attempt;
    t.output = loc;
    ++completed_[k(TaskKind::Map)];
    workers_[w].outputs.insert(loc.map);
    if (!workers_[w].watched) watch(w, now + job_->config.worker_timeout);
  }
  for (int r : recovered.completed_reduces) {
    if (r < 0 || r >= total(TaskKind::Reduce)) continue;
    TaskRecord& t = reduces_[r];
    if (t.state == TaskState::Completed) continue;
    t.state = TaskState::Completed;  // no attempt record: it ran under an earlier coordinator
    ++completed_[k(TaskKind::Reduce)];
  }
}

void Coordinator::boot(Time now, Out& out) {
  booted_ = true;
  const Config& c = job_->config;
  out.save(BootEpoch{epoch_, first_boot_}, 16);
  if (idle_) return;
  if (fail_at_boot_) {
    // The paper's implementation: "our current implementation aborts the MapReduce computation
    // if the master fails" (§3.3).
    failed_ = true;
    idle_ = true;
    out.emit("job_failed", {{"reason",
                             "the coordinator crashed and restarted without a checkpoint: the "
                             "job must be resubmitted (§3.3)"}});
    out.save(JobOver{}, 8);
    return;
  }
  if (!restart_) {
    out.emit("job_started", {{"maps", total(TaskKind::Map)},
                             {"reduces", total(TaskKind::Reduce)},
                             {"workers", job_->workers.size()}});
  }
  // Workers register at their own boot; a restarted coordinator must find them itself.
  next_ping_ = restart_ ? now : now + c.ping_interval;
  if (c.coordinator_checkpoint) next_checkpoint_ = now + c.checkpoint_interval;
  if (completed_[k(TaskKind::Reduce)] == total(TaskKind::Reduce)) finish(now, out);
}

// ------------------------------------------------------------------------------------------
// Entry points

void Coordinator::step(const Envelope<Message>& in, Time now, Out& out) {
  if (!booted_) boot(now, out);
  if (idle_ || done_) return;
  const int w = windex(in.from);
  if (w < 0) return;  // only workers talk to the coordinator
  const auto* pong = std::get_if<Pong>(&in.msg);
  if (const auto* m = std::get_if<Register>(&in.msg)) {
    on_register(w, *m, now, out);
  } else if (pong != nullptr && workers_[w].has_incarnation &&
             pong->incarnation != workers_[w].incarnation) {
    // It restarted and its Register was lost: it registers now (see Pong).
    on_register(w, Register{pong->incarnation}, now, out);
  } else {
    // A worker we believe alive that left a ping unanswered for a whole ping interval was cut
    // off (a partition shorter than worker_timeout, or lost messages): what we sent it and what
    // it sent us may have been lost too.
    const bool resync = workers_[w].alive && workers_[w].missed_ping;
    // Any message is a sign of life (§3.3), whatever its epoch or task.
    heard(w, now);
    if (const auto* d = std::get_if<MapDone>(&in.msg)) {
      on_map_done(w, *d, now, out);
    } else if (const auto* r = std::get_if<ReduceDone>(&in.msg)) {
      on_reduce_done(w, *r, now, out);
    }
    // A Pong of this epoch says what the worker runs (see Pong and TaskRef).
    if (pong != nullptr && pong->epoch != epoch_) pong = nullptr;
    bool lost = false;
    if (pong != nullptr) {
      // An execution we believe runs there that the worker does not list: its assignment or
      // its completion report was lost.
      for (const auto& [kind_index, id, attempt] : workers_[w].attempts) {
        bool listed = false;
        for (const TaskRef& t : pong->running)
          listed = listed ||
                   (static_cast<int>(t.kind) == kind_index && t.task == id && t.attempt == attempt);
        lost = lost || !listed;
      }
    }
    if ((resync || lost) && !done_) {
      resend_assignments(w, out);  // reducers get every current location with their assignment
    } else if (pong != nullptr && !done_) {
      // A reduce short of locations lost a MapLocations (a partition between two pings that
      // both got answered): it would wait forever for that map's output (§3.1 step 4).
      for (const TaskRef& t : pong->running) {
        if (t.kind == TaskKind::Reduce && t.locations_through < locations_numbered_) {
          send_missing_locations(w, t, out);
        }
      }
    }
  }
  schedule(now, out);
}

void Coordinator::tick(Time now, Out& out) {
  if (!booted_) boot(now, out);
  if (idle_ || done_) return;
  const Config& c = job_->config;
  // §3.3: "If no response is received from a worker in a certain amount of time, the master
  // marks the worker as failed."
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    declare_dead(deadlines_.begin()->second, now, out);
    if (done_) return;
  }
  if (next_ping_ <= now) {
    // §3.3: "The master pings every worker periodically." A worker heard from within the last
    // interval needs no ping (at 1800 workers this halves the control traffic).
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      const WorkerState& ws = workers_[i];
      if (ws.heard && ws.last_heard + c.ping_interval > now) continue;
      // Still unanswered since the previous round: the worker missed a ping.
      if (ws.ping_outstanding) workers_[i].missed_ping = true;
      workers_[i].ping_outstanding = true;
      out.send(job_->workers[i], Ping{epoch_}, wire_size(Message{Ping{epoch_}}));
    }
    next_ping_ = now + c.ping_interval;
  }
  if (next_checkpoint_ <= now) {
    checkpoint(out);
    next_checkpoint_ = now + c.checkpoint_interval;
  }
  schedule(now, out);
}

Time Coordinator::next_deadline() const {
  if (!booted_) return boot_time_;
  if (idle_ || done_) return kNever;
  Time t = std::min(next_ping_, next_checkpoint_);
  if (!deadlines_.empty()) t = std::min(t, deadlines_.begin()->first);
  if (!assigning_) t = std::min(t, assign_from_);
  return t;
}

bool Coordinator::alive(NodeId worker) const {
  const int w = windex(worker);
  return w >= 0 && workers_[w].alive;
}

int Coordinator::running_on(NodeId worker, TaskKind kind) const {
  const int w = windex(worker);
  return w < 0 ? 0 : workers_[w].running[k(kind)];
}

// ------------------------------------------------------------------------------------------
// Workers: liveness (§3.3)

int Coordinator::slots(TaskKind kind) const {
  return static_cast<int>(kind == TaskKind::Map ? job_->config.map_slots
                                                : job_->config.reduce_slots);
}

int Coordinator::windex(NodeId node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= worker_index_.size()) return -1;
  return worker_index_[static_cast<std::size_t>(node)];
}

std::string Coordinator::name(NodeId node) const {
  if (node >= 0 && static_cast<std::size_t>(node) < job_->names.size()) {
    return job_->names[static_cast<std::size_t>(node)];
  }
  return "node" + std::to_string(node);
}

int Coordinator::rack_of(NodeId node) const {
  if (node < 0 || static_cast<std::size_t>(node) >= job_->rack_of.size()) return 0;
  return job_->rack_of[static_cast<std::size_t>(node)];
}

void Coordinator::watch(int w, Time deadline) {
  WorkerState& ws = workers_[w];
  if (ws.watched) deadlines_.erase({ws.deadline, w});
  ws.watched = true;
  ws.deadline = deadline;
  deadlines_.insert({deadline, w});
}

void Coordinator::unwatch(int w) {
  WorkerState& ws = workers_[w];
  if (ws.watched) deadlines_.erase({ws.deadline, w});
  ws.watched = false;
}

void Coordinator::heard(int w, Time now) {
  WorkerState& ws = workers_[w];
  ws.heard = true;
  ws.last_heard = now;
  ws.ping_outstanding = false;
  ws.missed_ping = false;
  watch(w, now + job_->config.worker_timeout);
  if (!ws.alive) mark_alive(w);
}

void Coordinator::mark_alive(int w) {
  workers_[w].alive = true;
  alive_dirty_ = true;
  update_free(w, TaskKind::Map);
  update_free(w, TaskKind::Reduce);
}

void Coordinator::update_free(int w, TaskKind kind) {
  const WorkerState& ws = workers_[w];
  if (ws.alive && ws.running[k(kind)] < slots(kind)) {
    free_[k(kind)].insert(w);
  } else {
    free_[k(kind)].erase(w);
  }
}

void Coordinator::on_register(int w, const Register& m, Time now, Out& out) {
  WorkerState& ws = workers_[w];
  // A worker registers only when it boots: one we believed alive (or whose outputs we
  // restored from a checkpoint) with another incarnation restarted before we noticed, and its
  // tasks and map outputs are gone.
  const bool same = ws.has_incarnation && ws.incarnation == m.incarnation;
  if (!same && (ws.alive || !ws.outputs.empty() || !ws.attempts.empty())) {
    declare_dead(w, now, out);
    if (done_) return;
  }
  ws.has_incarnation = true;
  ws.incarnation = m.incarnation;
  out.emit("worker_registered",
           {{"worker", name(job_->workers[w])}, {"incarnation", m.incarnation}});
  heard(w, now);
  // The answer: the worker learns our epoch and stops registering.
  out.send(job_->workers[w], Ping{epoch_}, wire_size(Message{Ping{epoch_}}));
}

void Coordinator::declare_dead(int w, Time now, Out& out) {
  (void)now;
  WorkerState& ws = workers_[w];
  const NodeId node = job_->workers[w];
  unwatch(w);
  ws.alive = false;
  alive_dirty_ = true;
  free_[k(TaskKind::Map)].erase(w);
  free_[k(TaskKind::Reduce)].erase(w);
  out.emit("worker_dead", {{"worker", name(node)}});
  // §3.3: "Any map task or reduce task in progress on a failed worker is also reset to idle
  // and becomes eligible for rescheduling."
  const auto attempts = std::move(ws.attempts);
  ws.attempts.clear();
  for (const auto& [kind_index, id, attempt] : attempts) {
    const TaskKind kind = static_cast<TaskKind>(kind_index);
    TaskRecord& t = task(kind, id);
    for (AttemptRecord& a : t.attempts) {
      if (a.attempt == attempt && a.running) stop_attempt(kind, id, a, "lost", out);
    }
    if (t.state == TaskState::InProgress && aux(kind, id).running == 0) to_idle(kind, id);
  }
  // §3.3: "Completed map tasks are re-executed on a failure because their output is stored on
  // the local disk(s) of the failed machine and is therefore inaccessible. Completed reduce
  // tasks do not need to be re-executed since their output is stored in a global file system."
  // Once every reduce is done nobody needs map outputs any more.
  if (completed_[k(TaskKind::Reduce)] < total(TaskKind::Reduce)) {
    const auto outputs = std::move(ws.outputs);
    ws.outputs.clear();
    for (int m : outputs) reset_map(m, out);
  }
}

// ------------------------------------------------------------------------------------------
// Task state machine: idle -> in-progress -> completed (§3.2)

void Coordinator::to_idle(TaskKind kind, int id) {
  TaskRecord& t = task(kind, id);
  t.state = TaskState::Idle;
  idle_tasks_[k(kind)].insert(id);
  no_backup_[k(kind)].erase(id);
  aux(kind, id).backup_launched = false;
  if (kind == TaskKind::Reduce) {
    running_reduces_.erase(id);
    return;
  }
  for (NodeId r : job_->splits[static_cast<std::size_t>(id)].replicas) {
    const int w = windex(r);
    if (w >= 0) idle_on_worker_[w].insert(id);
    idle_in_rack_[static_cast<std::size_t>(rack_of(r))].insert(id);
  }
}

void Coordinator::reset_map(int m, Out& out) {
  TaskRecord& t = maps_[m];
  MR_CHECK(t.state == TaskState::Completed, "only a completed map is reset");
  for (const AttemptRecord& a : t.attempts) {
    if (a.attempt == t.committed_attempt) emit_ended(TaskKind::Map, m, a, "reset", out);
  }
  t.committed_attempt = -1;
  t.output = MapLocation{};
  // Its output is gone: a reducer that missed this location needs the next one, not this.
  located_by_number_.erase(location_number_[static_cast<std::size_t>(m)]);
  location_number_[static_cast<std::size_t>(m)] = 0;
  --completed_[k(TaskKind::Map)];
  to_idle(TaskKind::Map, m);
}

void Coordinator::emit_ended(TaskKind kind, int id, const AttemptRecord& a, const char* outcome,
                             Out& out) const {
  out.emit("task_ended", {{"task", kind_label(kind)},
                          {"id", id},
                          {"attempt", a.attempt},
                          {"worker", name(a.worker)},
                          {"outcome", outcome},
                          {"start_s", to_seconds(a.start)}});
}

void Coordinator::stop_attempt(TaskKind kind, int id, AttemptRecord& a, const char* outcome,
                               Out& out) {
  MR_CHECK(a.running, "stopping an attempt that is not running");
  a.running = false;
  --aux(kind, id).running;
  const int w = windex(a.worker);
  WorkerState& ws = workers_[w];
  --ws.running[k(kind)];
  ws.attempts.erase({k(kind), id, a.attempt});
  update_free(w, kind);
  emit_ended(kind, id, a, outcome, out);
}

void Coordinator::on_map_done(int w, const MapDone& m, Time now, Out& out) {
  if (m.epoch != epoch_) return;  // a task of an earlier coordinator
  if (m.task < 0 || m.task >= total(TaskKind::Map)) return;
  if (!commit(TaskKind::Map, m.task, m.attempt, w, now, out)) return;
  // §3.1 step 4: the locations "are passed back to the master, who is responsible for
  // forwarding these locations to the reduce workers". §3.3: a re-executed map's new location
  // reaches every reducer still running.
  send_locations(m.task, out);
}

void Coordinator::on_reduce_done(int w, const ReduceDone& m, Time now, Out& out) {
  if (m.epoch != epoch_) return;
  if (m.task < 0 || m.task >= total(TaskKind::Reduce)) return;
  if (!commit(TaskKind::Reduce, m.task, m.attempt, w, now, out)) return;
  if (completed_[k(TaskKind::Reduce)] == total(TaskKind::Reduce)) finish(now, out);
}

bool Coordinator::commit(TaskKind kind, int id, int attempt, int w, Time now, Out& out) {
  (void)now;
  TaskRecord& t = task(kind, id);
  const NodeId node = job_->workers[w];
  AttemptRecord* rec = nullptr;
  for (AttemptRecord& a : t.attempts) {
    if (a.attempt == attempt && a.worker == node) rec = &a;
  }
  if (rec == nullptr) return false;  // not an attempt we started
  if (t.state == TaskState::Completed) {
    // §3.6/§3.3: another execution already completed; this one is ignored. (A repeat of the
    // accepted completion itself, e.g. a duplicated message, says nothing new.)
    if (attempt != t.committed_attempt) emit_ended(kind, id, *rec, "duplicate", out);
    return false;
  }
  if (!rec->running) return false;  // lost or aborted before it finished: ignored
  // Accept: the first completion wins (§3.6 "the task is marked as completed whenever either
  // the primary or the backup execution completes").
  rec->running = false;
  --aux(kind, id).running;
  WorkerState& ws = workers_[w];
  --ws.running[k(kind)];
  ws.attempts.erase({k(kind), id, attempt});
  update_free(w, kind);
  t.state = TaskState::Completed;
  t.committed_attempt = attempt;
  ++completed_[k(kind)];
  no_backup_[k(kind)].erase(id);
  if (kind == TaskKind::Reduce) running_reduces_.erase(id);
  emit_ended(kind, id, *rec, "committed", out);
  if (kind == TaskKind::Map) {
    t.output = MapLocation{id, node, attempt};
    ws.outputs.insert(id);
  }
  for (AttemptRecord& other : t.attempts) {
    if (!other.running) continue;
    out.send(other.worker, AbortTask{epoch_, kind, id, other.attempt},
             wire_size(Message{AbortTask{epoch_, kind, id, other.attempt}}));
    stop_attempt(kind, id, other, "aborted", out);
  }
  return true;
}

void Coordinator::send_locations(int m, Out& out) {
  const std::uint64_t number = ++locations_numbered_;
  location_number_[static_cast<std::size_t>(m)] = number;
  located_by_number_.emplace(number, m);
  // With the aggregated shuffle the simulator moves the data: reducers need no location.
  if (job_->config.shuffle != Shuffle::PerFetch) return;
  for (int r : running_reduces_) {
    for (const AttemptRecord& a : reduces_[r].attempts) {
      if (!a.running) continue;
      MapLocations msg{epoch_, r, a.attempt, {maps_[m].output}, number - 1, number};
      const auto size = wire_size(Message{msg});
      out.send(a.worker, std::move(msg), size);
    }
  }
}

void Coordinator::send_missing_locations(int w, const TaskRef& ref, Out& out) {
  if (job_->config.shuffle != Shuffle::PerFetch) return;
  if (ref.task < 0 || ref.task >= total(TaskKind::Reduce)) return;
  // Only to an execution we run there: another one was aborted or lost, and needs nothing.
  if (workers_[w].attempts.count({k(TaskKind::Reduce), ref.task, ref.attempt}) == 0) return;
  // The locations numbered after the reducer's last one that are still current: a location
  // superseded by a re-execution, or whose output died with its worker, is not sent (the
  // newer one, numbered later, is). Usually the gap is a few locations, so this is cheap even
  // with M = 15000 (16 bytes per location on the wire).
  MapLocations msg{epoch_, ref.task, ref.attempt, {}, ref.locations_through, locations_numbered_};
  for (auto it = located_by_number_.upper_bound(ref.locations_through);
       it != located_by_number_.end(); ++it) {
    msg.maps.push_back(maps_[it->second].output);
  }
  const auto size = wire_size(Message{msg});
  out.send(job_->workers[w], std::move(msg), size);
}

void Coordinator::resend_assignments(int w, Out& out) {
  // The worker ignores an assignment it already runs, reports again one it completed (its
  // MapDone or ReduceDone may be what was lost) and starts one whose assignment was lost; a
  // running reducer merges the locations and fetches what it missed.
  const NodeId node = job_->workers[w];
  for (const auto& [kind_index, id, attempt] : workers_[w].attempts) {
    const TaskKind kind = static_cast<TaskKind>(kind_index);
    bool backup = false;
    for (const AttemptRecord& a : task(kind, id).attempts) {
      if (a.attempt == attempt) backup = a.backup;
    }
    if (kind == TaskKind::Map) {
      AssignMap msg{epoch_, id, attempt, pick_source(id, node), backup};
      out.send(node, msg, wire_size(Message{msg}));
    } else {
      AssignReduce msg = reduce_assignment(id, attempt, backup, node);
      const auto size = wire_size(Message{msg});
      out.send(node, std::move(msg), size);
    }
  }
}

AssignReduce Coordinator::reduce_assignment(int id, int attempt, bool backup, NodeId node) {
  AssignReduce msg;
  msg.epoch = epoch_;
  msg.task = id;
  msg.attempt = attempt;
  msg.backup = backup;
  // §3.1: the reducer starts fetching as soon as map outputs exist; later ones follow in
  // MapLocations. With the aggregated shuffle the simulator moves the data itself.
  if (job_->config.shuffle == Shuffle::PerFetch && completed_[k(TaskKind::Map)] > 0) {
    msg.maps.reserve(static_cast<std::size_t>(completed_[k(TaskKind::Map)]));
    for (const TaskRecord& m : maps_) {
      if (m.state == TaskState::Completed) msg.maps.push_back(m.output);
    }
  }
  msg.replicas = pick_replicas(node);
  msg.locations_through = locations_numbered_;
  return msg;
}

void Coordinator::finish(Time now, Out& out) {
  done_ = true;
  out.emit("job_done", {{"job_time_s", to_seconds(now - first_boot_)}});
  out.save(JobOver{}, 8);
}

void Coordinator::checkpoint(Out& out) {
  SaveCheckpoint cp;
  for (const TaskRecord& t : maps_) {
    if (t.state == TaskState::Completed) cp.completed_maps.push_back(t.output);
  }
  for (const TaskRecord& t : reduces_) {
    if (t.state == TaskState::Completed) cp.completed_reduces.push_back(t.id);
  }
  const std::uint64_t bytes = kCheckpointMapBytes * cp.completed_maps.size() +
                              kCheckpointReduceBytes * cp.completed_reduces.size();
  out.emit("checkpoint", {{"maps_completed", cp.completed_maps.size()},
                          {"reduces_completed", cp.completed_reduces.size()}});
  out.save(std::move(cp), bytes);
}

// ------------------------------------------------------------------------------------------
// Scheduling (§3.1 step 2, §3.4 locality, §3.6 backup tasks)

void Coordinator::schedule(Time now, Out& out) {
  if (idle_ || done_ || !booted_) return;
  // §5.2: the start-up overhead (program propagation, GFS opens, locality lookups) passes
  // before the first task is handed out.
  if (now < assign_from_) return;
  assigning_ = true;
  // Round-robin passes over the workers with a free slot, in id order: one task each per pass,
  // so a wave spreads over the cluster whatever the slot count.
  for (TaskKind kind : {TaskKind::Map, TaskKind::Reduce}) {
    auto& idle = idle_tasks_[k(kind)];
    auto& free = free_[k(kind)];
    while (!idle.empty() && !free.empty()) {
      for (auto it = free.begin(); it != free.end() && !idle.empty();) {
        const int w = *it;
        ++it;  // assign() may take w out of the set
        const int id = kind == TaskKind::Map ? pick_map(w) : *idle.begin();
        assign(kind, id, w, false, now, out);
      }
    }
  }
  if (job_->config.backup_tasks) {
    schedule_backups(TaskKind::Map, now, out);
    schedule_backups(TaskKind::Reduce, now, out);
  }
}

int Coordinator::pick_map(int w) const {
  const auto& idle = idle_tasks_[k(TaskKind::Map)];
  if (job_->config.locality) {
    // §3.4: "attempts to schedule a map task on a machine that contains a replica of the
    // corresponding input data. Failing that, it attempts to schedule a map task near a
    // replica of that task's input data (e.g., on a worker machine that is on the same network
    // switch as the machine containing the data)."
    const auto& local = idle_on_worker_[w];
    if (!local.empty()) return *local.begin();
    const auto& rack = idle_in_rack_[static_cast<std::size_t>(rack_of(job_->workers[w]))];
    if (!rack.empty()) return *rack.begin();
  }
  return *idle.begin();
}

NodeId Coordinator::pick_source(int m, NodeId worker) const {
  const auto& replicas = job_->splits[static_cast<std::size_t>(m)].replicas;
  if (replicas.empty()) return worker;
  // A replica on the worker itself is read from its own disk (GFS clients read the closest
  // replica), with or without locality scheduling.
  if (std::find(replicas.begin(), replicas.end(), worker) != replicas.end()) return worker;
  if (job_->config.locality) {
    for (NodeId r : replicas) {
      if (rack_of(r) == rack_of(worker) && alive(r)) return r;
    }
  }
  for (NodeId r : replicas) {
    if (alive(r)) return r;
  }
  return replicas.front();
}

const char* Coordinator::locality(NodeId source, NodeId worker) const {
  if (source == worker) return "local";
  if (rack_of(source) == rack_of(worker)) return "rack";
  return "remote";
}

std::vector<NodeId> Coordinator::pick_replicas(NodeId assignee) {
  const std::int64_t want = job_->config.output_replicas - 1;
  if (want <= 0) return {};
  if (alive_dirty_) {
    alive_list_.clear();
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      if (workers_[i].alive) alive_list_.push_back(job_->workers[i]);
    }
    alive_dirty_ = false;
  }
  std::vector<NodeId> others;
  others.reserve(alive_list_.size());
  for (NodeId n : alive_list_) {
    if (n != assignee) others.push_back(n);
  }
  if (static_cast<std::int64_t>(others.size()) <= want) return others;
  // Distinct workers drawn uniformly (a partial Fisher-Yates shuffle).
  std::vector<NodeId> chosen;
  for (std::int64_t i = 0; i < want; ++i) {
    const std::size_t n = others.size() - static_cast<std::size_t>(i);
    const std::size_t j = static_cast<std::size_t>(i) + static_cast<std::size_t>(rng_.below(n));
    std::swap(others[static_cast<std::size_t>(i)], others[j]);
    chosen.push_back(others[static_cast<std::size_t>(i)]);
  }
  return chosen;
}

void Coordinator::assign(TaskKind kind, int id, int w, bool backup, Time now, Out& out) {
  TaskRecord& t = task(kind, id);
  TaskAux& a = aux(kind, id);
  const NodeId node = job_->workers[w];
  const int attempt = a.next_attempt++;
  if (t.state == TaskState::Idle) {
    idle_tasks_[k(kind)].erase(id);
    if (kind == TaskKind::Map) {
      for (NodeId r : job_->splits[static_cast<std::size_t>(id)].replicas) {
        const int rw = windex(r);
        if (rw >= 0) idle_on_worker_[rw].erase(id);
        idle_in_rack_[static_cast<std::size_t>(rack_of(r))].erase(id);
      }
    }
  }
  t.state = TaskState::InProgress;
  t.attempts.push_back(AttemptRecord{attempt, node, now, backup, true});
  ++a.running;
  if (backup) {
    no_backup_[k(kind)].erase(id);
    a.backup_launched = true;
    if (!backup_phase_[k(kind)]) {
      backup_phase_[k(kind)] = true;
      out.emit("backup_phase", {{"task", kind_label(kind)}});
    }
  } else {
    no_backup_[k(kind)].insert(id);
  }
  WorkerState& ws = workers_[w];
  ++ws.running[k(kind)];
  ws.attempts.insert({k(kind), id, attempt});
  update_free(w, kind);

  nlohmann::json fields = {{"task", kind_label(kind)},
                           {"id", id},
                           {"attempt", attempt},
                           {"worker", name(node)},
                           {"backup", backup}};
  if (kind == TaskKind::Map) {
    const NodeId source = pick_source(id, node);
    fields["locality"] = locality(source, node);
    AssignMap msg{epoch_, id, attempt, source, backup};
    out.send(node, msg, wire_size(Message{msg}));
  } else {
    running_reduces_.insert(id);
    AssignReduce msg = reduce_assignment(id, attempt, backup, node);
    const auto size = wire_size(Message{msg});
    out.send(node, std::move(msg), size);
  }
  out.emit("task_assigned", std::move(fields));
}

void Coordinator::schedule_backups(TaskKind kind, Time now, Out& out) {
  // §3.6: "When a MapReduce operation is close to completion, the master schedules backup
  // executions of the remaining in-progress tasks." Close to completion: no idle task of the
  // phase left and at least backup_threshold of it complete. One backup per task.
  auto& candidates = no_backup_[k(kind)];
  auto& free = free_[k(kind)];
  if (!idle_tasks_[k(kind)].empty() || candidates.empty() || free.empty()) return;
  if (static_cast<double>(completed_[k(kind)]) <
      job_->config.backup_threshold * static_cast<double>(total(kind))) {
    return;
  }
  bool assigned = true;
  while (assigned && !candidates.empty() && !free.empty()) {
    assigned = false;
    for (auto it = free.begin(); it != free.end() && !candidates.empty();) {
      const int w = *it;
      ++it;
      const NodeId node = job_->workers[w];
      int chosen = -1;
      int best_rank = 3;
      for (int id : candidates) {
        bool on_w = false;
        for (const AttemptRecord& a : task(kind, id).attempts)
          on_w |= a.running && a.worker == node;
        if (on_w) continue;
        int rank = 2;
        if (kind == TaskKind::Map && job_->config.locality) {
          for (NodeId r : job_->splits[static_cast<std::size_t>(id)].replicas) {
            if (r == node)
              rank = 0;
            else if (rank > 1 && rack_of(r) == rack_of(node))
              rank = 1;
          }
        }
        if (rank < best_rank) {
          best_rank = rank;
          chosen = id;
          if (rank == 0 || kind == TaskKind::Reduce || !job_->config.locality) break;
        }
      }
      if (chosen < 0) continue;
      assign(kind, chosen, w, true, now, out);
      assigned = true;
    }
  }
}

// ------------------------------------------------------------------------------------------
// Invariants

void Coordinator::check_invariants() const {
  for (TaskKind kind : {TaskKind::Map, TaskKind::Reduce}) {
    MR_CHECK(completed_[k(kind)] >= 0 && completed_[k(kind)] <= total(kind),
             "completed count out of range");
    MR_CHECK(idle_tasks_[k(kind)].size() + static_cast<std::size_t>(completed_[k(kind)]) <=
                 static_cast<std::size_t>(total(kind)),
             "more idle and completed tasks than tasks");
  }
  // The full scan is O(M + R + W): after every event on small jobs, every 1024th at paper scale.
  const bool small = maps_.size() + reduces_.size() + workers_.size() <= 4096;
  if (small || (checks_++ % 1024) == 0) full_check();
}

void Coordinator::full_check() const {
  std::vector<std::array<int, kKinds>> running(workers_.size(), {0, 0});
  for (TaskKind kind : {TaskKind::Map, TaskKind::Reduce}) {
    int completed = 0;
    const auto& tasks = kind == TaskKind::Map ? maps_ : reduces_;
    for (const TaskRecord& t : tasks) {
      const std::string what = std::string(kind_label(kind)) + " " + std::to_string(t.id);
      int n = 0;
      for (const AttemptRecord& a : t.attempts) {
        if (!a.running) continue;
        ++n;
        const int w = windex(a.worker);
        MR_CHECK(w >= 0, what + " runs on a node that is not a worker");
        ++running[static_cast<std::size_t>(w)][k(kind)];
        MR_CHECK(workers_[w].attempts.count({k(kind), t.id, a.attempt}) == 1,
                 what + ": a running attempt unknown to its worker's list");
      }
      MR_CHECK(n <= 2, what + " has more than two running executions");
      MR_CHECK(n == aux_[k(kind)][static_cast<std::size_t>(t.id)].running,
               what + ": running count out of date");
      MR_CHECK((t.state == TaskState::Idle) == (idle_tasks_[k(kind)].count(t.id) == 1),
               what + ": idle set out of date");
      MR_CHECK((t.state == TaskState::InProgress) == (n > 0), what + ": in progress iff running");
      if (t.state == TaskState::Completed) {
        ++completed;
        if (t.committed_attempt < 0) {
          MR_CHECK(kind == TaskKind::Reduce && t.attempts.empty(),
                   what + ": completed without a committed attempt");
        } else {
          bool found = false;
          for (const AttemptRecord& a : t.attempts) found |= a.attempt == t.committed_attempt;
          MR_CHECK(found, what + ": committed attempt has no record");
        }
        if (kind == TaskKind::Map) {
          const int w = windex(t.output.worker);
          MR_CHECK(w >= 0 && t.output.map == t.id, what + ": bad output location");
          MR_CHECK(workers_[w].outputs.count(t.id) == 1 ||
                       completed_[k(TaskKind::Reduce)] == total(TaskKind::Reduce),
                   what + ": output not listed on its worker");
        }
      }
    }
    MR_CHECK(completed == completed_[k(kind)],
             std::string(kind_label(kind)) + ": completed count out of date");
  }
  std::size_t numbered = 0;
  for (std::size_t m = 0; m < maps_.size(); ++m) {
    const std::uint64_t number = location_number_[m];
    if (number == 0) continue;
    ++numbered;
    MR_CHECK(number <= locations_numbered_ && maps_[m].state == TaskState::Completed,
             "map " + std::to_string(m) + ": a location number without a completed output");
    const auto it = located_by_number_.find(number);
    MR_CHECK(it != located_by_number_.end() && it->second == static_cast<int>(m),
             "map " + std::to_string(m) + ": its location number is not indexed");
  }
  MR_CHECK(numbered == located_by_number_.size(), "a location number of no current output");
  for (std::size_t w = 0; w < workers_.size(); ++w) {
    const WorkerState& ws = workers_[w];
    for (TaskKind kind : {TaskKind::Map, TaskKind::Reduce}) {
      MR_CHECK(ws.running[k(kind)] == running[w][k(kind)], "worker slot count out of date");
      MR_CHECK(ws.running[k(kind)] <= slots(kind), "a worker runs more tasks than its slots");
      const bool free = ws.alive && ws.running[k(kind)] < slots(kind);
      MR_CHECK(free == (free_[k(kind)].count(static_cast<int>(w)) == 1), "free set out of date");
    }
    MR_CHECK(ws.watched == (deadlines_.count({ws.deadline, static_cast<int>(w)}) == 1),
             "deadline set out of date");
    MR_CHECK(!ws.alive || ws.watched, "an alive worker without a liveness deadline");
  }
}

}  // namespace faultline::mapreduce
