// Helpers for unit tests that drive one raft::Node (or raft::Client) by hand: build nodes from
// crafted persistent state, feed messages, and look at what came out.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "protocols/raft/client.hpp"
#include "protocols/raft/config.hpp"
#include "protocols/raft/messages.hpp"
#include "protocols/raft/node.hpp"

namespace faultline::testing {

inline raft::Config test_config() {
  raft::Config c;
  c.election_timeout = {150 * kMillisecond, 300 * kMillisecond};
  c.heartbeat_interval = 50 * kMillisecond;
  c.max_entries_per_append = 64;
  return c;
}

inline std::vector<NodeId> server_list(int n) {
  std::vector<NodeId> ids;
  for (NodeId id = 0; id < n; ++id) ids.push_back(id);
  return ids;
}

inline raft::Command put(std::string key, std::string value, std::int64_t client_id = -1,
                         std::int64_t seq = 0) {
  raft::Command c;
  c.op = raft::Command::Op::Put;
  c.key = std::move(key);
  c.value = std::move(value);
  c.client_id = client_id;
  c.seq = seq;
  return c;
}

/// A log with one put per entry, of the given terms; values tell entries apart ("t3i7").
inline std::vector<raft::LogEntry> log_with_terms(const std::vector<std::uint64_t>& terms,
                                                  const std::string& tag = "") {
  std::vector<raft::LogEntry> log;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    log.push_back(raft::LogEntry{
        terms[i], put("x", tag + "t" + std::to_string(terms[i]) + "i" + std::to_string(i + 1))});
  }
  return log;
}

inline raft::PersistentState stored(std::uint64_t current_term, std::vector<raft::LogEntry> log,
                                    NodeId voted_for = kNoNode) {
  raft::PersistentState ps;
  ps.current_term = current_term;
  ps.voted_for = voted_for;
  ps.log = std::move(log);
  return ps;
}

inline raft::Node make_node(NodeId id, int servers, const raft::PersistentState& ps = {},
                            Time now = 0, raft::Config config = test_config(),
                            std::uint64_t seed = 7) {
  return raft::Node(id, server_list(servers), config,
                    Rng(seed).fork("node/n" + std::to_string(id + 1)), ps, now);
}

inline Envelope<raft::Message> from(NodeId sender, NodeId to, raft::Message msg) {
  return Envelope<raft::Message>{sender, to, std::move(msg)};
}

/// Delivers one message to `node` by hand and checks its local invariants afterwards.
inline raft::Node::Out step(raft::Node& node, NodeId sender, raft::Message msg, Time now = 0) {
  raft::Node::Out out;
  node.step(from(sender, node.id(), std::move(msg)), now, out);
  node.check_invariants();
  return out;
}

/// Fires `node`'s timers due at `now` and checks its local invariants afterwards.
inline raft::Node::Out tick(raft::Node& node, Time now) {
  raft::Node::Out out;
  node.tick(now, out);
  node.check_invariants();
  return out;
}

/// Applies a step's persist ops to `storage`, as the adapter does.
inline void persist_into(raft::PersistentState& storage, const raft::Node::Out& out) {
  for (const auto& op : out.persist) storage.apply(op);
}

/// The messages of type M in an outbox, with their addressees.
template <class M>
std::vector<std::pair<NodeId, M>> sent(const raft::Node::Out& out) {
  std::vector<std::pair<NodeId, M>> found;
  for (const auto& s : out.sends) {
    if (const auto* m = std::get_if<M>(&s.msg)) found.emplace_back(s.to, *m);
  }
  return found;
}

inline bool has_event(const raft::Node::Out& out, const std::string& kind) {
  return std::any_of(out.events.begin(), out.events.end(),
                     [&](const TraceEvent& e) { return e.kind == kind; });
}

/// Makes `node` leader of current_term + 1: its election timer fires, every peer grants its
/// vote. Returns the outbox of the winning step (the Noop and the first AppendEntries).
inline raft::Node::Out elect(raft::Node& node, Time now = 0) {
  raft::Node::Out out;
  node.control(raft::Control::Elect, now, out);
  for (NodeId peer : node.servers()) {
    if (peer == node.id() || node.role() == raft::Role::Leader) continue;
    out.clear();
    node.step(from(peer, node.id(), raft::RequestVoteReply{node.current_term(), true}), now, out);
  }
  return out;
}

}  // namespace faultline::testing
