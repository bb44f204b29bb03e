// Everything a run records as it goes, in the order it happened: the material reports/ turns
// into report.json, events.jsonl, history.jsonl and the summary. Plain data, no SimGrid.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/history.hpp"
#include "common/ids.hpp"
#include "common/time.hpp"

namespace faultline {

/// One line of events.jsonl: something a core or the simulator did.
struct EventRecord {
  Time time = 0;
  NodeId node = kNoNode;  // kNoNode: the simulator itself (faults, run start/end)
  std::string kind;
  nlohmann::json fields;  // a JSON object
};

/// A fault as it fired (or was undone): report.json `faults`.
struct FaultRecord {
  Time time = 0;
  int fault_index = -1;          // position in the scenario's fault list (nemesis: its own)
  std::string kind;              // what happened: crash, restart, partition, heal, restore, ...
  nlohmann::json spec;           // as written
  std::optional<std::vector<std::string>> target;  // resolved node names; nullopt: matched nobody
  std::string note;              // e.g. "nemesis: n1 n2 | n3 n4 n5", "undo: for elapsed"
};

/// A message handed to its addressee's core: recorded only with `--trace-messages`
/// (RunContext::trace_messages), for the message flows of trace.json.
struct MessageRecord {
  Time sent = 0;       // when the sender's step sent it
  Time delivered = 0;  // when the addressee's core received it (after any extra network delay)
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::string kind;  // the protocol's message kind, e.g. "append_entries"
};

/// A safety violation found during the run (recorded, never asserted).
struct ViolationRecord {
  Time time = 0;
  std::vector<std::string> nodes;
  std::string check;   // e.g. "raft.safety/election_safety"
  std::string detail;  // one sentence a reader can follow
  nlohmann::json data; // term, index, ...
};

struct RunRecord {
  std::vector<NodeInfo> nodes;  // servers first, then clients, by NodeId
  std::vector<EventRecord> events;
  std::vector<HistoryEntry> history;
  std::vector<FaultRecord> faults;
  std::vector<ViolationRecord> violations;
  std::vector<MessageRecord> messages;  // delivered messages, in delivery order; empty unless traced
  std::map<std::string, std::int64_t> messages_sent;  // per message kind
  /// Messages sent per kind per kMessageBucket of simulated time (element i counts the sends in
  /// [i, i + 1) × kMessageBucket): rates over time without one timestamp per message. 4 bytes
  /// per kind per 10 ms, about 10 MB for an hour of 7 kinds.
  static constexpr Duration kMessageBucket = 10 * kMillisecond;
  std::map<std::string, std::vector<std::uint32_t>> messages_sent_per_bucket;
  std::int64_t messages_dropped = 0;
  std::int64_t messages_duplicated = 0;
  Time end_time = 0;
  bool stopped_early = false;  // stop_when held before `duration`

  const std::string& name(NodeId id) const { return nodes.at(static_cast<std::size_t>(id)).name; }
  /// Counts one message of `kind` handed to the transport at `now`.
  void count_sent(const std::string& kind, Time now) {
    ++messages_sent[kind];
    auto& buckets = messages_sent_per_bucket[kind];
    const auto i = static_cast<std::size_t>(now / kMessageBucket);
    if (buckets.size() <= i) buckets.resize(i + 1, 0);
    ++buckets[i];
  }
};

}  // namespace faultline
