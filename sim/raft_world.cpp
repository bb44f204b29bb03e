#include "sim/raft_world.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace faultline::sim {

std::vector<NodeInfo> standard_node_table(const Scenario& scenario) {
  std::vector<NodeInfo> nodes;
  for (const auto& name : scenario.cluster.server_names)
    nodes.push_back(NodeInfo{static_cast<NodeId>(nodes.size()), name, NodeKind::Server});
  for (int c = 1; c <= scenario.workload.clients; ++c)
    nodes.push_back(NodeInfo{static_cast<NodeId>(nodes.size()), fmt::format("c{}", c), NodeKind::Client});
  return nodes;
}

std::vector<NodeInfo> RaftWorld::node_table(const Scenario& scenario) {
  return standard_node_table(scenario);
}

RaftWorld::RaftWorld(const Scenario& scenario, RunContext& ctx)
    : ctx_(ctx),
      config_(raft::config_from(scenario.params)),
      transport_(ctx, [](const raft::Message& m) { return raft::kind_name(m); }) {
  checks_on_ = std::find(scenario.checks.begin(), scenario.checks.end(), "raft.safety") !=
               scenario.checks.end();
  std::vector<std::string> names;
  for (const auto& slot : ctx.slots) names.push_back(slot.info.name);
  monitor_.set_node_names(std::move(names));
  for (const auto& slot : ctx.slots) {
    by_name_[slot.info.name] = slot.info.id;
    (slot.info.kind == NodeKind::Server ? servers_ : clients_).push_back(slot.info.id);
  }
  log_entries_max_.assign(ctx.slots.size(), 0);
  for (NodeId id : servers_) {
    auto runtime = std::make_unique<NodeRuntime<raft::Node>>(
        ctx, transport_, id, "node/" + ctx.slot(id).info.name,
        [this, id](const raft::PersistentState& stored, Rng rng, Time now) {
          return std::make_unique<raft::Node>(id, servers_, config_, rng, stored, now);
        },
        [](raft::PersistentState& stored, const raft::PersistOp& op) { stored.apply(op); },
        [this](const raft::Node& node, const raft::Node::Out& out, Time now) {
          if (checks_on_) monitor_.observe(node, out.events, now);
          // The core's log is what stable storage holds once the step's ops are applied.
          auto& most = log_entries_max_[static_cast<std::size_t>(node.id())];
          most = std::max<std::uint64_t>(most, node.log().size());
        },
        [](raft::Node& node, int control, Time now, raft::Node::Out& out) {
          node.control(static_cast<raft::Control>(control), now, out);
        });
    server_runtimes_.push_back(runtime.get());
    nodes_.push_back(std::move(runtime));
  }
  const auto& w = scenario.workload;
  acked_seen_.resize(clients_.size());
  for (std::size_t c = 0; c < clients_.size(); ++c) {
    const NodeId id = clients_[c];
    raft::ClientConfig cc;
    cc.client_index = static_cast<int>(c);
    cc.num_clients = static_cast<int>(clients_.size());
    cc.ops = w.ops;
    if (w.rate_per_s) cc.rate_per_s = *w.rate_per_s / static_cast<double>(clients_.size());
    cc.mix = w.mix;
    cc.keys = w.keys;
    cc.rpc_timeout = w.rpc_timeout;
    cc.client_timeout = w.client_timeout;
    cc.start = w.start;
    auto runtime = std::make_unique<NodeRuntime<raft::Client>>(
        ctx, transport_, id, "workload/" + ctx.slot(id).info.name,
        [this, id, cc](const raft::Client::Persistent&, Rng rng, Time now) {
          raft::ClientConfig config = cc;
          config.incarnation = ctx_.slot(id).incarnation;  // a restarted client is a new session
          return std::make_unique<raft::Client>(id, servers_, config, rng, now);
        },
        NodeRuntime<raft::Client>::Apply{},
        [this, c](const raft::Client& client, const raft::Client::Out&, Time) {
          // Keep every acknowledged write, also those of incarnations a crash has since wiped.
          auto& seen = acked_seen_[c];
          if (seen.first != &client) seen = {&client, 0};
          const auto& acked = client.acked_writes();
          for (; seen.second < acked.size(); ++seen.second) acked_.push_back(acked[seen.second]);
        });
    client_runtimes_.push_back(runtime.get());
    nodes_.push_back(std::move(runtime));
  }
}

void RaftWorld::start() {
  for (auto& node : nodes_) node->start();
}

void RaftWorld::collect_violations() {
  const auto& found = monitor_.violations();
  for (; violations_collected_ < found.size(); ++violations_collected_) {
    const auto& v = found[violations_collected_];
    ViolationRecord r;
    r.time = v.time;
    for (NodeId id : v.nodes) r.nodes.push_back(ctx_.slot(id).info.name);
    r.check = "raft.safety/" + v.check;
    r.detail = v.detail;
    r.data = {{"term", v.term}, {"index", v.index}};
    ctx_.record.violations.push_back(std::move(r));
  }
}

void RaftWorld::finish() {
  // What each server holds on stable storage at the end, and the most log entries it held after
  // any step: log compaction (§7) keeps this bounded; without it the log grows with the run.
  // reports/raft_snapshot_metrics.cpp turns these events into log_entries_max and friends.
  for (auto* s : server_runtimes_) {
    const raft::PersistentState& stored = s->storage();
    ctx_.event(s->id(), "stable_storage",
               {{"log_entries", stored.log.size()},
                {"log_entries_max",
                 std::max<std::uint64_t>(log_entries_max_[static_cast<std::size_t>(s->id())],
                                         stored.log.size())},
                {"snapshot_index", stored.snapshot.last_included_index},
                {"snapshot_bytes", stored.snapshot.last_included_index > 0
                                       ? raft::snapshot_size(stored.snapshot)
                                       : 0}});
  }
  if (checks_on_) {
    std::vector<const raft::PersistentState*> logs;
    for (auto* s : server_runtimes_) logs.push_back(&s->storage());
    monitor_.check_no_lost_writes(acked_, logs, ctx_.record.end_time);
  }
  collect_violations();
}

}  // namespace faultline::sim
