#include "protocols/raft/monitor.hpp"

#include <algorithm>

namespace faultline::raft {
namespace {

std::string describe(const Command& c) {
  std::string s = op_name(c.op);
  if (c.op == Command::Op::Noop) return s;
  s += " " + c.key;
  if (c.op == Command::Op::Cas) s += " " + c.expected + "->";
  if (c.op != Command::Op::Get) s += (c.op == Command::Op::Cas ? "" : "=") + c.value;
  s += " (client " + std::to_string(c.client_id) + " seq " + std::to_string(c.seq) + ")";
  return s;
}



}  // namespace

void SafetyMonitor::observe(const Node& node, const std::vector<TraceEvent>& events, Time now) {
  PerNode& seen = nodes_[node.id()];
  for (const TraceEvent& e : events) {
    if (e.kind == "log_truncated") {
      const auto from = e.fields.at("from_index").get<std::uint64_t>();
      seen.log_seen = std::min(seen.log_seen, from - 1);
    } else if (e.kind == "snapshot_installed" && !e.fields.at("log_retained").get<bool>()) {
      // Figure 13 step 8: the whole log was discarded, entries past the snapshot included.
      seen.log_seen =
          std::min(seen.log_seen, e.fields.at("last_included_index").get<std::uint64_t>());
    }
  }
  // A restart without on_crash: the recovered log may be shorter than what we saw.
  seen.log_seen = std::min<std::uint64_t>(seen.log_seen, node.last_log_index());
  record_log(node, seen, now);

  // commit_index restarts after a crash (volatile, Figure 2), from the snapshot's last index.
  if (node.commit_index() < seen.commit_seen) seen.commit_seen = node.commit_index();
  record_commits(node, seen, now);

  for (const TraceEvent& e : events) {
    if (e.kind == "became_leader") {
      check_leader(node, e.fields.at("term").get<std::uint64_t>(), now);
    } else if (e.kind == "applied") {
      check_applied(node, e.fields, now);
    } else if (e.kind == "snapshot" || e.kind == "snapshot_installed") {
      check_snapshot(node, e.fields, now);
    }
  }
}

void SafetyMonitor::on_crash(NodeId node, Time /*now*/) {
  // Re-read the whole recovered log once on restart (what was not persisted is gone).
  nodes_[node] = PerNode{};
}

// Log Matching (§5.3): "If two entries in different logs have the same index and term, then they
// store the same command" and "the logs are identical in all preceding entries". The second part
// is checked one link at a time: same (index, term) => same term at index - 1; by induction over
// indices that covers whole prefixes.
//
// Indices are absolute. Entries a snapshot has discarded (§7) are not read again: they are
// committed, and were checked while they were in some log (an entry committed and compacted in
// the same step on one server was appended by its leader in an earlier step, and seen there).
void SafetyMonitor::record_log(const Node& node, PerNode& seen, Time now) {
  const std::uint64_t first = std::max(seen.log_seen, node.snapshot_index()) + 1;
  for (std::uint64_t index = first; index <= node.last_log_index(); ++index) {
    const LogEntry& entry = node.entry(index);
    // The snapshot's last included term stands for the discarded entry before the log.
    const std::uint64_t prev_term = node.term_at(index - 1);
    auto [it, inserted] =
        entries_.try_emplace({index, entry.term}, EntryRecord{entry.command, prev_term, node.id()});
    if (inserted) continue;
    const EntryRecord& first = it->second;
    if (first.command != entry.command) {
      report(now, {first.holder, node.id()}, "log_matching",
             node_name(first.holder) + " and " + node_name(node.id()) +
                 " hold different entries at index " + std::to_string(index) + " term " +
                 std::to_string(entry.term) + ": " + describe(first.command) + " vs " +
                 describe(entry.command),
             entry.term, index, {"log_matching", entry.term, 0, 0});
    } else if (first.prev_term != prev_term) {
      report(now, {first.holder, node.id()}, "log_matching",
             "entry at index " + std::to_string(index) + " term " + std::to_string(entry.term) +
                 " follows term " + std::to_string(first.prev_term) + " on " +
                 node_name(first.holder) + " but term " + std::to_string(prev_term) + " on " +
                 node_name(node.id()),
             entry.term, index, {"log_matching", entry.term, 0, 0});
    }
  }
  seen.log_seen = node.last_log_index();
}

void SafetyMonitor::record_commits(const Node& node, PerNode& seen, Time now) {
  // Indices up to the snapshot were committed where the snapshot was taken (and recorded
  // there); check_snapshot compares the snapshot's last included entry with that record.
  const std::uint64_t first = std::max(seen.commit_seen, node.snapshot_index()) + 1;
  for (std::uint64_t index = first; index <= node.commit_index(); ++index) {
    const std::uint64_t term = node.term_at(index);
    auto [it, inserted] =
        committed_.try_emplace(index, CommitRecord{term, node.current_term(), node.id()});
    if (!inserted && it->second.term != term) {
      const auto [lo, hi] = std::minmax(it->second.term, term);
      report(now, {it->second.reporter, node.id()}, "state_machine_safety",
             "different entries committed at index " + std::to_string(index) + ": term " +
                 std::to_string(it->second.term) + " on " + node_name(it->second.reporter) +
                 ", term " + std::to_string(term) + " on " + node_name(node.id()),
             hi, index, {"state_machine_safety", lo, hi, 0});
    }
  }
  seen.commit_seen = node.commit_index();
}

void SafetyMonitor::check_leader(const Node& node, std::uint64_t term, Time now) {
  // Election Safety (§5.2): "at most one leader can be elected in a given term".
  auto [it, inserted] = leaders_.try_emplace(term, node.id());
  if (!inserted && it->second != node.id()) {
    report(now, {it->second, node.id()}, "election_safety",
           node_name(it->second) + " and " + node_name(node.id()) + " are both leaders of term " +
               std::to_string(term),
           term, 0, {"election_safety", term, 0, 0});
  }
  // Leader Completeness (§5.4): "If a log entry is committed in a given term, then that entry
  // will be present in the logs of the leaders for all higher-numbered terms."
  for (const auto& [index, c] : committed_) {
    if (c.commit_term >= term) continue;
    // Committed entries inside the new leader's snapshot are in its state (check_snapshot
    // verified the snapshot's last included entry against the committed record).
    if (index <= node.snapshot_index()) continue;
    if (index <= node.last_log_index() && node.term_at(index) == c.term) continue;
    report(now, {node.id(), c.reporter}, "leader_completeness",
           node_name(node.id()) + " became leader of term " + std::to_string(term) +
               " without entry " + std::to_string(index) + " (term " + std::to_string(c.term) +
               ") committed in term " + std::to_string(c.commit_term) + " on " +
               node_name(c.reporter),
           term, index, {"leader_completeness", term, 0, 0});
    break;  // one record per election
  }
}

void SafetyMonitor::check_applied(const Node& node, const nlohmann::json& f, Time now) {
  // State Machine Safety (§5.4.3): "if a server has applied a log entry at a given index to its
  // state machine, no other server will ever apply a different log entry for the same index."
  const auto index = f.at("index").get<std::uint64_t>();
  const auto term = f.at("term").get<std::uint64_t>();
  // The applied entry is in the node's log (applied entries are committed, never truncated):
  // compare whole commands. If a snapshot taken in the same step has already discarded it,
  // the command as first recorded from a log at (index, term); the event's own fields are the
  // last fallback.
  std::string fingerprint = "term " + std::to_string(term) + " ";
  const auto recorded = entries_.find({index, term});
  if (index > node.snapshot_index() && index <= node.last_log_index() &&
      node.term_at(index) == term) {
    fingerprint += describe(node.entry(index).command);
  } else if (recorded != entries_.end()) {
    fingerprint += describe(recorded->second.command);
  } else {
    fingerprint += f.at("op").get<std::string>() + " " + f.at("key").get<std::string>() +
                   " (client " + std::to_string(f.at("client_id").get<std::int64_t>()) + " seq " +
                   std::to_string(f.at("seq").get<std::int64_t>()) + ")";
  }
  auto [it, inserted] = applied_.try_emplace(
      index, ApplyRecord{term, fingerprint, node.id(), f.at("client_id").get<std::int64_t>(),
                         f.at("seq").get<std::int64_t>()});
  if (!inserted && it->second.fingerprint != fingerprint) {
    const auto [lo, hi] = std::minmax(it->second.term, term);
    report(now, {it->second.node, node.id()}, "state_machine_safety",
           "index " + std::to_string(index) + " applied as " + it->second.fingerprint + " on " +
               node_name(it->second.node) + " but as " + fingerprint + " on " +
               node_name(node.id()),
           hi, index, {"state_machine_safety", lo, hi, 0});
  }
}

void SafetyMonitor::check_snapshot(const Node& node, const nlohmann::json& f, Time now) {
  // A snapshot (taken, or installed from the leader) stands for the committed entries up to its
  // last included index (§7): that entry must be the one committed at that index. Everything
  // before it follows by Log Matching, checked while those entries were in the logs.
  const auto index = f.at("last_included_index").get<std::uint64_t>();
  const auto term = f.at("last_included_term").get<std::uint64_t>();
  const auto it = committed_.find(index);
  if (it == committed_.end() || it->second.term == term) return;
  const auto [lo, hi] = std::minmax(it->second.term, term);
  report(now, {it->second.reporter, node.id()}, "state_machine_safety",
         node_name(node.id()) + " holds a snapshot whose last entry " + std::to_string(index) +
             " has term " + std::to_string(term) + ", but term " +
             std::to_string(it->second.term) + " was committed there on " +
             node_name(it->second.reporter),
         hi, index, {"state_machine_safety", lo, hi, 0});
}

std::string SafetyMonitor::node_name(NodeId id) const {
  if (id >= 0 && static_cast<std::size_t>(id) < names_.size()) return names_[static_cast<std::size_t>(id)];
  return "node " + std::to_string(id);
}

void SafetyMonitor::check_no_lost_writes(const std::vector<AckedWrite>& acked,
                                         const std::vector<const PersistentState*>& logs,
                                         Time now) {
  if (logs.empty()) return;
  // An acknowledged write was committed, so it sits in a majority of the servers' (persisted)
  // logs and, by Leader Completeness (§5.4), in the log of every later leader: it is part of
  // the final state even if no live server has applied it yet (a leader may commit, answer
  // and crash before any follower hears the new commit_index). Fewer copies than a majority
  // means it can be, or has been, overwritten: the write is lost.
  //
  // With log compaction (§7) a server's state is its snapshot plus its log: a write applied at
  // an index its snapshot covers is part of the snapshot's state machine. The applied records
  // say which write each index holds (State Machine Safety checked they agree everywhere).
  std::map<std::pair<std::int64_t, std::int64_t>, std::size_t> copies;  // (client_id, seq) ->
  for (const PersistentState* state : logs) {
    std::set<std::pair<std::int64_t, std::int64_t>> here;
    const std::uint64_t covered = state->snapshot.last_included_index;
    for (auto a = applied_.begin(); a != applied_.end() && a->first <= covered; ++a)
      if (a->second.client_id >= 0) here.insert({a->second.client_id, a->second.seq});
    for (const LogEntry& e : state->log)
      if (e.command.client_id >= 0) here.insert({e.command.client_id, e.command.seq});
    for (const auto& k : here) ++copies[k];
  }
  const std::size_t majority = logs.size() / 2 + 1;
  // One record per client: a broken variant typically loses a whole run of writes at once.
  struct Lost {
    std::size_t count = 0;
    std::string examples;
  };
  std::map<std::int64_t, Lost> lost;  // client_id ->
  constexpr std::size_t kExamples = 3;
  for (const AckedWrite& w : acked) {
    const auto it = copies.find({w.client_id, w.seq});
    const std::size_t n = it == copies.end() ? 0 : it->second;
    if (n >= majority) continue;
    Lost& l = lost[w.client_id];
    if (l.count++ < kExamples) {
      l.examples += (l.examples.empty() ? "" : ", ") + w.f + " " + w.key + " " + w.value +
                    " (seq " + std::to_string(w.seq) + ", in " + std::to_string(n) + " log(s))";
    }
  }
  for (const auto& [client_id, l] : lost) {
    // client_id is the client's node id plus its incarnation in the high 32 bits.
    const auto client = static_cast<NodeId>(client_id & 0xffffffff);
    report(now, {client}, "no_lost_write",
           std::to_string(l.count) + " acknowledged write(s) of " + node_name(client) +
               " are in fewer than a majority (" + std::to_string(majority) + ") of the " +
               std::to_string(logs.size()) + " servers' logs: " + l.examples +
               (l.count > kExamples ? ", ..." : ""),
           0, 0, {"no_lost_write", static_cast<std::uint64_t>(client_id), 0, 0});
  }
}

void SafetyMonitor::report(Time now, std::vector<NodeId> nodes, const std::string& check,
                           std::string detail, std::uint64_t term, std::uint64_t index,
                           const BreachKey& key) {
  if (!reported_.insert(key).second) return;
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  Violation v;
  v.time = now;
  v.nodes = std::move(nodes);
  v.check = check;
  v.detail = std::move(detail);
  v.term = term;
  v.index = index;
  violations_.push_back(std::move(v));
}

}  // namespace faultline::raft
