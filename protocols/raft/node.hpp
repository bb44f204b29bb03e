// A Raft server as a pure state machine (extended paper, Figure 2; DESIGN.md "Protocol cores are
// pure state machines"). Messages and timer expiries go in; state changes and an outbox
// (messages, PersistOps, trace events) come out. No clock, no threads, no I/O: time arrives as
// `now`, randomness only from the Rng handed to the constructor.
//
// The outbox ordering rule (common/effects.hpp) is what makes "persist before replying" hold:
// the adapter puts every PersistOp of a step on stable storage before any message of that step
// leaves, so a vote or an appended entry is durable before anyone hears of it.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "common/effects.hpp"
#include "common/ids.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"
#include "protocols/raft/config.hpp"
#include "protocols/raft/kv.hpp"
#include "protocols/raft/messages.hpp"
#include "protocols/raft/snapshot.hpp"

namespace faultline::raft {

/// Scripted controls. `elect: n2`: make n2's election timer fire now (teaching sequences).
/// `heartbeat: leader`: the leader broadcasts its heartbeat now and restarts its heartbeat
/// timer — the "synchronized broadcast of heartbeats" the extended paper's Figure 16 test
/// triggers just before killing the leader (§9.3 of the thesis), which aligns follower timers.
enum class Control { Elect, Heartbeat };

enum class Role { Follower, Candidate, Leader };
std::string_view role_name(Role role);

class Node {
 public:
  using Message = raft::Message;
  using PersistOp = raft::PersistOp;
  using Persistent = raft::PersistentState;
  using Out = Effects<Message, PersistOp>;

  /// `servers`: every server id including this one, sorted. `recovered`: what stable storage
  /// holds (empty on first boot). Volatile state starts afresh (Figure 2): a follower whose
  /// state machine is the recovered snapshot's (empty without one), with commit_index =
  /// last_applied = the snapshot's last included index (0 without one); the rest of the log is
  /// re-applied as commit advances (§7: snapshots hold committed entries only).
  Node(NodeId id, std::vector<NodeId> servers, const Config& config, Rng rng,
       const PersistentState& recovered, Time now);

  /// A message arrived.
  void step(const Envelope<Message>& in, Time now, Out& out);
  /// Fires every timer due at `now`.
  void tick(Time now, Out& out);
  /// The earliest armed timer (kNever if none).
  Time next_deadline() const;
  void job_done(JobId, Time, Out&) {}  // raft runs no compute or disk jobs
  void control(Control c, Time now, Out& out);
  /// Local invariants; a violation is a bug in faultline (aborts with a message).
  void check_invariants() const;

  std::string_view role_name() const { return raft::role_name(role_); }
  Role role() const { return role_; }
  std::uint64_t current_term() const { return state_.current_term; }
  NodeId voted_for() const { return state_.voted_for; }
  NodeId id() const { return id_; }
  /// The leader this server believes in for current_term (itself when leader), or kNoNode.
  NodeId leader_hint() const { return leader_id_; }
  /// The entries after the snapshot: log()[0] is the entry of index first_log_index() (index
  /// 1 while compaction has not discarded anything).
  const std::vector<LogEntry>& log() const { return state_.log; }
  /// The latest snapshot (§7); last_included_index 0 when there is none.
  const Snapshot& snapshot() const { return state_.snapshot; }
  std::uint64_t snapshot_index() const { return state_.snapshot.last_included_index; }
  std::uint64_t first_log_index() const { return state_.first_index(); }
  std::uint64_t last_log_index() const { return state_.last_index(); }
  std::uint64_t last_log_term() const { return term_at(last_log_index()); }
  /// The term of the entry at an absolute index in [snapshot_index(), last_log_index()]: the
  /// snapshot's last included term at snapshot_index() (0 at the sentinel index 0).
  std::uint64_t term_at(std::uint64_t index) const;
  /// The entry at an absolute index in [first_log_index(), last_log_index()].
  const LogEntry& entry(std::uint64_t index) const { return state_.entry(index); }
  std::uint64_t commit_index() const { return commit_index_; }
  std::uint64_t last_applied() const { return last_applied_; }
  const KvStore& kv() const { return kv_; }
  const std::vector<NodeId>& servers() const { return servers_; }
  /// Leader only: next_index / match_index of a peer (0 when not leader or not a peer).
  std::uint64_t next_index(NodeId peer) const;
  std::uint64_t match_index(NodeId peer) const;

 private:
  /// A client waiting for the outcome of the entry at some index (leader only).
  struct Waiter {
    NodeId client = kNoNode;
    std::int64_t client_id = -1;
    std::int64_t seq = 0;
  };

  // ---- Message handlers (Figure 2, "Receiver implementation" / "Rules for Servers").
  void on_request_vote(NodeId from, const RequestVote& m, Time now, Out& out);
  void on_request_vote_reply(NodeId from, const RequestVoteReply& m, Time now, Out& out);
  void on_append_entries(NodeId from, const AppendEntries& m, Time now, Out& out);
  void on_append_entries_reply(NodeId from, const AppendEntriesReply& m, Time now, Out& out);
  void on_client_request(NodeId from, const ClientRequest& m, Time now, Out& out);
  void on_install_snapshot(NodeId from, const InstallSnapshot& m, Time now, Out& out);
  void on_install_snapshot_reply(NodeId from, const InstallSnapshotReply& m, Time now, Out& out);
  /// The start shared by the AppendEntries and InstallSnapshot receivers (Figure 2, Figure 13:
  /// "Reply immediately if term < currentTerm"): adopts a higher term, turns a candidate into a
  /// follower, records the leader and restarts the election timer. False when the request
  /// must only be answered (a stale term, or a second leader of our own term).
  bool heed_leader(NodeId from, std::uint64_t term, NodeId leader, std::string_view why, Time now,
                   Out& out);
  /// Sends `msg` to `to` with its wire size.
  void send(NodeId to, Message msg, Out& out) const;

  // ---- Role changes.
  void start_election(Time now, Out& out);
  void become_leader(Time now, Out& out);
  /// Adopts a higher term seen in any RPC (Figure 2: "If RPC request or response contains term
  /// T > currentTerm: set currentTerm = T, convert to follower").
  void observe_term(std::uint64_t term, NodeId from, std::string_view why, Time now, Out& out,
                    NodeId new_leader = kNoNode);
  void become_follower(std::string_view reason, NodeId from, Time now, Out& out);

  // ---- Leader side of replication.
  /// Sends one AppendEntries after `prev` (with up to max_entries_per_append entries if
  /// `with_entries`); returns the last index it covers.
  std::uint64_t send_append_entries(NodeId peer, std::uint64_t prev, bool with_entries, Out& out);
  /// Sends what the peer's progress allows (one batch when probing, a window when replicating,
  /// the snapshot when the entries the peer needs are compacted away).
  void replicate(NodeId peer, Out& out);
  /// Sends our snapshot to a peer whose next_index is at or below snapshot_index() (§7); the
  /// peer goes back to probing with the snapshot as its one message in flight.
  void send_snapshot(NodeId peer, Out& out);
  /// A follower confirmed that its log matches ours up to `match_index` (AppendEntries or
  /// InstallSnapshot success): advances its progress, the commit index and replication.
  void follower_matched(NodeId peer, std::uint64_t match_index, Out& out);
  /// The heartbeat (§5.2), which also detects AppendEntries lost in flight.
  void heartbeat(NodeId peer, Out& out);
  /// Appends (and persists) one entry of current_term; returns its index.
  std::uint64_t append_as_leader(Command command, Out& out);
  void advance_commit_index(Out& out);

  // ---- Log and state machine.
  /// First index holding `term` (terms are non-decreasing along the log: binary search).
  std::uint64_t first_index_of_term(std::uint64_t term) const;
  /// Last index holding `term`, or 0 if the log has no entry of that term.
  std::uint64_t last_index_of_term(std::uint64_t term) const;
  bool candidate_log_up_to_date(std::uint64_t last_log_index, std::uint64_t last_log_term) const;
  /// Applies `op` to state_ and emits it: memory and stable storage never disagree.
  void persist(PersistOp op, Out& out);
  void set_term_vote(std::uint64_t term, NodeId voted_for, Out& out);
  void set_commit_index(std::uint64_t index, Out& out);
  void apply_committed(Out& out);
  /// Log compaction (§7): snapshots the state machine at last_applied and discards the log up
  /// to it once more than config.snapshot_threshold applied entries are kept.
  void maybe_snapshot(Out& out);
  void reply_not_leader(NodeId client, std::int64_t client_id, std::int64_t seq, Out& out) const;

  // ---- Teaching variants (Config::bugs).
  bool bug(Bug b) const { return (bug_mask_ >> static_cast<unsigned>(b)) & 1u; }
  /// stale_leader_reads / reply_before_commit: answers a client Ok at once with `result`.
  void reply_ok_now(NodeId client, std::int64_t client_id, std::int64_t seq,
                    const KvStore::Result& result, Out& out) const;

  // ---- Timers.
  void reset_election_timer(Time now);
  std::size_t majority() const { return servers_.size() / 2 + 1; }

  const NodeId id_;
  const std::vector<NodeId> servers_;  // every server, self included, sorted
  const Config config_;
  /// Bit b set: Bug b of config_.bugs is on (looked up once, not per event).
  const std::uint32_t bug_mask_;
  Rng rng_;

  // Persistent state on all servers (Figure 2), mirrored by every PersistOp this core emits, so
  // `state_` is exactly what stable storage holds once the step's ops are applied (except
  // voted_for under the forget_voted_for teaching variant, see persist()).
  PersistentState state_;

  // Volatile state on all servers (Figure 2).
  Role role_ = Role::Follower;
  std::uint64_t commit_index_ = 0;
  /// Highest index for which a "commit_deferred" event (Figure 8 rule) was emitted.
  std::uint64_t deferred_reported_ = 0;
  std::uint64_t last_applied_ = 0;
  NodeId leader_id_ = kNoNode;
  KvStore kv_;

  // Candidate: who granted us their vote in current_term.
  std::set<NodeId> votes_granted_;

  /// The leader's view of one follower (Figure 2's next_index and match_index, plus flow
  /// control in the manner of etcd raft's Progress).
  struct Progress {
    std::uint64_t next_index = 1;   // next log entry to send
    std::uint64_t match_index = 0;  // highest entry known to be replicated on the follower
    /// false (probing): where the follower's log matches ours is unknown; one AppendEntries at a
    /// time, next_index moves only on replies. true (replicating): the follower's log matches
    /// up to next_index - 1 as far as we know; batches are pipelined (next_index advances when
    /// a batch is sent), up to config.max_inflight_appends unanswered ones.
    bool replicating = false;
    /// Last index covered by each unanswered AppendEntries (or InstallSnapshot), oldest first.
    std::deque<std::uint64_t> inflight;
    /// inflight entries at or below this were already unanswered at the previous heartbeat: a
    /// whole heartbeat interval without a reply means lost (or a very slow path).
    std::optional<std::uint64_t> lost_mark;
  };

  // Volatile state on leaders, reinitialized after election (Figure 2). Peers only.
  std::map<NodeId, Progress> progress_;
  /// log index -> client waiting for that entry to be applied.
  std::map<std::uint64_t, Waiter> waiters_;
  /// (client_id, seq) -> index of its entry not yet applied, so a retry is not appended twice.
  std::map<std::pair<std::int64_t, std::int64_t>, std::uint64_t> pending_index_;

  // Timers (kNever when disarmed).
  Time election_deadline_ = kNever;   // followers and candidates (§5.2)
  Time heartbeat_deadline_ = kNever;  // leaders (§5.2)
};

}  // namespace faultline::raft
