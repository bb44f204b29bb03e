// MemoryCluster wired for Raft: servers n1..nS are raft::Node (ids 0..S-1), clients c1..cC are
// raft::Client (ids S..S+C-1), every server step is checked by raft::SafetyMonitor. Random
// streams are forked by stable names as in a real run ("node/n2", "workload/c1").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "protocols/raft/client.hpp"
#include "protocols/raft/config.hpp"
#include "protocols/raft/monitor.hpp"
#include "protocols/raft/node.hpp"
#include "tests/harness/memory_cluster.hpp"

namespace faultline::testing {

using RaftCluster = MemoryCluster<raft::Node, raft::Client, raft::SafetyMonitor>;

struct RaftClusterOptions {
  int servers = 3;
  raft::Config config;
  std::uint64_t seed = 1;
  Duration latency = kMillisecond;
  /// One per client; client_index/num_clients are filled in.
  std::vector<raft::ClientConfig> clients;
  /// Empty, or one recovered state per server.
  std::vector<raft::PersistentState> initial_storage;
};

inline RaftClusterOptions cluster_options(int servers, std::uint64_t seed = 1) {
  RaftClusterOptions o;
  o.servers = servers;
  o.seed = seed;
  return o;
}

/// A closed-loop client config with sensible test defaults.
inline raft::ClientConfig closed_loop_client(std::int64_t ops,
                                             std::vector<std::pair<std::string, double>> mix = {
                                                 {"get", 0.4}, {"put", 0.3}, {"append", 0.3}}) {
  raft::ClientConfig c;
  c.ops = ops;
  c.mix = std::move(mix);
  c.keys = 3;
  c.rpc_timeout = 100 * kMillisecond;
  c.client_timeout = kSecond;
  return c;
}

inline std::unique_ptr<RaftCluster> make_raft_cluster(RaftClusterOptions o) {
  RaftCluster::Options options;
  options.servers = o.servers;
  options.clients = static_cast<int>(o.clients.size());
  options.latency_min = options.latency_max = o.latency;
  options.seed = o.seed;
  options.initial_storage = o.initial_storage;
  std::vector<NodeId> servers;
  for (NodeId id = 0; id < o.servers; ++id) servers.push_back(id);
  const Rng root(o.seed);
  auto make_server = [servers, config = o.config, root](
                         NodeId id, const raft::PersistentState& storage, Time now) {
    return std::make_unique<raft::Node>(id, servers, config,
                                        root.fork("node/n" + std::to_string(id + 1)), storage, now);
  };
  auto clients = o.clients;
  const int num_clients = static_cast<int>(clients.size());
  for (int i = 0; i < num_clients; ++i) {
    clients[static_cast<std::size_t>(i)].client_index = i;
    clients[static_cast<std::size_t>(i)].num_clients = num_clients;
  }
  auto make_client = [servers, clients, root](NodeId id, int index, Time now) {
    return std::make_unique<raft::Client>(id, servers, clients[static_cast<std::size_t>(index)],
                                          root.fork("workload/c" + std::to_string(index + 1)), now);
  };
  return std::make_unique<RaftCluster>(std::move(options), make_server, make_client);
}

/// The live leader of the highest term, or nullptr.
inline const raft::Node* leader(const RaftCluster& cluster) {
  const raft::Node* best = nullptr;
  for (const raft::Node* n : cluster.live_servers()) {
    if (n->role() == raft::Role::Leader && (!best || n->current_term() > best->current_term())) {
      best = n;
    }
  }
  return best;
}

/// Live leaders whose term is the highest term among live servers (a leader that a majority
/// would still follow). At most one in a correct run.
inline int current_leaders(const RaftCluster& cluster) {
  std::uint64_t top = 0;
  for (const raft::Node* n : cluster.live_servers()) top = std::max(top, n->current_term());
  int count = 0;
  for (const raft::Node* n : cluster.live_servers()) {
    count += n->role() == raft::Role::Leader && n->current_term() == top;
  }
  return count;
}

/// Every client's acknowledged writes.
inline std::vector<raft::AckedWrite> acked_writes(const RaftCluster& cluster) {
  std::vector<raft::AckedWrite> all;
  for (int c = 0; c < cluster.num_clients(); ++c) {
    if (const raft::Client* client = cluster.client(c)) {
      all.insert(all.end(), client->acked_writes().begin(), client->acked_writes().end());
    }
  }
  return all;
}

}  // namespace faultline::testing
