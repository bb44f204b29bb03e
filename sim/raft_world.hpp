// Raft on the simulator: servers n1..nN running raft::Node, clients c1..cM running
// raft::Client, the cluster-wide SafetyMonitor observing every server step.
#pragma once

#include <memory>

#include "cli/scenario.hpp"
#include "protocols/raft/client.hpp"
#include "protocols/raft/config.hpp"
#include "protocols/raft/monitor.hpp"
#include "protocols/raft/node.hpp"
#include "sim/world.hpp"

namespace faultline::sim {

class RaftWorld final : public World {
 public:
  RaftWorld(const Scenario& scenario, RunContext& ctx);
  void start() override;
  void finish() override;
  void collect_violations() override;
  int elect_control() const override { return static_cast<int>(raft::Control::Elect); }
  int heartbeat_control() const override { return static_cast<int>(raft::Control::Heartbeat); }

  static std::vector<NodeInfo> node_table(const Scenario& scenario);

 private:
  RunContext& ctx_;
  raft::Config config_;
  Transport<raft::Message> transport_;
  raft::SafetyMonitor monitor_;
  std::vector<NodeRuntime<raft::Node>*> server_runtimes_;
  std::vector<NodeRuntime<raft::Client>*> client_runtimes_;
  std::size_t violations_collected_ = 0;
  std::vector<raft::AckedWrite> acked_;  // every acknowledged write, all client incarnations
  std::vector<std::pair<const raft::Client*, std::size_t>> acked_seen_;  // per client: core, copied

  bool checks_on_ = true;
  /// Per node id: the most log entries the server's stable storage held after any step.
  std::vector<std::uint64_t> log_entries_max_;
};

/// Builds the node table shared by every protocol: servers (n1..nN or `names`), then clients c1..cM.
std::vector<NodeInfo> standard_node_table(const Scenario& scenario);

}  // namespace faultline::sim
