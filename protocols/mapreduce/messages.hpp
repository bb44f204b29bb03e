// MapReduce's messages (Dean & Ghemawat, §3.1 "Execution overview", §3.3 "Fault tolerance").
//
// Every coordinator message carries the coordinator's `epoch` (its boot count, persisted):
// a worker that sees a newer epoch forgets the tasks of the previous coordinator.
// Sizes on the wire (for SimGrid) are given by wire_size(): control messages are small, data
// messages (split data, fetched partitions, output replicas) carry their real or modelled bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/ids.hpp"

namespace faultline::mapreduce {

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};
/// An immutable list of pairs shared between the map worker that produced it and the reducers
/// that fetched it (real mode); null in modelled mode.
using KvList = std::shared_ptr<const std::vector<KeyValue>>;

enum class TaskKind { Map, Reduce };

/// Where a completed map task's output lives (§3.1 step 4: the locations go to the master,
/// which forwards them to the reduce workers).
struct MapLocation {
  int map = 0;
  NodeId worker = kNoNode;
  int attempt = 0;
};

// --- worker <-> coordinator -------------------------------------------------------------

/// A worker's first message after (re)booting: it holds no task and no map output.
struct Register {
  std::uint32_t incarnation = 0;
};
/// §3.3: "the master pings every worker periodically".
struct Ping {
  std::uint64_t epoch = 0;
};
/// The coordinator numbers the map locations it forwards to reducers (§3.1 step 4) 1, 2, 3, ...
/// in each epoch: one number per accepted map completion, first or re-execution. A reducer
/// tracks how far it has every numbered location (a gap is a lost MapLocations), so the
/// coordinator can send again exactly what a reducer lacks (see Pong).
/// "Needs no location": a map execution, a reduce past its shuffle, or the aggregated shuffle.
constexpr std::uint64_t kNoLocationsNeeded = UINT64_MAX;

/// A task execution, as named in a Pong.
struct TaskRef {
  TaskKind kind = TaskKind::Map;
  int task = 0;
  int attempt = 0;
  /// A reduce still fetching: it holds every location numbered up to this one (or a newer
  /// location of the same map). Otherwise kNoLocationsNeeded.
  std::uint64_t locations_through = kNoLocationsNeeded;
};
/// The answer to a Ping lists the executions the worker is running: one the coordinator
/// believes running there but the worker does not list had its assignment, or its completion
/// report, lost (a partition between two pings); the coordinator sends the assignment again
/// and the worker starts it or reports it again. A reduce that has fewer locations than the
/// coordinator has numbered lost a MapLocations: the coordinator sends the missing ones again.
struct Pong {
  std::uint64_t epoch = 0;
  std::vector<TaskRef> running;
  /// The worker's restart count: a Pong of another incarnation than the registered one comes
  /// from a worker that restarted and whose Register was lost (it stops registering once the
  /// coordinator talks to it), so its map outputs are gone.
  std::uint32_t incarnation = 0;
};
/// Run map `task` (attempt `attempt`), reading the split from `source` (the worker itself when
/// a replica is local, §3.4).
struct AssignMap {
  std::uint64_t epoch = 0;
  int task = 0;
  int attempt = 0;
  NodeId source = kNoNode;
  bool backup = false;
};
/// Run reduce `task`; `maps` are the map outputs completed so far, `replicas` the other
/// workers that store copies of the output (output_replicas - 1 of them).
struct AssignReduce {
  std::uint64_t epoch = 0;
  int task = 0;
  int attempt = 0;
  bool backup = false;
  std::vector<MapLocation> maps;
  std::vector<NodeId> replicas;
  /// `maps` is the current location of every completed map: it stands for every location
  /// numbered up to this one.
  std::uint64_t locations_through = 0;
};
/// Newly completed (or re-executed elsewhere) map outputs, for a running reduce attempt:
/// the current location of every map whose location was numbered in (after, through] and is
/// still completed. A first forwarding carries one location (after = through - 1); a catch-up
/// after a Pong carries what the reducer lacked.
struct MapLocations {
  std::uint64_t epoch = 0;
  int reduce = 0;
  int attempt = 0;
  std::vector<MapLocation> maps;
  std::uint64_t after = 0;
  std::uint64_t through = 0;
};
/// The map wrote its R partitions to the worker's local disk.
struct MapDone {
  std::uint64_t epoch = 0;
  int task = 0;
  int attempt = 0;
  std::uint64_t input_bytes = 0;
  std::uint64_t intermediate_bytes = 0;
};
/// The reduce output was committed (atomically renamed to its final name, §3.3).
struct ReduceDone {
  std::uint64_t epoch = 0;
  int task = 0;
  int attempt = 0;
  std::uint64_t output_bytes = 0;
};
/// The other execution of this task won (§3.6): stop it and free the slot.
struct AbortTask {
  std::uint64_t epoch = 0;
  TaskKind kind = TaskKind::Map;
  int task = 0;
  int attempt = 0;
};

// --- worker <-> worker ------------------------------------------------------------------

/// A map worker without a local replica reads the split from a replica holder.
struct ReadSplit {
  int split = 0;
  int attempt = 0;  // the requesting map attempt
};
struct SplitData {
  int split = 0;
  int attempt = 0;
  std::uint64_t bytes = 0;
};
/// A reducer fetches its partition of several map outputs from one map worker (§3.1 step 5,
/// "remote procedure calls to read the buffered data from the local disks of the map workers").
struct Fetch {
  int reduce = 0;
  int reduce_attempt = 0;
  std::vector<MapLocation> maps;  // all on the addressed worker
};
struct FetchReply {
  int reduce = 0;
  int reduce_attempt = 0;
  std::vector<MapLocation> found;    // the outputs the worker still holds, in request order
  std::vector<MapLocation> missing;  // outputs it does not hold (it restarted since)
  std::uint64_t bytes = 0;           // partition bytes of `found`
  std::vector<KvList> pairs;         // real mode: one list per `found` entry
};
/// Aggregated shuffle (sim/shuffle_fabric): every partition of a reduce attempt has arrived.
/// Sent by the simulator on the reducer's behalf, from the reducer itself.
struct ShuffleDone {
  int reduce = 0;
  int reduce_attempt = 0;
  std::uint64_t bytes = 0;
};
/// A copy of a reduce output written to another worker's disk before the commit.
struct ReplicaWrite {
  int reduce = 0;
  int attempt = 0;
  std::uint64_t bytes = 0;
};
struct ReplicaAck {
  int reduce = 0;
  int attempt = 0;
};

using Message = std::variant<Register, Ping, Pong, AssignMap, AssignReduce, MapLocations,
                             MapDone, ReduceDone, AbortTask, ReadSplit, SplitData, Fetch,
                             FetchReply, ShuffleDone, ReplicaWrite, ReplicaAck>;

/// "register", "ping", ..., "fetch_reply" (network `kinds:` and report rpcs.<kind>).
const char* kind_name(const Message& m);
/// Every kind name, in variant order.
const std::vector<std::string>& kind_names();
/// Bytes on the wire: 64 for control messages plus 16 per listed location; data messages add
/// their payload bytes (SplitData, FetchReply, ReplicaWrite).
std::uint64_t wire_size(const Message& m);

}  // namespace faultline::mapreduce
