#include "protocols/mapreduce/worker.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>

namespace faultline::mapreduce {

namespace {

[[noreturn]] void check_failed(const char* file, int line, const char* expr,
                               const std::string& detail) {
  std::fprintf(stderr, "%s:%d: faultline bug: mapreduce worker invariant `%s` violated: %s\n", file,
               line, expr, detail.c_str());
  std::abort();
}

#define MR_CHECK(cond, message)                                      \
  do {                                                               \
    if (!(cond)) check_failed(__FILE__, __LINE__, #cond, (message)); \
  } while (false)

bool same_maps(const std::vector<MapLocation>& request, const FetchReply& reply) {
  if (request.size() != reply.found.size() + reply.missing.size()) return false;
  std::vector<std::pair<int, int>> a, b;
  for (const MapLocation& l : request) a.emplace_back(l.map, l.attempt);
  for (const MapLocation& l : reply.found) b.emplace_back(l.map, l.attempt);
  for (const MapLocation& l : reply.missing) b.emplace_back(l.map, l.attempt);
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

Worker::Worker(NodeId id, std::shared_ptr<const Job> job, const App* app, Rng rng,
               std::uint32_t incarnation, Time now)
    : id_(id), job_(std::move(job)), app_(app), rng_(rng), incarnation_(incarnation) {
  MR_CHECK(job_ != nullptr, "a worker needs a job");
  real_ = job_->config.payload == Payload::Real;
  MR_CHECK(!real_ || app_ != nullptr, "real mode needs the application");
  MR_CHECK(job_->config.fetch_timeout > 0 && job_->config.ping_interval > 0,
           "fetch_timeout and ping_interval > 0");
  // Job ids of different incarnations never collide (a finished job of a crashed incarnation
  // must not be mistaken for a new one).
  next_job_ = (static_cast<JobId>(incarnation_) << 32) + 1;
  register_deadline_ = now;  // Register at once (the first tick)
}

// ------------------------------------------------------------------------------------------
// Entry points

void Worker::step(const Envelope<Message>& in, Time now, Out& out) {
  if (crashed_itself_) return;
  const Message& msg = in.msg;
  if (const auto* m = std::get_if<Ping>(&msg)) {
    if (!accept_epoch(m->epoch)) return;
    Pong pong{coordinator_epoch_, {}, incarnation_};
    for (const auto& [key, run] : maps_)
      pong.running.push_back(TaskRef{TaskKind::Map, key.first, key.second, kNoLocationsNeeded});
    const bool fetching = job_->config.shuffle == Shuffle::PerFetch;
    for (const auto& [key, run] : reduces_) {
      const bool shuffling = fetching && run.phase == Phase::Shuffling;
      pong.running.push_back(TaskRef{TaskKind::Reduce, key.first, key.second,
                                     shuffling ? run.locations_through : kNoLocationsNeeded});
    }
    send(in.from, std::move(pong), out);
  } else if (const auto* m = std::get_if<AssignMap>(&msg)) {
    if (accept_epoch(m->epoch)) on_assign_map(*m, now, out);
  } else if (const auto* m = std::get_if<AssignReduce>(&msg)) {
    if (accept_epoch(m->epoch)) on_assign_reduce(*m, now, out);
  } else if (const auto* m = std::get_if<MapLocations>(&msg)) {
    if (accept_epoch(m->epoch)) on_map_locations(*m, now, out);
  } else if (const auto* m = std::get_if<AbortTask>(&msg)) {
    if (accept_epoch(m->epoch)) on_abort(*m);
  } else if (const auto* m = std::get_if<ReadSplit>(&msg)) {
    // Serve a split from the local disk (we hold a GFS replica of it).
    if (m->split < 0 || m->split >= job_->map_tasks()) return;
    const auto& split = job_->splits[static_cast<std::size_t>(m->split)];
    const JobId j =
        start_disk(JobKind::ServeSplit, {m->split, m->attempt}, split.bytes, false, out);
    pending_[j].peer = in.from;
    pending_[j].bytes = split.bytes;
  } else if (const auto* m = std::get_if<SplitData>(&msg)) {
    on_split_data(*m, now, out);
  } else if (const auto* m = std::get_if<Fetch>(&msg)) {
    serve_fetch(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<FetchReply>(&msg)) {
    on_fetch_reply(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<ShuffleDone>(&msg)) {
    on_shuffle_done(*m, now, out);
  } else if (const auto* m = std::get_if<ReplicaWrite>(&msg)) {
    const JobId j = start_disk(JobKind::ServeReplica, {m->reduce, m->attempt}, m->bytes, true, out);
    pending_[j].peer = in.from;
  } else if (const auto* m = std::get_if<ReplicaAck>(&msg)) {
    on_replica_ack(in.from, *m, now, out);
  }
  // Register, Pong, MapDone, ReduceDone are the coordinator's: ignored here.
}

void Worker::tick(Time now, Out& out) {
  if (crashed_itself_) return;
  if (!heard_coordinator_ && register_deadline_ <= now) {
    // A (re)booted worker holds no task and no map output (§3.3): it tells the coordinator,
    // again every ping_interval until the coordinator answers.
    send(job_->coordinator, Register{incarnation_}, out);
    register_deadline_ = now + job_->config.ping_interval;
  }
  std::vector<Key> keys;
  for (const auto& [key, run] : maps_) keys.push_back(key);
  for (const Key& key : keys) {
    if (crashed_itself_) return;
    auto it = maps_.find(key);
    if (it == maps_.end()) continue;
    MapRun& run = it->second;
    if (run.phase == Phase::Reading && run.read_deadline <= now) {
      // No SplitData in time: ask the next replica holder (§3.4 reads from any replica).
      const auto& replicas = job_->splits[static_cast<std::size_t>(run.task)].replicas;
      std::vector<NodeId> others;
      for (NodeId r : replicas) {
        if (r != id_) others.push_back(r);
      }
      if (!others.empty()) {
        auto pos = std::find(others.begin(), others.end(), run.source);
        run.source = pos == others.end() || std::next(pos) == others.end() ? others.front()
                                                                           : *std::next(pos);
      }
      read_remote(run, now, out);
    } else if (run.phase == Phase::Delayed && run.delay_until <= now) {
      run.delay_until = kNever;
      start_map(run, out);
    }
  }
  keys.clear();
  for (const auto& [key, run] : reduces_) keys.push_back(key);
  for (const Key& key : keys) {
    if (crashed_itself_) return;
    auto it = reduces_.find(key);
    if (it == reduces_.end()) continue;
    ReduceRun& run = it->second;
    if (run.phase == Phase::Shuffling) {
      bool expired = false;
      while (!run.fetch_deadlines.empty() && run.fetch_deadlines.begin()->first <= now) {
        fetch_timeout(run, run.fetch_deadlines.begin()->second);
        expired = true;
      }
      if (expired) trigger_fetches(run, now, out);
    } else if (run.phase == Phase::Delayed && run.delay_until <= now) {
      run.delay_until = kNever;
      start_reduce(run, out);
    } else if (run.phase == Phase::Committing) {
      for (ReplicaTarget& t : run.targets) {
        if (t.acked || t.deadline > now) continue;
        // No ack in time: the copy goes to the next worker not used yet (a dead replica
        // target is replaced, as GFS re-replicates).
        NodeId next = kNoNode;
        for (NodeId w : job_->workers) {
          if (w != id_ && run.used_targets.count(w) == 0) {
            next = w;
            break;
          }
        }
        if (next != kNoNode) {
          t.node = next;
          run.used_targets.insert(next);
        }
        send_replica(run, t, now, out);
      }
    }
  }
}

Time Worker::next_deadline() const {
  if (crashed_itself_) return kNever;
  Time t = heard_coordinator_ ? kNever : register_deadline_;
  for (const auto& [key, run] : maps_) {
    if (run.phase == Phase::Reading) t = std::min(t, run.read_deadline);
    if (run.phase == Phase::Delayed) t = std::min(t, run.delay_until);
  }
  for (const auto& [key, run] : reduces_) {
    if (run.phase == Phase::Shuffling && !run.fetch_deadlines.empty()) {
      t = std::min(t, run.fetch_deadlines.begin()->first);
    }
    if (run.phase == Phase::Delayed) t = std::min(t, run.delay_until);
    if (run.phase == Phase::Committing) {
      for (const ReplicaTarget& target : run.targets) {
        if (!target.acked) t = std::min(t, target.deadline);
      }
    }
  }
  return t;
}

void Worker::job_done(JobId job, Time now, Out& out) {
  if (crashed_itself_) return;
  auto pit = pending_.find(job);
  if (pit == pending_.end()) return;
  PendingJob p = std::move(pit->second);
  pending_.erase(pit);
  switch (p.kind) {
    case JobKind::ServeSplit:
      send(p.peer, SplitData{p.key.first, p.key.second, p.bytes}, out);
      return;
    case JobKind::ServeFetch:
      deliver_fetch_reply(p.peer, std::move(p.reply), now, out);
      return;
    case JobKind::ServeReplica:
      send(p.peer, ReplicaAck{p.key.first, p.key.second}, out);
      return;
    default:
      break;
  }
  if (p.kind == JobKind::MapRead || p.kind == JobKind::MapCompute || p.kind == JobKind::MapWrite) {
    auto it = maps_.find(p.key);
    if (it == maps_.end() || it->second.job != job) return;  // aborted or forgotten
    MapRun& run = it->second;
    const Split& split = job_->splits[static_cast<std::size_t>(run.task)];
    if (p.kind == JobKind::MapRead) {
      map_input_done(run, now, out);
    } else if (p.kind == JobKind::MapCompute) {
      // §3.1 step 4: "the buffered pairs are written to local disk, partitioned into R regions
      // by the partitioning function".
      MapOutput& o = run.output;
      if (real_) {
        auto parts = run_map(*app_, *job_, split, job_->config.combiner);
        for (auto& part : parts) {
          const std::uint64_t b = pairs_bytes(part);
          o.partition_bytes.push_back(b);
          o.bytes += b;
          o.partitions.push_back(std::make_shared<const std::vector<KeyValue>>(std::move(part)));
        }
      } else {
        o.bytes = job_->modelled_partition_bytes(run.task) *
                  static_cast<std::uint64_t>(job_->reduce_tasks);
      }
      run.phase = Phase::Writing;
      run.job = start_disk(JobKind::MapWrite, p.key, o.bytes, true, out);
    } else {
      const std::uint64_t intermediate = run.output.bytes;
      outputs_[p.key] = std::move(run.output);
      send(job_->coordinator,
           MapDone{coordinator_epoch_, run.task, run.attempt, split.bytes, intermediate}, out);
      maps_.erase(it);
    }
    return;
  }
  auto it = reduces_.find(p.key);
  if (it == reduces_.end() || it->second.job != job) return;
  ReduceRun& run = it->second;
  if (p.kind == JobKind::ReduceCompute) {
    reduce_computed(run, now, out);
  } else {
    run.local_written = true;
    maybe_commit(p.key, now, out);
  }
}

void Worker::check_invariants() const {
  if (crashed_itself_) return;  // inert: its state is about to be thrown away
  for (const auto& [key, run] : maps_) {
    MR_CHECK(run.task == key.first && run.attempt == key.second, "map run keyed by its task");
    if (run.phase == Phase::Computing || run.phase == Phase::Writing ||
        (run.phase == Phase::Reading && run.local)) {
      MR_CHECK(pending_.count(run.job) == 1, "a map waiting for a job that was never started");
    }
  }
  for (const auto& [key, run] : reduces_) {
    MR_CHECK(run.task == key.first && run.attempt == key.second, "reduce run keyed by its task");
    MR_CHECK(
        run.fetched_count >= 0 && static_cast<std::size_t>(run.fetched_count) <= run.loc.size(),
        "fetched count out of range");
    MR_CHECK(run.outstanding.size() == run.fetch_deadlines.size(), "one deadline per fetch");
    MR_CHECK(
        run.locations_later.empty() || run.locations_later.begin()->first > run.locations_through,
        "numbered locations past the gap left unmerged");
    if (run.phase == Phase::Computing) {
      MR_CHECK(pending_.count(run.job) == 1, "a reduce waiting for a job never started");
    }
  }
}

// ------------------------------------------------------------------------------------------
// Helpers

JobId Worker::start_compute(JobKind kind, Key key, double flops, Out& out) {
  const JobId j = next_job_++;
  out.compute.push_back(ComputeJob{j, flops});
  pending_[j] = PendingJob{kind, key, kNoNode, 0, {}};
  return j;
}

JobId Worker::start_disk(JobKind kind, Key key, std::uint64_t bytes, bool write, Out& out,
                          std::uint32_t ops) {
  const JobId j = next_job_++;
  out.disk.push_back(DiskJob{j, bytes, write, ops});
  pending_[j] = PendingJob{kind, key, kNoNode, bytes, {}};
  return j;
}

bool Worker::accept_epoch(std::uint64_t epoch) {
  if (epoch < coordinator_epoch_) return false;  // an earlier coordinator's message
  if (epoch > coordinator_epoch_) {
    // A new coordinator (§3.3): it knows nothing of the tasks we ran for the previous one.
    // Map outputs stay on the disk: a coordinator restarted from a checkpoint may point
    // reducers at them.
    maps_.clear();
    reduces_.clear();
    early_locations_.clear();
    coordinator_epoch_ = epoch;
  }
  heard_coordinator_ = true;
  return true;
}

void Worker::send(NodeId to, Message msg, Out& out) const {
  const std::uint64_t size = wire_size(msg);
  out.send(to, std::move(msg), size);
}

std::string Worker::name(NodeId node) const {
  if (node >= 0 && static_cast<std::size_t>(node) < job_->names.size()) {
    return job_->names[static_cast<std::size_t>(node)];
  }
  return "node" + std::to_string(node);
}

bool Worker::crash_test(const char* what, int task, int attempt, Time now, Time& delay_until,
                        Out& out) {
  const Config& c = job_->config;
  // The 6.824 lab's crash test (mr/crash.go): a user function call may kill its worker, or be
  // delayed, before it runs.
  if (rng_.chance(c.crash_test_crash_p)) {
    out.emit("crash_self", {{"task", what}, {"id", task}, {"attempt", attempt}});
    crashed_itself_ = true;
    return false;
  }
  if (rng_.chance(c.crash_test_delay_p)) {
    const Duration d = rng_.uniform(c.crash_test_delay.lo, c.crash_test_delay.hi);
    out.emit("call_delayed",
             {{"task", what}, {"id", task}, {"attempt", attempt}, {"delay_s", to_seconds(d)}});
    delay_until = now + d;
  }
  return true;
}

// ------------------------------------------------------------------------------------------
// Map tasks (§3.1 steps 3-4)

void Worker::on_assign_map(const AssignMap& m, Time now, Out& out) {
  if (m.task < 0 || m.task >= job_->map_tasks()) return;
  const Key key{m.task, m.attempt};
  if (maps_.count(key) != 0) return;  // a repeated assignment of what we are running
  if (auto done = outputs_.find(key); done != outputs_.end()) {
    // Repeated after a silence: our MapDone may have been lost on the way. Report it again.
    send(job_->coordinator,
         MapDone{coordinator_epoch_, m.task, m.attempt,
                 job_->splits[static_cast<std::size_t>(m.task)].bytes, done->second.bytes},
         out);
    return;
  }
  MapRun& run = maps_[key];
  run.task = m.task;
  run.attempt = m.attempt;
  run.source = m.source == kNoNode ? id_ : m.source;
  run.local = run.source == id_;
  run.phase = Phase::Reading;
  run.read_start = now;
  if (run.local) {
    // §3.4: "most input data is read locally and consumes no network bandwidth".
    run.job = start_disk(JobKind::MapRead, key,
                         job_->splits[static_cast<std::size_t>(m.task)].bytes, false, out);
  } else {
    read_remote(run, now, out);
  }
}

void Worker::read_remote(MapRun& run, Time now, Out& out) {
  run.read_start = now;
  run.read_deadline = now + job_->config.fetch_timeout;
  send(run.source, ReadSplit{run.task, run.attempt}, out);
}

void Worker::on_split_data(const SplitData& m, Time now, Out& out) {
  auto it = maps_.find({m.split, m.attempt});
  if (it == maps_.end() || it->second.phase != Phase::Reading || it->second.local) return;
  it->second.read_deadline = kNever;
  map_input_done(it->second, now, out);
}

void Worker::map_input_done(MapRun& run, Time now, Out& out) {
  const Split& split = job_->splits[static_cast<std::size_t>(run.task)];
  out.emit("transfer", {{"what", "input"},
                        {"bytes", split.bytes},
                        {"start_s", to_seconds(run.read_start)},
                        {"local", run.local}});
  if (!crash_test("map", run.task, run.attempt, now, run.delay_until, out)) return;
  if (run.delay_until != kNever) {
    run.phase = Phase::Delayed;
    return;
  }
  start_map(run, out);
}

void Worker::start_map(MapRun& run, Out& out) {
  const Split& split = job_->splits[static_cast<std::size_t>(run.task)];
  run.phase = Phase::Computing;
  run.job = start_compute(JobKind::MapCompute, {run.task, run.attempt},
                          job_->config.map_flops_per_byte * static_cast<double>(split.bytes), out);
}

// ------------------------------------------------------------------------------------------
// Serving map outputs (§3.1 step 5: "remote procedure calls to read the buffered data from the
// local disks of the map workers")

void Worker::serve_fetch(NodeId to, const Fetch& m, Time now, Out& out) {
  FetchReply reply;
  reply.reduce = m.reduce;
  reply.reduce_attempt = m.reduce_attempt;
  for (const MapLocation& loc : m.maps) {
    auto it = outputs_.find({loc.map, loc.attempt});
    if (it == outputs_.end()) {
      reply.missing.push_back(loc);
      continue;
    }
    reply.found.push_back(loc);
    if (real_) {
      const auto r = static_cast<std::size_t>(m.reduce);
      if (r < it->second.partitions.size()) {
        reply.bytes += it->second.partition_bytes[r];
        reply.pairs.push_back(it->second.partitions[r]);
      } else {
        reply.pairs.push_back(std::make_shared<const std::vector<KeyValue>>());
      }
    } else {
      reply.bytes += job_->modelled_partition_bytes(loc.map);
    }
  }
  if (reply.found.empty() || reply.bytes == 0) {
    deliver_fetch_reply(to, std::move(reply), now, out);
    return;
  }
  // One read per map output: each partition is a separate region of its map's output file
  // (§3.1 step 4), so serving n of them costs n disk accesses, not one.
  const JobId j = start_disk(JobKind::ServeFetch, {m.reduce, m.reduce_attempt}, reply.bytes, false,
                             out, static_cast<std::uint32_t>(reply.found.size()));
  pending_[j].peer = to;
  pending_[j].reply = std::move(reply);
}

void Worker::deliver_fetch_reply(NodeId to, FetchReply reply, Time now, Out& out) {
  if (to == id_) {
    // Our own map outputs: read from the local disk, no message.
    on_fetch_reply(id_, reply, now, out);
    return;
  }
  send(to, std::move(reply), out);
}

// ------------------------------------------------------------------------------------------
// Reduce tasks (§3.1 steps 5-6)

void Worker::on_assign_reduce(const AssignReduce& m, Time now, Out& out) {
  if (m.task < 0 || m.task >= job_->reduce_tasks) return;
  const Key key{m.task, m.attempt};
  if (auto running = reduces_.find(key); running != reduces_.end()) {
    // Repeated after a silence: locations sent meanwhile may have been lost. Merge them.
    ReduceRun& run = running->second;
    if (run.phase != Phase::Shuffling || job_->config.shuffle == Shuffle::Aggregated) return;
    merge_locations(run, m.maps, 0, m.locations_through);
    trigger_fetches(run, now, out);
    return;
  }
  if (auto done = committed_reduces_.find(key); done != committed_reduces_.end()) {
    // Committed, but our ReduceDone may have been lost: report it again.
    send(job_->coordinator, ReduceDone{coordinator_epoch_, m.task, m.attempt, done->second}, out);
    return;
  }
  if (ended_reduces_.count(key) != 0) return;
  ReduceRun& run = reduces_[key];
  run.task = m.task;
  run.attempt = m.attempt;
  const auto maps = static_cast<std::size_t>(job_->map_tasks());
  run.loc.assign(maps, MapLocation{});
  run.fetched.assign(maps, 0);
  run.requested_from.assign(maps, kNoNode);
  if (real_) run.pairs.assign(maps, nullptr);
  run.used_targets.insert(id_);
  for (NodeId r : m.replicas) {
    if (r == id_ || run.used_targets.count(r) != 0) continue;
    run.targets.push_back(ReplicaTarget{r, kNever, false});
    run.used_targets.insert(r);
  }
  run.phase = Phase::Shuffling;
  if (maps == 0) {
    shuffle_complete(run, now, out);
    return;
  }
  if (job_->config.shuffle == Shuffle::Aggregated) return;  // ShuffleDone will come
  // The assignment holds the current location of every completed map: it stands for every
  // location numbered so far.
  merge_locations(run, m.maps, 0, m.locations_through);
  auto early = early_locations_.find(key);
  if (early != early_locations_.end()) {
    for (const MapLocations& e : early->second) merge_locations(run, e.maps, e.after, e.through);
    early_locations_.erase(early);
  }
  trigger_fetches(run, now, out);
}

void Worker::on_map_locations(const MapLocations& m, Time now, Out& out) {
  const Key key{m.reduce, m.attempt};
  auto it = reduces_.find(key);
  if (it == reduces_.end()) {
    if (ended_reduces_.count(key) == 0) early_locations_[key].push_back(m);
    return;
  }
  ReduceRun& run = it->second;
  if (run.phase != Phase::Shuffling) return;
  merge_locations(run, m.maps, m.after, m.through);
  trigger_fetches(run, now, out);
}

void Worker::merge_locations(ReduceRun& run, const std::vector<MapLocation>& maps,
                             std::uint64_t after, std::uint64_t through) {
  // set_location keeps the newest attempt of each map and ignores a map already read, so a
  // duplicate, an original arriving after its catch-up, or a location older than a
  // re-execution's changes nothing.
  for (const MapLocation& loc : maps) set_location(run, loc);
  if (through <= after) return;  // numbers nothing (an unnumbered message)
  if (after <= run.locations_through) {
    run.locations_through = std::max(run.locations_through, through);
  } else {
    // Beyond a gap: an earlier MapLocations is lost or late. Kept until the gap closes.
    std::uint64_t& later = run.locations_later[after];
    later = std::max(later, through);
  }
  auto next = run.locations_later.begin();
  while (next != run.locations_later.end() && next->first <= run.locations_through) {
    run.locations_through = std::max(run.locations_through, next->second);
    next = run.locations_later.erase(next);
  }
}

void Worker::set_location(ReduceRun& run, const MapLocation& loc) {
  if (loc.map < 0 || static_cast<std::size_t>(loc.map) >= run.loc.size()) return;
  const auto m = static_cast<std::size_t>(loc.map);
  if (run.fetched[m]) return;  // already read: a re-execution elsewhere changes nothing for us
  MapLocation& cur = run.loc[m];
  if (cur.worker == loc.worker && cur.attempt == loc.attempt) return;
  // Attempt numbers grow, so an older location arriving late never replaces a newer one.
  if (cur.worker != kNoNode && loc.attempt < cur.attempt) return;
  if (cur.worker != kNoNode) {
    auto w = run.waiting.find(cur.worker);
    if (w != run.waiting.end()) {
      w->second.erase(loc.map);
      if (w->second.empty()) {
        run.ready.erase(cur.worker);
        run.waiting.erase(w);
      }
    }
  }
  cur = loc;
  // A fetch in flight to the old location is left alone: if the old output is gone, the reply
  // says `missing` and the map is fetched from here then.
  if (run.requested_from[m] == kNoNode) add_waiting(run, loc.map);
}

void Worker::add_waiting(ReduceRun& run, int map) {
  const NodeId source = run.loc[static_cast<std::size_t>(map)].worker;
  if (source == kNoNode) return;
  run.waiting[source].insert(map);
  if (run.outstanding.count(source) == 0) run.ready.insert(source);
}

void Worker::trigger_fetches(ReduceRun& run, Time now, Out& out) {
  // One fetch in flight per source worker, carrying every map output we know it holds.
  while (!run.ready.empty() && run.phase == Phase::Shuffling && !crashed_itself_) {
    const NodeId source = *run.ready.begin();
    run.ready.erase(run.ready.begin());
    send_fetch(run, source, now, out);
  }
}

void Worker::send_fetch(ReduceRun& run, NodeId source, Time now, Out& out) {
  auto w = run.waiting.find(source);
  if (w == run.waiting.end() || run.outstanding.count(source) != 0) return;
  Fetch fetch;
  fetch.reduce = run.task;
  fetch.reduce_attempt = run.attempt;
  for (int m : w->second) {
    fetch.maps.push_back(run.loc[static_cast<std::size_t>(m)]);
    run.requested_from[static_cast<std::size_t>(m)] = source;
  }
  run.waiting.erase(w);
  const Time deadline = now + job_->config.fetch_timeout;
  run.outstanding[source] = Outstanding{now, deadline, fetch.maps};
  run.fetch_deadlines.insert({deadline, source});
  if (source == id_) {
    serve_fetch(id_, fetch, now, out);  // may complete the shuffle at once
  } else {
    send(source, std::move(fetch), out);
  }
}

void Worker::fetch_timeout(ReduceRun& run, NodeId source) {
  auto it = run.outstanding.find(source);
  if (it == run.outstanding.end()) return;
  run.fetch_deadlines.erase({it->second.deadline, source});
  const std::vector<MapLocation> maps = std::move(it->second.maps);
  run.outstanding.erase(it);
  // No answer: ask again, wherever the coordinator now says each output is.
  for (const MapLocation& loc : maps) {
    const auto m = static_cast<std::size_t>(loc.map);
    if (run.fetched[m] || run.requested_from[m] != source) continue;
    run.requested_from[m] = kNoNode;
    add_waiting(run, loc.map);
  }
  auto w = run.waiting.find(source);
  if (w != run.waiting.end() && !w->second.empty()) run.ready.insert(source);
}

void Worker::on_fetch_reply(NodeId from, const FetchReply& m, Time now, Out& out) {
  const Key key{m.reduce, m.reduce_attempt};
  auto it = reduces_.find(key);
  if (it == reduces_.end() || it->second.phase != Phase::Shuffling) return;
  ReduceRun& run = it->second;
  Time start = now;
  auto o = run.outstanding.find(from);
  const bool matched = o != run.outstanding.end() && same_maps(o->second.maps, m);
  if (matched) {
    start = o->second.sent;
    run.fetch_deadlines.erase({o->second.deadline, from});
    run.outstanding.erase(o);
  }
  for (std::size_t i = 0; i < m.found.size(); ++i) {
    const MapLocation& loc = m.found[i];
    if (loc.map < 0 || static_cast<std::size_t>(loc.map) >= run.loc.size()) continue;
    const auto mi = static_cast<std::size_t>(loc.map);
    if (run.fetched[mi]) continue;
    run.fetched[mi] = 1;
    ++run.fetched_count;
    if (real_) {
      KvList pairs = i < m.pairs.size() && m.pairs[i]
                         ? m.pairs[i]
                         : std::make_shared<const std::vector<KeyValue>>();
      run.shuffled += pairs_bytes(*pairs);
      run.pairs[mi] = std::move(pairs);
    } else {
      run.shuffled += job_->modelled_partition_bytes(loc.map);
    }
    // No longer waiting anywhere.
    const NodeId at = run.loc[mi].worker;
    auto w = run.waiting.find(at);
    if (w != run.waiting.end()) {
      w->second.erase(loc.map);
      if (w->second.empty()) {
        run.ready.erase(at);
        run.waiting.erase(w);
      }
    }
    run.requested_from[mi] = kNoNode;
  }
  for (const MapLocation& loc : m.missing) {
    if (loc.map < 0 || static_cast<std::size_t>(loc.map) >= run.loc.size()) continue;
    const auto mi = static_cast<std::size_t>(loc.map);
    if (run.fetched[mi] || run.requested_from[mi] != from) continue;
    run.requested_from[mi] = kNoNode;
    // The worker lost it (it restarted): fetch from a newer location if we know one, else wait
    // for the coordinator to re-execute the map and tell us (MapLocations).
    const MapLocation& cur = run.loc[mi];
    if (cur.worker != from || cur.attempt != loc.attempt) add_waiting(run, loc.map);
  }
  if (!m.found.empty()) {
    out.emit("transfer", {{"what", "shuffle"}, {"bytes", m.bytes}, {"start_s", to_seconds(start)}});
  }
  if (matched) {
    auto w = run.waiting.find(from);
    if (w != run.waiting.end() && !w->second.empty()) run.ready.insert(from);
  }
  if (static_cast<std::size_t>(run.fetched_count) == run.loc.size()) {
    shuffle_complete(run, now, out);
    return;
  }
  trigger_fetches(run, now, out);
}

void Worker::on_shuffle_done(const ShuffleDone& m, Time now, Out& out) {
  auto it = reduces_.find({m.reduce, m.reduce_attempt});
  if (it == reduces_.end() || it->second.phase != Phase::Shuffling) return;
  it->second.shuffled = m.bytes;
  shuffle_complete(it->second, now, out);
}

void Worker::shuffle_complete(ReduceRun& run, Time now, Out& out) {
  // Every partition is in. The fetch bookkeeping is no longer needed.
  run.waiting.clear();
  run.ready.clear();
  run.outstanding.clear();
  run.fetch_deadlines.clear();
  if (!crash_test("reduce", run.task, run.attempt, now, run.delay_until, out)) return;
  if (run.delay_until != kNever) {
    run.phase = Phase::Delayed;
    return;
  }
  start_reduce(run, out);
}

void Worker::start_reduce(ReduceRun& run, Out& out) {
  // §3.1 step 5: "it sorts it by the intermediate keys"; step 6: the reduce function.
  const Config& c = job_->config;
  run.phase = Phase::Computing;
  run.job = start_compute(
      JobKind::ReduceCompute, {run.task, run.attempt},
      (c.sort_flops_per_byte + c.reduce_flops_per_byte) * static_cast<double>(run.shuffled), out);
}

void Worker::reduce_computed(ReduceRun& run, Time now, Out& out) {
  const Key key{run.task, run.attempt};
  std::string content;
  if (real_) {
    std::vector<KvList> partitions;
    partitions.reserve(run.pairs.size());
    for (const KvList& p : run.pairs) {
      partitions.push_back(p ? p : std::make_shared<const std::vector<KeyValue>>());
    }
    content = run_reduce(*app_, partitions);
    run.output_bytes = content.size();
  } else {
    const double bytes = static_cast<double>(run.shuffled) * job_->config.output_ratio;
    run.output_bytes = bytes <= 0 ? 0 : static_cast<std::uint64_t>(bytes);
  }
  run.pairs.clear();
  // §3.3: "each in-progress task writes its output to private temporary files"; the copies on
  // other workers stand for GFS's replicas of the output file.
  out.save(WriteTemp{run.task, run.attempt, id_, run.output_bytes, std::move(content)}, 0);
  run.phase = Phase::Committing;
  run.write_start = now;
  run.job = start_disk(JobKind::ReduceWrite, key, run.output_bytes, true, out);
  for (ReplicaTarget& t : run.targets) send_replica(run, t, now, out);
}

void Worker::send_replica(ReduceRun& run, ReplicaTarget& target, Time now, Out& out) {
  target.deadline = now + job_->config.fetch_timeout;
  send(target.node, ReplicaWrite{run.task, run.attempt, run.output_bytes}, out);
}

void Worker::on_replica_ack(NodeId from, const ReplicaAck& m, Time now, Out& out) {
  const Key key{m.reduce, m.attempt};
  auto it = reduces_.find(key);
  if (it == reduces_.end() || it->second.phase != Phase::Committing) return;
  for (ReplicaTarget& t : it->second.targets) {
    if (t.node == from) t.acked = true;
  }
  maybe_commit(key, now, out);
}

void Worker::maybe_commit(Key key, Time now, Out& out) {
  (void)now;
  auto it = reduces_.find(key);
  if (it == reduces_.end()) return;
  ReduceRun& run = it->second;
  if (run.phase != Phase::Committing || !run.local_written) return;
  for (const ReplicaTarget& t : run.targets) {
    if (!t.acked) return;
  }
  out.emit("transfer", {{"what", "output"},
                        {"bytes", run.output_bytes * (1 + run.targets.size())},
                        {"start_s", to_seconds(run.write_start)}});
  // §3.3: "When a reduce task completes, the reduce worker atomically renames its temporary
  // output file to the final output file." Persisted before ReduceDone leaves (effects.hpp).
  // (emplaced in place: GCC 12 warns of a maybe-uninitialized WriteTemp in the variant when a
  // temporary RenameOutput is moved through save())
  out.persist.emplace_back(std::in_place_type<RenameOutput>, run.task, run.attempt, id_);
  send(job_->coordinator, ReduceDone{coordinator_epoch_, run.task, run.attempt, run.output_bytes},
       out);
  committed_reduces_[key] = run.output_bytes;
  reduces_.erase(it);
  ended_reduces_.insert(key);
}

void Worker::on_abort(const AbortTask& m) {
  // §3.6: the other execution won. Pending jobs of the attempt are ignored when they finish.
  const Key key{m.task, m.attempt};
  if (m.kind == TaskKind::Map) {
    maps_.erase(key);
  } else {
    reduces_.erase(key);
    early_locations_.erase(key);
    ended_reduces_.insert(key);
  }
}

}  // namespace faultline::mapreduce
