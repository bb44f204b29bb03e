// Node identities. Servers and clients share one id space so that a Transport, a fault or a
// history entry can name either; names ("n1", "c2") are for people and reports.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace faultline {

/// Index of a node (server or client) in the run's node table; stable for the whole run.
using NodeId = std::int32_t;
inline constexpr NodeId kNoNode = -1;

enum class NodeKind { Server, Client };

struct NodeInfo {
  NodeId id = kNoNode;
  std::string name;  // "n1", "c3", or a user-given server name
  NodeKind kind = NodeKind::Server;
};

}  // namespace faultline
