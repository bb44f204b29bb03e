// The outbox of a protocol core (DESIGN.md, "Protocol cores are pure state machines").
//
// Ordering rule, stated once and relied on everywhere: every PersistOp of a step is on stable
// storage before any message of the same step leaves the node (Raft's "persist before
// replying", extended paper Figure 2). The adapter (sim/NodeActor, or the in-memory test
// harness) applies `persist` first, waits the storage's sync latency, then sends `sends`.
// A crash loses exactly what was not persisted.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/history.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"

namespace faultline {

/// A message as it travels: sender, addressee and the protocol's message value.
template <class Message>
struct Envelope {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  Message msg;
};

using JobId = std::uint64_t;

/// CPU work run on the node's host; completion comes back through the core's `job_done`.
struct ComputeJob {
  JobId id = 0;
  double flops = 0;
};

/// Disk work run on the node's disk; completion comes back through the core's `job_done`.
struct DiskJob {
  JobId id = 0;
  std::uint64_t bytes = 0;
  bool write = true;
  /// Separate requests the job stands for (e.g. one partition read per map output served):
  /// each pays the disk's access time (cluster.disk.access_time).
  std::uint32_t ops = 1;
};

/// Something that happened inside a core, for events.jsonl, the trace and the run's monitors.
struct TraceEvent {
  std::string kind;       // e.g. "became_leader", "applied", "election_timeout"
  nlohmann::json fields;  // a JSON object
};

template <class Message, class PersistOp>
struct Effects {
  struct Send {
    NodeId to = kNoNode;
    Message msg;
    std::uint64_t size_bytes = 0;  // real size on the wire; drives SimGrid's network model
  };

  std::vector<PersistOp> persist;    // applied to stable storage, in order, before any send
  /// Requests, not replies: the sends may leave while `persist` is being written. The node
  /// still handles nothing else until the write is done, so it cannot act on an answer before
  /// its own state is durable (the leader's parallel write of thesis §10.2.1; Figure 2 asks
  /// for stable storage before *responding* to RPCs). Used by a candidate's RequestVotes.
  bool send_while_persisting = false;
  std::uint64_t persist_bytes = 0;   // bytes those ops write (disk time beyond sync latency)
  std::vector<Send> sends;
  std::vector<ComputeJob> compute;
  std::vector<DiskJob> disk;
  std::vector<TraceEvent> events;
  std::vector<HistoryEntry> history;  // client operations (clients only)

  void send(NodeId to, Message msg, std::uint64_t size_bytes) {
    sends.push_back(Send{to, std::move(msg), size_bytes});
  }
  void save(PersistOp op, std::uint64_t bytes) {
    persist.push_back(std::move(op));
    persist_bytes += bytes;
  }
  void emit(std::string kind, nlohmann::json fields = nlohmann::json::object()) {
    events.push_back(TraceEvent{std::move(kind), std::move(fields)});
  }
  bool empty() const {
    return persist.empty() && sends.empty() && compute.empty() && disk.empty() && events.empty() &&
           history.empty();
  }
  void clear() {
    persist.clear();
    persist_bytes = 0;
    send_while_persisting = false;
    sends.clear();
    compute.clear();
    disk.clear();
    events.clear();
    history.clear();
  }
};

}  // namespace faultline
