// An in-memory, deterministic stand-in for the SimGrid adapter, wired for MapReduce: one
// mapreduce::Coordinator (node 0) and W mapreduce::Worker cores (nodes 1..W). Messages arrive
// after a fixed latency; compute jobs take flops / cpu speed, disk jobs bytes / disk bandwidth
// (each scaled by the node's slowdown, to make stragglers); persist-before-send holds (the
// coordinator's storage and the OutputStore are updated before the step's messages are
// queued). Crash loses a node's core, timers, pending jobs and the messages in flight to it;
// restart builds a fresh core (coordinator from its storage, worker with incarnation + 1). A
// worker that emits crash_self (6.824 crash test) is crashed at once and restarted after
// crash_test_restart. Every core's check_invariants() runs after every call.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "common/effects.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"
#include "protocols/mapreduce/apps.hpp"
#include "protocols/mapreduce/coordinator.hpp"
#include "protocols/mapreduce/job.hpp"
#include "protocols/mapreduce/output_store.hpp"
#include "protocols/mapreduce/worker.hpp"

namespace faultline::testing {

struct MrOptions {
  mapreduce::Config config;
  int workers = 3;
  int racks = 1;                            // workers spread round-robin over the racks
  std::vector<mapreduce::InputFile> files;  // real mode
  Duration latency = kMillisecond;          // one way, every message
  double flops_per_s = 1e9;
  double disk_bytes_per_s = 100e6;
  std::uint64_t seed = 1;
};

struct MrEvent {
  Time time = 0;
  NodeId node = kNoNode;
  TraceEvent event;
};

class MrCluster {
 public:
  using Message = mapreduce::Message;
  using Env = Envelope<Message>;

  explicit MrCluster(MrOptions options) : options_(std::move(options)) {
    std::vector<NodeId> workers;
    std::vector<int> rack_of(static_cast<std::size_t>(options_.workers + 1), 0);
    for (int i = 0; i < options_.workers; ++i) {
      workers.push_back(i + 1);
      rack_of[static_cast<std::size_t>(i + 1)] = i % std::max(1, options_.racks);
    }
    auto job = std::make_shared<mapreduce::Job>(
        mapreduce::plan_job(options_.config, options_.files, workers, 0, rack_of,
                            Rng(options_.seed).fork("placement")));
    job->names.push_back("coordinator");
    for (int i = 0; i < options_.workers; ++i) job->names.push_back("w" + std::to_string(i + 1));
    job_ = job;
    if (options_.config.payload == mapreduce::Payload::Real)
      app_ = mapreduce::make_app(options_.config);
    nodes_.resize(static_cast<std::size_t>(options_.workers + 1));
    boot(0);
    for (int i = 0; i < options_.workers; ++i) boot(i + 1);
  }

  // ---- Inspection
  Time now() const { return now_; }
  const mapreduce::Job& job() const { return *job_; }
  std::shared_ptr<const mapreduce::Job> job_ptr() const { return job_; }
  const mapreduce::App* app() const { return app_.get(); }
  mapreduce::Coordinator* coordinator() { return nodes_[0].coordinator.get(); }
  mapreduce::Worker* worker(NodeId id) {
    return nodes_.at(static_cast<std::size_t>(id)).worker.get();
  }
  const mapreduce::CoordinatorStorage& coordinator_storage() const { return storage_; }
  const mapreduce::OutputStore& store() const { return store_; }
  const std::vector<MrEvent>& events() const { return events_; }
  std::vector<MrEvent> events(const std::string& kind) const {
    std::vector<MrEvent> out;
    for (const auto& e : events_) {
      if (e.event.kind == kind) out.push_back(e);
    }
    return out;
  }
  bool crashed(NodeId id) const { return nodes_.at(static_cast<std::size_t>(id)).crashed; }
  std::uint64_t messages_sent() const { return sent_; }
  std::map<std::string, std::uint64_t> sent_by_kind() const { return by_kind_; }

  // ---- Faults
  void crash(NodeId id) {
    Node& n = nodes_.at(static_cast<std::size_t>(id));
    if (n.crashed) return;
    n.crashed = true;
    n.coordinator.reset();
    n.worker.reset();
    ++n.incarnation;  // messages and jobs for the old incarnation are lost
  }
  void restart(NodeId id) {
    Node& n = nodes_.at(static_cast<std::size_t>(id));
    if (!n.crashed) return;
    n.crashed = false;
    boot(id);
  }
  /// Compute and disk jobs of the node take `factor` times longer (a straggler, §3.6).
  void set_slowdown(NodeId id, double factor) {
    nodes_.at(static_cast<std::size_t>(id)).slowdown = factor;
  }
  /// Judged at send time: false drops the message.
  void set_filter(std::function<bool(const Env&)> filter) { filter_ = std::move(filter); }

  // ---- Driving
  Time next_event_time() const {
    Time t = queue_.empty() ? kNever : queue_.begin()->first.first;
    for (const Node& n : nodes_) t = std::min(t, deadline(n));
    return t;
  }
  bool step() {
    const Time q = queue_.empty() ? kNever : queue_.begin()->first.first;
    Time timer = kNever;
    for (const Node& n : nodes_) timer = std::min(timer, deadline(n));
    if (q == kNever && timer == kNever) return false;
    if (q <= timer) {
      now_ = std::max(now_, q);
      auto node = queue_.extract(queue_.begin());
      handle(node.mapped());
    } else {
      now_ = std::max(now_, timer);
      for (NodeId id = 0; id < static_cast<NodeId>(nodes_.size()); ++id) {
        if (deadline(nodes_[static_cast<std::size_t>(id)]) > now_) continue;
        call(id, [&](auto& core, auto& out) {
          core.tick(now_, out);
          if (core.next_deadline() <= now_) throw std::logic_error("timer left due after tick");
        });
      }
    }
    return true;
  }
  bool run_until(const std::function<bool()>& done, Time limit) {
    if (done()) return true;
    while (next_event_time() <= limit) {
      step();
      if (done()) return true;
    }
    now_ = std::max(now_, limit);
    return done();
  }
  void run_until(Time t) {
    while (next_event_time() <= t) step();
    now_ = std::max(now_, t);
  }
  bool job_done() { return coordinator() != nullptr && coordinator()->done(); }

 private:
  struct Node {
    std::unique_ptr<mapreduce::Coordinator> coordinator;
    std::unique_ptr<mapreduce::Worker> worker;
    bool crashed = false;
    std::uint32_t incarnation = 0;
    double slowdown = 1.0;
  };
  struct Delivery {
    Env env;
    std::uint32_t incarnation = 0;
  };
  struct JobDone {
    NodeId node = kNoNode;
    JobId job = 0;
    std::uint32_t incarnation = 0;
  };
  struct Restart {
    NodeId node = kNoNode;
  };
  using Item = std::variant<Delivery, JobDone, Restart>;

  static Time deadline(const Node& n) {
    if (n.coordinator) return n.coordinator->next_deadline();
    if (n.worker) return n.worker->next_deadline();
    return kNever;
  }

  void boot(NodeId id) {
    Node& n = nodes_[static_cast<std::size_t>(id)];
    if (id == 0) {
      n.coordinator = std::make_unique<mapreduce::Coordinator>(
          0, job_, Rng(options_.seed).fork("node/coordinator"), storage_, now_);
      n.coordinator->check_invariants();
    } else {
      n.worker = std::make_unique<mapreduce::Worker>(
          id, job_, app_.get(),
          Rng(options_.seed)
              .fork("node/w" + std::to_string(id) + "/" + std::to_string(n.incarnation)),
          n.incarnation, now_);
      n.worker->check_invariants();
    }
  }

  void enqueue(Time at, Item item) {
    queue_.emplace(std::make_pair(at, order_++), std::move(item));
  }

  void handle(Item& item) {
    if (auto* d = std::get_if<Delivery>(&item)) {
      const Node& n = nodes_.at(static_cast<std::size_t>(d->env.to));
      if (n.crashed || n.incarnation != d->incarnation) return;
      call(d->env.to, [&](auto& core, auto& out) { core.step(d->env, now_, out); });
    } else if (auto* j = std::get_if<JobDone>(&item)) {
      const Node& n = nodes_.at(static_cast<std::size_t>(j->node));
      if (n.crashed || n.incarnation != j->incarnation) return;
      call(j->node, [&](auto& core, auto& out) { core.job_done(j->job, now_, out); });
    } else {
      restart(std::get<Restart>(item).node);
    }
  }

  template <class F>
  void call(NodeId id, F&& f) {
    Node& n = nodes_.at(static_cast<std::size_t>(id));
    if (n.coordinator) {
      mapreduce::Coordinator::Out out;
      f(*n.coordinator, out);
      for (const auto& op : out.persist) mapreduce::apply(storage_, op);
      after(id, out.sends, out.compute, out.disk, out.events);
      if (n.coordinator) n.coordinator->check_invariants();
    } else if (n.worker) {
      mapreduce::Worker::Out out;
      f(*n.worker, out);
      for (const auto& op : out.persist) store_.apply(op, now_);
      after(id, out.sends, out.compute, out.disk, out.events);
      if (n.worker) n.worker->check_invariants();
    }
  }

  template <class Sends>
  void after(NodeId id, Sends& sends, const std::vector<ComputeJob>& compute,
             const std::vector<DiskJob>& disk, std::vector<TraceEvent>& events) {
    Node& n = nodes_.at(static_cast<std::size_t>(id));
    for (auto& s : sends) {
      Env env{id, s.to, std::move(s.msg)};
      ++sent_;
      ++by_kind_[mapreduce::kind_name(env.msg)];
      if (filter_ && !filter_(env)) continue;
      const std::uint32_t inc = nodes_.at(static_cast<std::size_t>(s.to)).incarnation;
      enqueue(now_ + options_.latency, Delivery{std::move(env), inc});
    }
    for (const ComputeJob& c : compute) {
      const Duration d = from_seconds(c.flops / options_.flops_per_s * n.slowdown);
      enqueue(now_ + d, JobDone{id, c.id, n.incarnation});
    }
    for (const DiskJob& j : disk) {
      const Duration d =
          from_seconds(static_cast<double>(j.bytes) / options_.disk_bytes_per_s * n.slowdown);
      enqueue(now_ + d, JobDone{id, j.id, n.incarnation});
    }
    bool crash_self = false;
    for (auto& e : events) {
      crash_self |= e.kind == "crash_self";
      events_.push_back(MrEvent{now_, id, std::move(e)});
    }
    if (crash_self) {
      crash(id);
      enqueue(now_ + options_.config.crash_test_restart, Restart{id});
    }
  }

  MrOptions options_;
  std::shared_ptr<const mapreduce::Job> job_;
  std::unique_ptr<mapreduce::App> app_;
  std::vector<Node> nodes_;
  mapreduce::CoordinatorStorage storage_;
  mapreduce::OutputStore store_;
  std::map<std::pair<Time, std::uint64_t>, Item> queue_;
  std::uint64_t order_ = 0;
  Time now_ = 0;
  std::function<bool(const Env&)> filter_;
  std::vector<MrEvent> events_;
  std::uint64_t sent_ = 0;
  std::map<std::string, std::uint64_t> by_kind_;
};

}  // namespace faultline::testing
