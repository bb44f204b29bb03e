// The simulated machines, built programmatically from the scenario's `cluster:` section
// (DESIGN.md, "Platform"). One host per node (servers and clients), each with its own
// split-duplex link to a switch (so host-to-host latency is twice the link latency), a zero-cost
// loopback route (a node's helper actors report to it instantly), and optionally a disk.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cli/scenario.hpp"
#include "common/ids.hpp"

namespace simgrid::s4u {
class Host;
class Link;
class Disk;
}  // namespace simgrid::s4u

namespace faultline::sim {

class Platform {
 public:
  /// `nodes` in NodeId order. `cpu_factors`: every CPU slow-down factor the fault list uses;
  /// SimGrid 3.32 cannot change a host's speed at run time, so each becomes a pstate.
  Platform(const ClusterSpec& cluster, const std::vector<NodeInfo>& nodes,
           const std::vector<double>& cpu_factors);

  simgrid::s4u::Host* host(NodeId id) const { return hosts_.at(static_cast<std::size_t>(id)); }
  simgrid::s4u::Disk* disk(NodeId id) const;  // nullptr without `cluster.disk`
  /// Racks topology: the rack of a node (0-based), and the rack's shuffle gateway: a host
  /// behind the rack switch whose link carries the rack's aggregate host bandwidth
  /// (hosts in the rack x host link), used by the aggregated MapReduce shuffle
  /// (sim/shuffle_fabric.hpp) to move a whole rack's share as one flow. Its route to itself
  /// (intra-rack shuffle) goes through a link of the same aggregate bandwidth. Star topology:
  /// one rack (0) and one gateway on the star.
  int rack_of(NodeId id) const { return rack_of_.at(static_cast<std::size_t>(id)); }
  int racks() const { return static_cast<int>(gateways_.size()); }
  simgrid::s4u::Host* gateway(int rack) const { return gateways_.at(static_cast<std::size_t>(rack)); }

  /// Straggler controls (faults `slow:`): speeds are divided, latency is added.
  void set_cpu_factor(NodeId id, double factor);
  void set_disk_factor(NodeId id, double factor);
  void add_latency(NodeId id, Duration extra);
  double disk_factor(NodeId id) const { return disk_factor_.at(static_cast<std::size_t>(id)); }

 private:
  ClusterSpec cluster_;
  std::vector<simgrid::s4u::Host*> hosts_;
  std::vector<simgrid::s4u::Link*> links_;
  std::vector<simgrid::s4u::Disk*> disks_;
  std::vector<int> rack_of_;
  std::vector<simgrid::s4u::Host*> gateways_;
  std::vector<double> disk_factor_;
  std::vector<Duration> extra_latency_;
  std::vector<double> pstate_factors_;  // pstate i runs at speed / pstate_factors_[i]
};

}  // namespace faultline::sim
