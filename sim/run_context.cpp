#include "sim/run_context.hpp"

#include <simgrid/s4u/Mailbox.hpp>

#include "sim/engine.hpp"

namespace faultline::sim {

RunContext::RunContext(const ClusterSpec& cluster_spec, std::vector<NodeInfo> nodes,
                       std::uint64_t seed, const std::vector<double>& cpu_factors,
                       double message_cost)
    : platform(cluster_spec, nodes, cpu_factors),
      root_rng(seed),
      network_rng(Rng(seed).fork("network")),
      cluster(cluster_spec),
      message_cost_flops(message_cost) {
  record.nodes = nodes;
  for (auto& info : nodes) {
    NodeSlot s;
    s.mailbox = simgrid::s4u::Mailbox::by_name(info.name);
    s.info = std::move(info);
    slots.push_back(std::move(s));
  }
}

void RunContext::event(NodeId node, std::string kind, nlohmann::json fields) {
  record.events.push_back(EventRecord{SimEngine::now(), node, std::move(kind), std::move(fields)});
}

Duration RunContext::storage_time(NodeId node, std::uint64_t bytes, Rng& timing) const {
  if (!cluster.disk) return 0;
  const DurationRange& sync = cluster.disk->sync_latency;
  double seconds = to_seconds(sync.hi > sync.lo ? timing.uniform(sync.lo, sync.hi) : sync.lo);
  if (cluster.disk->write_bytes_s > 0) seconds += static_cast<double>(bytes) / cluster.disk->write_bytes_s;
  return from_seconds(seconds * platform.disk_factor(node));
}

double RunContext::disk_load(NodeId node, std::uint64_t bytes, std::uint32_t ops, bool write) const {
  if (!cluster.disk) return static_cast<double>(bytes);
  // The bytes the disk moves at its current bandwidth (a slowed disk's) in one access time.
  const double bandwidth = (write ? cluster.disk->write_bytes_s : cluster.disk->read_bytes_s) /
                           platform.disk_factor(node);
  return static_cast<double>(bytes) + ops * to_seconds(cluster.disk->access_time) * bandwidth;
}

}  // namespace faultline::sim
