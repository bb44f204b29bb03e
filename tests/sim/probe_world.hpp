// A minimal core and world for testing the SimGrid adapter itself (Transport, NodeRuntime,
// crash/restart, storage, jobs, network faults) without any protocol logic in the way.
#pragma once

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <simgrid/s4u/Actor.hpp>

#include "cli/scenario.hpp"
#include "common/effects.hpp"
#include "sim/engine.hpp"
#include "sim/node_runtime.hpp"
#include "sim/world.hpp"

namespace faultline::testing {

struct Probe {
  std::int64_t seq = 0;
  std::uint64_t size = 100;
};

/// What a probe core saw, kept outside the cores so it survives crashes.
struct Observed {
  struct Arrival {
    NodeId from, to;
    std::int64_t seq;
    Time at;
  };
  std::vector<Arrival> arrivals;
  std::vector<std::pair<NodeId, Time>> jobs_done;
  std::vector<std::pair<NodeId, Time>> ticks;
};

/// Persisted state: how many persist ops were applied (survives crashes).
struct ProbeStorage {
  std::int64_t writes = 0;
};

class ProbeCore {
 public:
  using Message = Probe;
  using PersistOp = std::int64_t;
  using Persistent = ProbeStorage;
  using Out = Effects<Message, PersistOp>;

  ProbeCore(NodeId id, Observed& observed, const ProbeStorage& stored)
      : id_(id), observed_(observed), recovered_writes_(stored.writes) {}

  void step(const Envelope<Message>& in, Time now, Out& /*out*/) {
    observed_.arrivals.push_back({in.from, in.to, in.msg.seq, now});
  }
  void tick(Time now, Out& out) {
    observed_.ticks.push_back({id_, now});
    deadline_ = kNever;
    if (persist_on_tick_) out.save(1, 100);
    for (auto& s : pending_sends_) out.send(s.first, Probe{s.second}, 100);
    pending_sends_.clear();
    if (job_flops_ > 0) out.compute.push_back(ComputeJob{1, job_flops_});
    if (disk_bytes_ > 0) out.disk.push_back(DiskJob{2, disk_bytes_, disk_write_, disk_ops_});
    job_flops_ = 0;
    disk_bytes_ = 0;
  }
  Time next_deadline() const { return deadline_; }
  void job_done(JobId, Time now, Out&) { observed_.jobs_done.push_back({id_, now}); }
  void check_invariants() const {}
  std::string_view role_name() const { return "probe"; }
  std::uint64_t current_term() const { return 0; }

  // Test controls: what the next tick does.
  Time deadline_ = kNever;
  bool persist_on_tick_ = false;
  std::vector<std::pair<NodeId, std::int64_t>> pending_sends_;
  double job_flops_ = 0;
  std::uint64_t disk_bytes_ = 0;
  bool disk_write_ = true;
  std::uint32_t disk_ops_ = 1;
  std::int64_t recovered_writes() const { return recovered_writes_; }

 private:
  NodeId id_;
  Observed& observed_;
  std::int64_t recovered_writes_;
};

inline const char* probe_kind(const Probe&) { return "probe"; }

class ProbeWorld final : public sim::World {
 public:
  ProbeWorld(sim::RunContext& ctx, Observed& observed)
      : transport_(ctx, [](const Probe& p) { return probe_kind(p); }) {
    for (const auto& slot : ctx.slots) {
      const NodeId id = slot.info.id;
      by_name_[slot.info.name] = id;
      servers_.push_back(id);
      auto runtime = std::make_unique<sim::NodeRuntime<ProbeCore>>(
          ctx, transport_, id, "node/" + slot.info.name,
          [id, &observed](const ProbeStorage& stored, Rng, Time) {
            return std::make_unique<ProbeCore>(id, observed, stored);
          },
          [](ProbeStorage& s, const std::int64_t& op) { s.writes += op; });
      runtimes_.push_back(runtime.get());
      nodes_.push_back(std::move(runtime));
    }
  }
  void start() override {
    for (auto& n : nodes_) n->start();
  }
  void finish() override {}
  void collect_violations() override {}

  sim::NodeRuntime<ProbeCore>& runtime(NodeId id) { return *runtimes_.at(static_cast<std::size_t>(id)); }
  ProbeCore& core(NodeId id) { return *runtime(id).core(); }
  sim::Transport<Probe>& transport() { return transport_; }

 private:
  sim::Transport<Probe> transport_;
  std::vector<sim::NodeRuntime<ProbeCore>*> runtimes_;
};

inline ClusterSpec probe_cluster(int nodes) {
  ClusterSpec c;
  for (int i = 1; i <= nodes; ++i) c.server_names.push_back("n" + std::to_string(i));
  c.latency = kMillisecond;
  c.bandwidth_bytes_s = 1.25e8;
  c.speed_flops = 1e9;
  c.message_cost_flops = 0;
  return c;
}

inline std::vector<NodeInfo> probe_nodes(const ClusterSpec& c) {
  std::vector<NodeInfo> nodes;
  for (const auto& name : c.server_names)
    nodes.push_back(NodeInfo{static_cast<NodeId>(nodes.size()), name, NodeKind::Server});
  return nodes;
}

/// Runs `script` in a (non-daemon) driver actor on host 0; the run ends when it returns.
template <class F>
void drive(sim::RunContext& ctx, F script) {
  simgrid::s4u::Actor::create("driver", ctx.platform.host(0), script);
}

inline void sleep_until_ms(double ms) { simgrid::s4u::this_actor::sleep_until(ms / 1000.0); }

}  // namespace faultline::testing
