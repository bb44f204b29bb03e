// State shared by every actor of one simulated run: the node table, network faults, the
// platform and the run record. Owned by the protocol world; actors hold a reference.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/rng.hpp"
#include "common/run_record.hpp"
#include "sim/network_faults.hpp"
#include "sim/platform.hpp"

namespace simgrid::s4u {
class Mailbox;
}

namespace faultline::sim {

struct NodeSlot {
  NodeInfo info;
  simgrid::s4u::Mailbox* mailbox = nullptr;
  std::uint32_t incarnation = 0;  // restart count: mail to an earlier incarnation is dropped
  bool up = false;
};

class RunContext {
 public:
  RunContext(const ClusterSpec& cluster, std::vector<NodeInfo> nodes, std::uint64_t seed,
             const std::vector<double>& cpu_factors, double message_cost_flops);

  RunRecord record;
  NetworkFaults network;
  Platform platform;
  Rng root_rng;      // the run's seed; streams are forked from it by name
  Rng network_rng;   // stream "network": drop/duplicate/delay draws
  std::vector<NodeSlot> slots;
  ClusterSpec cluster;
  double message_cost_flops = 0;  // CPU work to handle one message (cluster.message_cost)
  /// Record every delivered message in record.messages (`--trace-messages`). Off by default:
  /// a long run delivers millions of messages and only the trace reads them.
  bool trace_messages = false;

  NodeSlot& slot(NodeId id) { return slots.at(static_cast<std::size_t>(id)); }
  const NodeSlot& slot(NodeId id) const { return slots.at(static_cast<std::size_t>(id)); }
  /// Appends to events.jsonl at the current simulated time.
  void event(NodeId node, std::string kind, nlohmann::json fields = nlohmann::json::object());
  /// Stable-storage write time for `bytes` on `node`: sync latency plus bytes at the disk's
  /// write bandwidth, multiplied by the node's disk slow-down factor.
  /// A sync_latency range is drawn from `timing` (the node's own stream).
  Duration storage_time(NodeId node, std::uint64_t bytes, Rng& timing) const;
  /// What a disk job of `bytes` in `ops` requests weighs on `node`'s disk resource: its bytes
  /// plus, per request, the bytes the disk moves during its access time
  /// (cluster.disk.access_time). A seek holds the disk as a transfer does, so charging it as
  /// bytes makes concurrent jobs share the disk's time correctly (fair sharing in SimGrid).
  /// A slowed disk (fault `slow: {disk: k}`) transfers k times slower but seeks as fast: the
  /// bad disk of §3.6 loses read throughput to correctable errors, not its head mechanics.
  double disk_load(NodeId node, std::uint64_t bytes, std::uint32_t ops, bool write) const;
};

}  // namespace faultline::sim
