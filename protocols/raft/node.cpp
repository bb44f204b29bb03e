#include "protocols/raft/node.hpp"

#include <algorithm>
#include <functional>
#include <string>

#include "protocols/raft/check.hpp"

namespace faultline::raft {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::Follower:
      return "follower";
    case Role::Candidate:
      return "candidate";
    case Role::Leader:
      return "leader";
  }
  return "?";
}

namespace {

std::uint32_t bug_mask_of(const Config& config) {
  std::uint32_t mask = 0;
  for (const std::string& name : config.bugs) {
    const auto& names = bug_names();
    const auto it = std::find(names.begin(), names.end(), name);
    RAFT_CHECK(it != names.end(), "unknown raft bug '" + name + "' (the loader validates bugs)");
    mask |= 1u << static_cast<unsigned>(it - names.begin());
  }
  return mask;
}

}  // namespace

Node::Node(NodeId id, std::vector<NodeId> servers, const Config& config, Rng rng,
           const PersistentState& recovered, Time now)
    : id_(id),
      servers_(std::move(servers)),
      config_(config),
      bug_mask_(bug_mask_of(config)),
      rng_(rng),
      state_(recovered),
      kv_(/*ignore_sessions=*/bug(Bug::NoDedup)) {
  RAFT_CHECK(std::is_sorted(servers_.begin(), servers_.end()) &&
                 std::adjacent_find(servers_.begin(), servers_.end()) == servers_.end(),
             "servers must be sorted and distinct");
  RAFT_CHECK(std::binary_search(servers_.begin(), servers_.end(), id_),
             "server " + std::to_string(id_) + " is not in its own server list");
  RAFT_CHECK(
      config_.election_timeout.lo > 0 && config_.election_timeout.lo <= config_.election_timeout.hi,
      "election_timeout must be a non-empty positive range");
  RAFT_CHECK(config_.heartbeat_interval > 0, "heartbeat_interval must be positive");
  RAFT_CHECK(config_.max_entries_per_append >= 1, "max_entries_per_append must be at least 1");
  RAFT_CHECK(config_.max_inflight_appends >= 1, "max_inflight_appends must be at least 1");
  RAFT_CHECK(config_.snapshot_threshold >= 0, "snapshot_threshold must not be negative");
  // §7: a snapshot holds committed entries only, so a recovering server's state machine starts
  // from it and its commit index at its last included index; the log after it is re-applied
  // as the leader's commit index arrives.
  if (snapshot_index() > 0) {
    kv_.restore(state_.snapshot.state);
    commit_index_ = last_applied_ = snapshot_index();
  }
  // Every server starts (and restarts) as a follower with a fresh election timer (§5.2).
  reset_election_timer(now);
}

// ------------------------------------------------------------------------------------------
// Entry points

void Node::step(const Envelope<Message>& in, Time now, Out& out) {
  const Message& msg = in.msg;
  if (const auto* m = std::get_if<RequestVote>(&msg)) {
    on_request_vote(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<RequestVoteReply>(&msg)) {
    on_request_vote_reply(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<AppendEntries>(&msg)) {
    on_append_entries(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<AppendEntriesReply>(&msg)) {
    on_append_entries_reply(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<ClientRequest>(&msg)) {
    on_client_request(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<InstallSnapshot>(&msg)) {
    on_install_snapshot(in.from, *m, now, out);
  } else if (const auto* m = std::get_if<InstallSnapshotReply>(&msg)) {
    on_install_snapshot_reply(in.from, *m, now, out);
  }
  // A ClientReply addressed to a server is meaningless: ignored.
}

void Node::tick(Time now, Out& out) {
  if (role_ != Role::Leader && election_deadline_ <= now) {
    // §5.2: "If a follower receives no communication over a period of time called the election
    // timeout, then it assumes there is no viable leader and begins an election."
    out.emit("election_timeout", {{"term", state_.current_term}});
    start_election(now, out);
  }
  if (role_ == Role::Leader && heartbeat_deadline_ <= now) {
    // §5.2: leaders send periodic heartbeats to maintain their authority.
    heartbeat_deadline_ = now + config_.heartbeat_interval;
    for (const auto& [peer, p] : progress_) heartbeat(peer, out);
  }
}

Time Node::next_deadline() const {
  return role_ == Role::Leader ? heartbeat_deadline_ : election_deadline_;
}

void Node::control(Control c, Time now, Out& out) {
  switch (c) {
    case Control::Elect:
      // A leader has no election timer to fire.
      if (role_ == Role::Leader) return;
      out.emit("election_timeout", {{"term", state_.current_term}, {"forced", true}});
      start_election(now, out);
      return;
    case Control::Heartbeat:
      if (role_ != Role::Leader) return;
      out.emit("heartbeat_broadcast", {{"term", state_.current_term}, {"forced", true}});
      heartbeat_deadline_ = now + config_.heartbeat_interval;
      for (const auto& [peer, p] : progress_) heartbeat(peer, out);
      return;
  }
}

std::uint64_t Node::next_index(NodeId peer) const {
  auto it = progress_.find(peer);
  return it == progress_.end() ? 0 : it->second.next_index;
}

std::uint64_t Node::match_index(NodeId peer) const {
  auto it = progress_.find(peer);
  return it == progress_.end() ? 0 : it->second.match_index;
}

// ------------------------------------------------------------------------------------------
// RequestVote (§5.2, §5.4.1)

void Node::on_request_vote(NodeId from, const RequestVote& m, Time now, Out& out) {
  if (m.term > state_.current_term) observe_term(m.term, from, "request_vote", now, out);

  bool grant = false;
  if (m.term == state_.current_term &&
      (state_.voted_for == kNoNode || state_.voted_for == m.candidate_id) &&
      // §5.4.1 election restriction: vote only for a candidate whose log is at least as
      // up-to-date as ours, so that any leader holds every committed entry.
      //
      // BUG no_election_restriction (teaching variant, off by default): the up-to-date check is
      // skipped, so a candidate missing committed entries can win. Violates §5.4.1 ("the voter
      // denies its vote if its own log is more up-to-date than that of the candidate") and so
      // Leader Completeness (§5.4, Figure 3): the new leader overwrites committed entries on
      // its followers (they truncate below commit_index, see on_append_entries).
      (bug(Bug::NoElectionRestriction) ||
       candidate_log_up_to_date(m.last_log_index, m.last_log_term))) {
    grant = true;
    if (state_.voted_for != m.candidate_id) {
      // The vote goes to stable storage before the reply leaves (Figure 2: persistent state is
      // "updated on stable storage before responding to RPCs"); otherwise a crash and restart
      // could vote twice in one term and elect two leaders.
      set_term_vote(state_.current_term, m.candidate_id, out);
      out.emit("vote_granted", {{"term", state_.current_term}, {"candidate", m.candidate_id}});
    }
    // Figure 2 (Followers): granting a vote restarts the election timeout.
    reset_election_timer(now);
  }
  Message reply = RequestVoteReply{state_.current_term, grant};
  const auto size = wire_size(reply);
  out.send(from, std::move(reply), size);
}

void Node::on_request_vote_reply(NodeId from, const RequestVoteReply& m, Time now, Out& out) {
  if (m.term > state_.current_term) {
    observe_term(m.term, from, "request_vote_reply", now, out);
    return;
  }
  // Replies from an earlier election, or arriving after the election was decided, are stale.
  if (role_ != Role::Candidate || m.term != state_.current_term || !m.vote_granted) return;
  votes_granted_.insert(from);
  // §5.2: "A candidate wins an election if it receives votes from a majority of the servers in
  // the full cluster for the same term."
  if (votes_granted_.size() >= majority()) become_leader(now, out);
}

bool Node::candidate_log_up_to_date(std::uint64_t last_log_index,
                                    std::uint64_t last_log_term) const {
  // §5.4.1: "If the logs have last entries with different terms, then the log with the later
  // term is more up-to-date. If the logs end with the same term, then whichever log is longer
  // is more up-to-date."
  if (last_log_term != this->last_log_term()) return last_log_term > this->last_log_term();
  return last_log_index >= this->last_log_index();
}

// ------------------------------------------------------------------------------------------
// AppendEntries, receiver side (§5.3)

bool Node::heed_leader(NodeId from, std::uint64_t term, NodeId leader, std::string_view why,
                       Time now, Out& out) {
  const bool first_word = term > state_.current_term || leader_id_ != leader;
  if (term > state_.current_term) observe_term(term, from, why, now, out, leader);
  // §5.1: a stale leader learns the newer term from the reply and steps down.
  if (term < state_.current_term) return false;
  if (role_ == Role::Leader) {
    // Another leader in our own term: impossible in correct Raft (Election Safety). Refuse; the
    // SafetyMonitor records the breach, the core must not crash on it.
    return false;
  }
  // §5.2: "If the leader's term is at least as large as the candidate's current term, then the
  // candidate recognizes the leader as legitimate and returns to follower state."
  if (role_ == Role::Candidate) become_follower("leader_elected", from, now, out);
  if (first_word) {
    // The first word from this term's leader: Figure 16 measures a leader change until every
    // surviving server has heard it (extended paper §9.3).
    out.emit("leader_heard", {{"term", state_.current_term}, {"leader", leader}});
  }
  leader_id_ = leader;
  reset_election_timer(now);
  return true;
}

void Node::send(NodeId to, Message msg, Out& out) const {
  const auto size = wire_size(msg);
  out.send(to, std::move(msg), size);
}

void Node::on_append_entries(NodeId from, const AppendEntries& m, Time now, Out& out) {
  AppendEntriesReply reply;
  auto send_reply = [&] {
    reply.term = state_.current_term;
    send(from, reply, out);
  };
  if (!heed_leader(from, m.term, m.leader_id, "append_entries", now, out)) return send_reply();

  // Consistency check (§5.3): our log must contain an entry at prev_log_index whose term is
  // prev_log_term. On failure, say where our log diverges so the leader can skip a whole term
  // per round trip (the §5.3 "optimization" paragraph) instead of one entry.
  if (m.prev_log_index > last_log_index()) {
    reply.conflict_term = 0;
    reply.conflict_index = last_log_index() + 1;
    return send_reply();
  }
  std::size_t i = 0;
  if (m.prev_log_index < snapshot_index()) {
    // prev_log_index lies inside our snapshot (§7): every entry up to snapshot_index() is
    // committed, and by Leader Completeness (§5.4) the leader's log holds the same entries, so
    // the logs match there. The entries the snapshot already covers are skipped.
    i = static_cast<std::size_t>(
        std::min<std::uint64_t>(m.entries.size(), snapshot_index() - m.prev_log_index));
  } else if (term_at(m.prev_log_index) != m.prev_log_term) {
    reply.conflict_term = term_at(m.prev_log_index);
    reply.conflict_index = first_index_of_term(reply.conflict_term);
    return send_reply();
  }

  // Figure 2, AppendEntries receiver step 3: delete an existing entry only if it *conflicts*
  // (same index, different term). Entries that match are kept: a delayed or duplicated
  // AppendEntries must never truncate entries a later one already added (they may be committed).
  for (; i < m.entries.size(); ++i) {
    const std::uint64_t index = m.prev_log_index + 1 + i;
    if (index > last_log_index()) break;
    if (term_at(index) != m.entries[i].term) {
      out.emit("log_truncated", {{"term", state_.current_term},
                                 {"from_index", index},
                                 {"last_log_index", last_log_index()}});
      persist(TruncateLog{index}, out);
      if (index <= commit_index_) {
        // A committed entry conflicts with the leader's log: impossible in correct Raft
        // (Leader Completeness, §5.4), possible in a deliberately broken variant. Not a bug of
        // the simulator, so no abort: the entries at these indices are applied again when they
        // commit, and the SafetyMonitor reports the different commands applied at one index.
        // (The KV store is not rolled back: the state machine has already diverged.)
        commit_index_ = last_applied_ = index - 1;
      }
      break;
    }
  }
  // Step 4: append any new entries not already in the log.
  if (i < m.entries.size()) {
    persist(AppendLog{m.prev_log_index + 1 + i,
                      std::vector<LogEntry>(m.entries.begin() + static_cast<std::ptrdiff_t>(i),
                                            m.entries.end())},
            out);
  }

  // Step 5: commit_index = min(leader_commit, index of last new entry). Entries past the last
  // new one are not known to match the leader's log, so they must not be committed.
  const std::uint64_t last_new_index = m.prev_log_index + m.entries.size();
  const std::uint64_t commit = std::min(m.leader_commit, last_new_index);
  if (commit > commit_index_) set_commit_index(commit, out);

  reply.success = true;
  // Entries up to snapshot_index() are committed here, hence in the leader's log too: the
  // follower's log agrees with the leader's at least that far.
  reply.match_index = std::max(last_new_index, snapshot_index());
  send_reply();
}

// ------------------------------------------------------------------------------------------
// AppendEntries, leader side (§5.3, §5.4.2)

void Node::on_append_entries_reply(NodeId from, const AppendEntriesReply& m, Time now, Out& out) {
  if (m.term > state_.current_term) {
    observe_term(m.term, from, "append_entries_reply", now, out);
    return;
  }
  if (role_ != Role::Leader || m.term != state_.current_term) return;  // stale reply
  auto it = progress_.find(from);
  if (it == progress_.end()) return;  // not a peer
  Progress& p = it->second;

  if (m.success) {
    follower_matched(from, m.match_index, out);
    return;
  }

  // The consistency check failed: back to probing. Fast backtracking (§5.3 "optimization"): if
  // we hold entries of the conflicting term, resume after our last one; otherwise skip
  // everything the follower stores for that term.
  std::uint64_t next = m.conflict_index;
  if (m.conflict_term != 0) {
    const std::uint64_t last_of_term = last_index_of_term(m.conflict_term);
    if (last_of_term != 0) next = last_of_term + 1;
  }
  // Never back up over entries the follower is known to hold, never past our own log.
  p.next_index = std::clamp(next, p.match_index + 1, last_log_index() + 1);
  p.replicating = false;
  p.inflight.clear();
  if (p.next_index <= snapshot_index()) {
    // The follower needs entries we have compacted away (§7).
    send_snapshot(from, out);
    return;
  }
  // Retry at once (an empty AppendEntries if next_index is past our log: it probes prev).
  p.inflight.push_back(send_append_entries(from, p.next_index - 1, true, out));
}

void Node::follower_matched(NodeId peer, std::uint64_t match_index, Out& out) {
  Progress& p = progress_.at(peer);
  // match_index only grows (Figure 2); a reordered, older reply must not lower it.
  p.match_index = std::max(p.match_index, std::min(match_index, last_log_index()));
  p.next_index = std::max(p.next_index, p.match_index + 1);
  while (!p.inflight.empty() && p.inflight.front() <= match_index) p.inflight.pop_front();
  // The follower's log is now known to match ours up to next_index - 1: pipeline from here.
  if (!p.replicating && p.match_index + 1 == p.next_index) {
    p.replicating = true;
    p.inflight.clear();
  }
  advance_commit_index(out);
  replicate(peer, out);
}

std::uint64_t Node::send_append_entries(NodeId peer, std::uint64_t prev, bool with_entries,
                                        Out& out) {
  // Entries before the snapshot are gone: a request must start at or after it. (Index 0, the
  // sentinel, always matches: keep-alives to a peer whose progress lies inside the snapshot
  // use it.)
  RAFT_CHECK(prev == 0 || prev >= snapshot_index(),
             "AppendEntries after index " + std::to_string(prev) + ", inside the snapshot (" +
                 std::to_string(snapshot_index()) + ")");
  AppendEntries ae;
  ae.term = state_.current_term;
  ae.leader_id = id_;
  ae.prev_log_index = prev;
  ae.prev_log_term = prev < snapshot_index() ? 0 : term_at(prev);
  ae.leader_commit = commit_index_;
  if (with_entries) {
    RAFT_CHECK(prev >= snapshot_index(), "entries to send were compacted away");
    const std::uint64_t last = std::min<std::uint64_t>(
        last_log_index(), prev + static_cast<std::uint64_t>(config_.max_entries_per_append));
    const std::uint64_t offset = snapshot_index();
    ae.entries.assign(state_.log.begin() + static_cast<std::ptrdiff_t>(prev - offset),
                      state_.log.begin() + static_cast<std::ptrdiff_t>(last - offset));
  }
  const std::uint64_t covered = prev + ae.entries.size();
  Message msg = std::move(ae);
  const auto size = wire_size(msg);
  out.send(peer, std::move(msg), size);
  return covered;
}

void Node::replicate(NodeId peer, Out& out) {
  Progress& p = progress_.at(peer);
  // Probing: one AppendEntries at a time. Replicating: a window of them, so that one round trip
  // does not cap throughput and a lost batch is noticed when the next one is rejected.
  const std::size_t window =
      p.replicating ? static_cast<std::size_t>(config_.max_inflight_appends) : 1;
  while (p.inflight.size() < window && p.next_index <= last_log_index()) {
    if (p.next_index <= snapshot_index()) {
      // §7: "the leader must occasionally send snapshots to followers that lag behind" -- the
      // next entry it needs was discarded. One snapshot at a time, once the batches already in
      // flight are answered.
      if (p.inflight.empty()) send_snapshot(peer, out);
      break;
    }
    const std::uint64_t covered = send_append_entries(peer, p.next_index - 1, true, out);
    p.inflight.push_back(covered);
    if (!p.replicating) break;  // probing: next_index moves only when the reply comes
    p.next_index = covered + 1;
  }
}

void Node::heartbeat(NodeId peer, Out& out) {
  Progress& p = progress_.at(peer);
  const bool lost = !p.inflight.empty() && p.lost_mark && p.inflight.front() <= *p.lost_mark;
  if (lost) {
    // Unanswered for a whole heartbeat interval: presumed lost. Probe again from what the
    // follower is known to hold.
    p.inflight.clear();
    if (p.replicating) {
      p.replicating = false;
      p.next_index = p.match_index + 1;
    }
  }
  if (p.inflight.empty()) {
    if (p.next_index <= last_log_index() && !lost) {
      replicate(peer, out);
    } else {
      // Nothing new, or what was in flight went unanswered for a whole interval (the follower
      // may be down, or entries are being lost on the way): an empty AppendEntries (§5.2)
      // probing next_index - 1, rather than a full batch every heartbeat. A follower whose
      // entries keep getting lost still hears every heartbeat, so its timer stays reset.
      // When that index was compacted away (the unanswered probe was a snapshot), the probe
      // is at the sentinel index 0, which always matches; the reply brings the snapshot again.
      const std::uint64_t prev = p.next_index - 1 >= snapshot_index() ? p.next_index - 1 : 0;
      p.inflight.push_back(send_append_entries(peer, prev, false, out));
    }
  } else {
    // Batches are in flight (sent since the previous heartbeat): a keep-alive at match_index,
    // which the follower holds, so reordering cannot turn it into a spurious rejection (at the
    // sentinel index 0 if match_index was compacted away).
    send_append_entries(peer, p.match_index >= snapshot_index() ? p.match_index : 0, false, out);
  }
  p.lost_mark.reset();
  if (!p.inflight.empty()) p.lost_mark = p.inflight.back();
}

std::uint64_t Node::append_as_leader(Command command, Out& out) {
  const std::uint64_t index = last_log_index() + 1;
  persist(AppendLog{index, {LogEntry{state_.current_term, std::move(command)}}}, out);
  return index;
}

void Node::advance_commit_index(Out& out) {
  if (role_ != Role::Leader) return;
  // The highest index stored on a majority (the leader counts its own log).
  std::vector<std::uint64_t> matches;
  matches.reserve(servers_.size());
  matches.push_back(last_log_index());
  for (const auto& [peer, p] : progress_) matches.push_back(p.match_index);
  std::sort(matches.begin(), matches.end(), std::greater<>());
  const std::uint64_t n = matches[majority() - 1];
  // §5.4.2 (Figure 8): "Raft never commits log entries from previous terms by counting
  // replicas. Only log entries from the leader's current term are committed by counting";
  // earlier entries are then committed indirectly by the Log Matching Property.
  //
  // BUG commit_old_term_by_count (teaching variant, off by default): commit N by counting even
  // when log[N] is from an earlier term. Violates §5.4.2 (the Figure 8 rule): a server whose
  // last entry has a term between that entry's and ours can still be elected (§5.4.1 lets it)
  // and overwrite the "committed" entry, breaking Leader Completeness and State Machine Safety.
  if (n > commit_index_ &&
      (term_at(n) == state_.current_term || bug(Bug::CommitOldTermByCount))) {
    set_commit_index(n, out);
  } else if (n > commit_index_ && n > deferred_reported_) {
    // An entry of an earlier term is on a majority but must wait for a current-term entry
    // above it: the moment Figure 8 is about. Reported once per index for the teaching trace.
    deferred_reported_ = n;
    out.emit("commit_deferred",
             {{"term", state_.current_term}, {"index", n}, {"entry_term", term_at(n)}});
  }
}

// ------------------------------------------------------------------------------------------
// Client requests (§8)

void Node::on_client_request(NodeId from, const ClientRequest& m, Time /*now*/, Out& out) {
  if (role_ != Role::Leader) {
    // §8: "If the client contacts a follower, the follower will reject the client's request and
    // supply information about the most recent leader it has heard from."
    reply_not_leader(from, m.client_id, m.seq, out);
    return;
  }
  // BUG stale_leader_reads (teaching variant, off by default): a get is answered at once from
  // this server's state machine, without a log entry and without checking that it still leads.
  // Violates §8: "a leader must check whether it has been deposed before processing a
  // read-only request (its information may be stale if a more recent leader has been
  // elected)". A deposed leader that has not heard of its successor (cut off with a client)
  // returns values the majority has since overwritten: a stale read, not linearizable.
  if (bug(Bug::StaleLeaderReads) && m.command.op == Command::Op::Get) {
    reply_ok_now(from, m.client_id, m.seq, kv_.preview(m.command), out);
    return;
  }
  // At-most-once (§8): an already executed (client_id, seq) gets its remembered result, never a
  // second execution.
  if (const KvStore::Result* r = kv_.remembered(m.client_id, m.seq)) {
    ClientReply reply{m.client_id, m.seq, ClientReply::Status::Ok, id_, r->value, r->cas_matched};
    Message msg = std::move(reply);
    const auto size = wire_size(msg);
    out.send(from, std::move(msg), size);
    return;
  }
  // Below the client's ack_below and forgotten: the client has moved on and waits for nothing.
  if (kv_.stale(m.client_id, m.seq)) return;
  // Already in our log but not applied yet (a retry): wait for that entry instead of appending
  // the command twice. (Dedup at apply would keep at-most-once anyway; this saves log space.)
  if (auto it = pending_index_.find({m.client_id, m.seq}); it != pending_index_.end()) {
    if (bug(Bug::ReplyBeforeCommit)) {  // see the BUG comment below: answered, not awaited
      reply_ok_now(from, m.client_id, m.seq, kv_.preview(m.command), out);
      return;
    }
    waiters_[it->second] = Waiter{from, m.client_id, m.seq};
    return;
  }

  Command command = m.command;
  command.client_id = m.client_id;
  command.seq = m.seq;
  command.ack_below = m.ack_below;
  const std::uint64_t index = append_as_leader(std::move(command), out);
  pending_index_[{m.client_id, m.seq}] = index;
  if (bug(Bug::ReplyBeforeCommit)) {
    // BUG reply_before_commit (teaching variant, off by default): the client is told Ok as
    // soon as the entry is in the leader's log, with the result the command would have on the
    // leader's state machine now, instead of after it is committed and applied. Violates §8
    // and Figure 2 (Rules for Servers, Leaders: "respond after entry applied to state
    // machine"): a leader cut off from the majority acknowledges writes that are later
    // overwritten (§5.3), and answers reads from a state machine that may lag the cluster.
    reply_ok_now(from, m.client_id, m.seq, kv_.preview(m.command), out);
  } else {
    waiters_[index] = Waiter{from, m.client_id, m.seq};
  }
  // Replicate promptly rather than at the next heartbeat (as far as each peer's flow control
  // allows; the rest is batched into the AppendEntries sent when replies come back).
  for (const auto& [peer, p] : progress_) replicate(peer, out);
  advance_commit_index(out);  // a single-server cluster commits at once
}

void Node::reply_ok_now(NodeId client, std::int64_t client_id, std::int64_t seq,
                        const KvStore::Result& result, Out& out) const {
  ClientReply reply{client_id, seq, ClientReply::Status::Ok, id_, result.value, result.cas_matched};
  Message msg = std::move(reply);
  const auto size = wire_size(msg);
  out.send(client, std::move(msg), size);
}

void Node::reply_not_leader(NodeId client, std::int64_t client_id, std::int64_t seq,
                            Out& out) const {
  ClientReply reply;
  reply.client_id = client_id;
  reply.seq = seq;
  reply.status = ClientReply::Status::NotLeader;
  reply.leader_hint = leader_id_ == id_ ? kNoNode : leader_id_;
  Message msg = std::move(reply);
  const auto size = wire_size(msg);
  out.send(client, std::move(msg), size);
}

// ------------------------------------------------------------------------------------------
// Role changes

void Node::start_election(Time now, Out& out) {
  // §5.2: "To begin an election, a follower increments its current term and transitions to
  // candidate state. It then votes for itself and issues RequestVote RPCs in parallel."
  role_ = Role::Candidate;
  leader_id_ = kNoNode;
  set_term_vote(state_.current_term + 1, id_, out);
  votes_granted_ = {id_};
  out.emit("became_candidate", {{"term", state_.current_term}});
  // A fresh random timeout per election makes split votes unlikely to repeat (§5.2).
  reset_election_timer(now);
  if (votes_granted_.size() >= majority()) {  // a single-server cluster
    become_leader(now, out);
    return;
  }
  Message rv = RequestVote{state_.current_term, id_, last_log_index(), last_log_term()};
  const auto size = wire_size(rv);
  for (NodeId peer : servers_) {
    if (peer != id_) out.send(peer, rv, size);
  }
  // The RequestVotes go out while the new term and self-vote are being written: they are
  // requests, not replies (Figure 2 asks for stable storage before *responding*), and no vote
  // reply is handled before the write is done, the argument of the leader's parallel write
  // (thesis §10.2.1). One disk write, the voter's, stays on the election's critical path
  // (docs/reproductions/raft.md discusses the choice against Figure 16).
  out.send_while_persisting = true;
}

void Node::become_leader(Time now, Out& out) {
  role_ = Role::Leader;
  leader_id_ = id_;
  votes_granted_.clear();
  deferred_reported_ = 0;
  election_deadline_ = kNever;
  out.emit("became_leader", {{"term", state_.current_term}, {"last_log_index", last_log_index()}});

  // Figure 2: next_index starts just past the leader's log (optimistic; backs off on
  // rejection), match_index at 0. Set before the Noop so the first AppendEntries carries it.
  progress_.clear();
  for (NodeId peer : servers_) {
    if (peer == id_) continue;
    progress_[peer].next_index = last_log_index() + 1;
  }
  // Client commands of earlier terms still unapplied in our log will commit with our first
  // entry; a retry of one of them waits for that entry instead of being appended again.
  waiters_.clear();
  pending_index_.clear();
  for (std::uint64_t index = last_applied_ + 1; index <= last_log_index(); ++index) {
    const Command& c = entry(index).command;
    if (c.client_id >= 0) pending_index_.emplace(std::make_pair(c.client_id, c.seq), index);
  }

  // Thesis §6.4 / extended paper §8: "each leader commit a blank no-op entry into the log at
  // the start of its term", so that entries of earlier terms get committed (§5.4.2) and reads
  // are not delayed indefinitely.
  append_as_leader(Command{}, out);
  // §5.2: "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each server"
  // (here carrying the Noop).
  heartbeat_deadline_ = now + config_.heartbeat_interval;
  for (const auto& [peer, p] : progress_) replicate(peer, out);
  advance_commit_index(out);  // a single-server cluster commits at once
}

void Node::observe_term(std::uint64_t term, NodeId from, std::string_view why, Time now, Out& out,
                        NodeId new_leader) {
  RAFT_CHECK(term > state_.current_term, "observe_term with a term that is not higher");
  set_term_vote(term, kNoNode, out);
  // Known when the news came with the new leader's AppendEntries: then clients this server
  // turns away (on stepping down) get a useful hint.
  leader_id_ = new_leader;
  if (role_ != Role::Follower) {
    become_follower(std::string("higher_term_in_") + std::string(why), from, now, out);
  }
}

void Node::become_follower(std::string_view reason, NodeId from, Time now, Out& out) {
  if (role_ == Role::Leader) {
    out.emit("stepped_down",
             {{"term", state_.current_term}, {"reason", std::string(reason)}, {"from", from}});
    // Clients waiting on us must look elsewhere; their entries may still commit under the next
    // leader, and a retry with the same (client_id, seq) is deduplicated (§8).
    for (const auto& [index, w] : waiters_) reply_not_leader(w.client, w.client_id, w.seq, out);
    waiters_.clear();
    pending_index_.clear();
    progress_.clear();
    heartbeat_deadline_ = kNever;
    // A leader runs no election timer; as a follower it needs one again (§5.2).
    reset_election_timer(now);
  }
  role_ = Role::Follower;
  votes_granted_.clear();
  out.emit("became_follower", {{"term", state_.current_term}});
}

// ------------------------------------------------------------------------------------------
// Log, persistence and the state machine

std::uint64_t Node::term_at(std::uint64_t index) const {
  // The snapshot's last included entry keeps its term (§7: "to support the AppendEntries
  // consistency check for the first log entry following the snapshot"); the sentinel index 0
  // has term 0 (an absent snapshot has last included index and term 0).
  if (index == snapshot_index()) return state_.snapshot.last_included_term;
  RAFT_CHECK(index > snapshot_index(), "term_at(" + std::to_string(index) +
                                           ") inside the snapshot (up to " +
                                           std::to_string(snapshot_index()) + ")");
  RAFT_CHECK(index <= last_log_index(), "term_at past the end of the log");
  return state_.entry(index).term;
}

std::uint64_t Node::first_index_of_term(std::uint64_t term) const {
  // Among the entries kept after the snapshot: a term that began inside the snapshot reports
  // first_log_index(), which is enough for the leader's backtracking (it never needs to go
  // below a follower's snapshot, whose entries are committed).
  auto it = std::lower_bound(state_.log.begin(), state_.log.end(), term,
                             [](const LogEntry& e, std::uint64_t t) { return e.term < t; });
  return snapshot_index() + static_cast<std::uint64_t>(it - state_.log.begin()) + 1;
}

std::uint64_t Node::last_index_of_term(std::uint64_t term) const {
  auto it = std::upper_bound(state_.log.begin(), state_.log.end(), term,
                             [](std::uint64_t t, const LogEntry& e) { return t < e.term; });
  const auto kept = static_cast<std::uint64_t>(it - state_.log.begin());
  if (kept > 0) {
    const std::uint64_t index = snapshot_index() + kept;
    return term_at(index) == term ? index : 0;
  }
  // No kept entry has a term <= `term`: the snapshot's last included entry may still have it.
  return snapshot_index() > 0 && state_.snapshot.last_included_term == term ? snapshot_index() : 0;
}

void Node::persist(PersistOp op, Out& out) {
  if (const auto* a = std::get_if<AppendLog>(&op)) {
    // Log terms never decrease along the log and never exceed current_term (Figure 3, Log
    // Matching relies on it; first/last_index_of_term binary-search on it).
    std::uint64_t previous = term_at(a->first_index - 1);
    for (const LogEntry& e : a->entries) {
      RAFT_CHECK(e.term >= previous && e.term <= state_.current_term,
                 "appending an entry of term " + std::to_string(e.term) + " after term " +
                     std::to_string(previous) + " (current_term " +
                     std::to_string(state_.current_term) + ")");
      previous = e.term;
    }
  }
  const auto bytes = persist_size(op);
  state_.apply(op);
  if (bug(Bug::ForgetVotedFor)) {
    if (auto* v = std::get_if<SetTermVote>(&op)) {
      // BUG forget_voted_for (teaching variant, off by default): the vote is kept in memory but
      // only the term reaches stable storage, so memory and storage deliberately disagree on
      // voted_for. Violates Figure 2 ("Persistent state on all servers: (Updated on stable
      // storage before responding to RPCs) ... votedFor"): a server that crashes and restarts
      // within a term has forgotten its vote and can vote for a second candidate of that
      // term, electing two leaders in one term (Election Safety, §5.2).
      v->voted_for = kNoNode;
    }
  }
  out.save(std::move(op), bytes);
}

void Node::set_term_vote(std::uint64_t term, NodeId voted_for, Out& out) {
  persist(SetTermVote{term, voted_for}, out);
}

void Node::set_commit_index(std::uint64_t index, Out& out) {
  RAFT_CHECK(index > commit_index_ && index <= last_log_index(),
             "commit_index must grow and stay within the log");
  commit_index_ = index;
  out.emit("committed", {{"index", index}, {"term", term_at(index)}});
  apply_committed(out);
}

void Node::apply_committed(Out& out) {
  // Figure 2 (All Servers): "If commitIndex > lastApplied: increment lastApplied, apply
  // log[lastApplied] to state machine", in log order.
  while (last_applied_ < commit_index_) {
    ++last_applied_;
    const LogEntry& entry = state_.entry(last_applied_);
    const Command& c = entry.command;
    KvStore::Outcome outcome = KvStore::Outcome::Executed;
    KvStore::Result result = kv_.apply(c, &outcome);
    nlohmann::json fields = {{"index", last_applied_},   {"term", entry.term},
                             {"op", op_name(c.op)},      {"key", c.key},
                             {"client_id", c.client_id}, {"seq", c.seq}};
    if (outcome == KvStore::Outcome::Duplicate) fields["duplicate"] = true;
    if (outcome == KvStore::Outcome::Stale) fields["stale"] = true;
    out.emit("applied", std::move(fields));

    if (c.client_id < 0) continue;
    if (auto p = pending_index_.find({c.client_id, c.seq});
        p != pending_index_.end() && p->second == last_applied_) {
      pending_index_.erase(p);
    }
    // The leader answers only now that the command took effect (§8), so a reply never reports
    // an operation that could still be lost, and a get reads state as of its log position.
    auto w = waiters_.find(last_applied_);
    if (w == waiters_.end()) continue;
    const Waiter waiter = w->second;
    waiters_.erase(w);
    if (outcome == KvStore::Outcome::Stale || waiter.client_id != c.client_id ||
        waiter.seq != c.seq) {
      continue;
    }
    ClientReply reply{
        c.client_id,       c.seq, ClientReply::Status::Ok, id_, std::move(result.value),
        result.cas_matched};
    Message msg = std::move(reply);
    const auto size = wire_size(msg);
    out.send(waiter.client, std::move(msg), size);
  }
  maybe_snapshot(out);
}

void Node::maybe_snapshot(Out& out) {
  // §7: "Each server takes snapshots independently, covering just the committed entries in its
  // log." Only applied entries go into a snapshot (it is the state machine as of
  // last_applied); entries after last_applied stay in the log.
  if (config_.snapshot_threshold <= 0 ||
      last_applied_ - snapshot_index() <= static_cast<std::uint64_t>(config_.snapshot_threshold)) {
    return;
  }
  Snapshot snapshot;
  snapshot.last_included_index = last_applied_;
  snapshot.last_included_term = term_at(last_applied_);
  // The whole state machine, sessions included: a retry of a command the snapshot covers must
  // still get its remembered result rather than a second execution (§8).
  snapshot.state = kv_.state();
  const std::uint64_t bytes = snapshot_size(snapshot);
  out.emit("snapshot", {{"term", state_.current_term},
                        {"last_included_index", snapshot.last_included_index},
                        {"last_included_term", snapshot.last_included_term},
                        {"entries_discarded", last_applied_ - snapshot_index()},
                        {"log_entries_kept", last_log_index() - last_applied_},
                        {"bytes", bytes}});
  // Written in this step, before the step's messages leave (the outbox rule): the leader's or
  // follower's reply waits for the snapshot's disk write. Real servers write snapshots
  // concurrently with normal operation (§7, copy-on-write); that overlap is not modelled.
  persist(SaveSnapshot{std::move(snapshot)}, out);
}

// ------------------------------------------------------------------------------------------
// InstallSnapshot (§7, Figure 13)

void Node::send_snapshot(NodeId peer, Out& out) {
  Progress& p = progress_.at(peer);
  RAFT_CHECK(snapshot_index() > 0 && p.next_index <= snapshot_index(),
             "a snapshot is sent only to a peer that needs compacted entries");
  // Back to probing with the snapshot as the one request in flight: nothing else is sent to
  // this peer until it answers (or a heartbeat interval presumes the snapshot lost).
  p.replicating = false;
  p.inflight.clear();
  p.inflight.push_back(snapshot_index());
  // Counted as rpcs.install_snapshot; the follower's "snapshot_installed" event names the leader.
  send(peer, InstallSnapshot{state_.current_term, id_, state_.snapshot}, out);
}

void Node::on_install_snapshot(NodeId from, const InstallSnapshot& m, Time now, Out& out) {
  InstallSnapshotReply reply;
  auto send_reply = [&] {
    reply.term = state_.current_term;
    send(from, reply, out);
  };
  // Figure 13, receiver step 1: "Reply immediately if term < currentTerm." (Steps 2-5, the
  // chunks of a snapshot sent in pieces, are not modelled: the whole snapshot is one message.)
  if (!heed_leader(from, m.term, m.leader_id, "install_snapshot", now, out)) return send_reply();

  const Snapshot& snapshot = m.snapshot;
  const std::uint64_t index = snapshot.last_included_index;
  // From here on the follower's log agrees with the leader's at least up to `index`.
  reply.last_included_index = index;
  if (index <= commit_index_) {
    // A duplicate or stale snapshot (a retransmission, a reordered message): every entry it
    // covers is already committed and applied here, and our log may hold more. Installing it
    // would move the state machine backwards; it is ignored.
    return send_reply();
  }
  // Steps 6-8 (SaveSnapshot applies them to the log): save the snapshot; "if existing log entry
  // has same index and term as snapshot's last included entry, retain log entries following
  // it"; otherwise "discard the entire log".
  const bool retained = index <= last_log_index() && term_at(index) == snapshot.last_included_term;
  out.emit("snapshot_installed",
           {{"term", state_.current_term},
            {"leader", m.leader_id},
            {"last_included_index", index},
            {"last_included_term", snapshot.last_included_term},
            {"log_retained", retained},
            {"last_log_index", last_log_index()},
            {"bytes", snapshot_size(snapshot)}});
  persist(SaveSnapshot{snapshot}, out);
  // Step 9: "Reset state machine using snapshot contents." The snapshot holds committed
  // entries only, so commit_index and last_applied move to its last included index.
  kv_.restore(snapshot.state);
  commit_index_ = last_applied_ = index;
  out.emit("committed", {{"index", index}, {"term", snapshot.last_included_term}});
  send_reply();
}

void Node::on_install_snapshot_reply(NodeId from, const InstallSnapshotReply& m, Time now,
                                     Out& out) {
  if (m.term > state_.current_term) {
    observe_term(m.term, from, "install_snapshot_reply", now, out);
    return;
  }
  if (role_ != Role::Leader || m.term != state_.current_term) return;  // stale reply
  if (m.last_included_index == 0 || progress_.count(from) == 0) return;  // refused; not a peer
  // The follower holds the snapshot (or already held more): its log matches ours up to the
  // snapshot's last included index. Continue with AppendEntries from there.
  follower_matched(from, m.last_included_index, out);
}

void Node::reset_election_timer(Time now) {
  // §5.2: "election timeouts are chosen randomly from a fixed interval", re-drawn at each reset.
  election_deadline_ = now + rng_.uniform(config_.election_timeout.lo, config_.election_timeout.hi);
}

// ------------------------------------------------------------------------------------------
// Local invariants (in the spirit of LogCabin's RaftConsensusInvariants). O(servers + waiters),
// cheap enough to run after every event; the O(log) ones are checked as entries are appended.

void Node::check_invariants() const {
  const auto at = [this](const char* what) {
    return std::string(what) + " (node " + std::to_string(id_) + ", term " +
           std::to_string(state_.current_term) + ", role " + std::string(role_name()) + ")";
  };
  RAFT_CHECK(last_log_term() <= state_.current_term, at("last log term exceeds current_term"));
  RAFT_CHECK(commit_index_ <= last_log_index(), at("commit_index past the end of the log"));
  // §7: a snapshot covers committed, applied entries only.
  RAFT_CHECK(snapshot_index() <= commit_index_, at("snapshot past commit_index"));
  // Entries are applied in the same step that commits them.
  RAFT_CHECK(last_applied_ == commit_index_, at("last_applied lags commit_index after a step"));
  if (role_ != Role::Follower) {
    RAFT_CHECK(state_.voted_for == id_, at("candidate or leader did not vote for itself"));
  }
  if (role_ == Role::Leader) {
    RAFT_CHECK(leader_id_ == id_, at("leader does not know it leads"));
    RAFT_CHECK(heartbeat_deadline_ != kNever && election_deadline_ == kNever,
               at("leader timers: heartbeat armed, election disarmed"));
    // The Noop of become_leader: a leader's log always ends in its own term.
    RAFT_CHECK(last_log_term() == state_.current_term, at("leader log does not end in its term"));
    RAFT_CHECK(progress_.size() + 1 == servers_.size(), at("progress for every peer"));
    for (const auto& [peer, p] : progress_) {
      RAFT_CHECK(p.match_index < p.next_index && p.next_index <= last_log_index() + 1,
                 at("match_index < next_index <= last_log_index + 1"));
      RAFT_CHECK(p.inflight.size() <= static_cast<std::size_t>(config_.max_inflight_appends),
                 at("more AppendEntries in flight than the window"));
    }
    if (!waiters_.empty()) {  // an ordered map: its ends bound every key
      RAFT_CHECK(
          waiters_.begin()->first > last_applied_ && waiters_.rbegin()->first <= last_log_index(),
          at("a client waits on an entry outside (last_applied, last_log_index]"));
    }
  } else {
    RAFT_CHECK(election_deadline_ != kNever && heartbeat_deadline_ == kNever,
               at("non-leader timers: election armed, heartbeat disarmed"));
    RAFT_CHECK(waiters_.empty() && pending_index_.empty() && progress_.empty(),
               at("leader state outside leadership"));
  }
  if (role_ == Role::Candidate) {
    RAFT_CHECK(votes_granted_.count(id_) == 1 && votes_granted_.size() < majority(),
               at("a candidate holding a majority should have become leader"));
  }
}

}  // namespace faultline::raft
