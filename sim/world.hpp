// A protocol's simulated world: its nodes (servers then clients), started on the platform.
// faults/ and the run driver see every protocol through this interface.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/node_runtime.hpp"
#include "sim/run_context.hpp"

namespace faultline::sim {

class World {
 public:
  virtual ~World() = default;
  /// Boots every node at time 0.
  virtual void start() = 0;
  /// End-of-run checks (e.g. no acknowledged write lost); appends to the run's violations.
  virtual void finish() = 0;
  /// Moves violations found so far by the protocol's monitors into the run record (idempotent).
  virtual void collect_violations() = 0;
  /// Control code for `elect: node` (make its election timer fire now); -1 if unsupported.
  virtual int elect_control() const { return -1; }
  /// Control code for `heartbeat: node` (a leader broadcasts its heartbeat now); -1 if
  /// unsupported.
  virtual int heartbeat_control() const { return -1; }
  /// True for protocols whose run has a natural end (a MapReduce job): the fault controller
  /// then polls finished() and ends the run soon after it turns true. False (Raft): the run
  /// lasts until `duration` or `stop_when`, and nothing is polled for it.
  virtual bool can_finish() const { return false; }
  /// The world's work is over (the job is done or has failed): the run may end.
  virtual bool finished() const { return false; }
  /// Files the run directory gets beside report.json (relative path -> content), e.g. the
  /// MapReduce output files; filled by finish().
  virtual std::map<std::string, std::string> files() const { return {}; }

  NodeHandle& node(NodeId id) { return *nodes_.at(static_cast<std::size_t>(id)); }
  const std::vector<NodeId>& servers() const { return servers_; }
  const std::vector<NodeId>& clients() const { return clients_; }
  std::size_t size() const { return nodes_.size(); }
  /// The node called `name`, or kNoNode.
  NodeId find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? kNoNode : it->second;
  }

 protected:
  std::vector<std::unique_ptr<NodeHandle>> nodes_;  // by NodeId
  std::vector<NodeId> servers_;
  std::vector<NodeId> clients_;
  std::map<std::string, NodeId> by_name_;
};

}  // namespace faultline::sim
