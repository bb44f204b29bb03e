// The workload client of a Raft scenario, a pure core with the same shape as raft::Node
// (DESIGN.md: "Clients are simulated nodes too"). It issues get/put/append/cas operations,
// finds the leader (§8: followers redirect with a leader hint), retries one logical operation
// under the same (client_id, seq) so the cluster executes it at most once, and records every
// operation in the history (SCENARIOS.md, "History format").
//
// Closed loop (`ops:`): one operation outstanding; the next one starts when it completes.
// Open loop (`rate:`): Poisson arrivals, several operations may be outstanding, each with its own
// Jepsen process id.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/effects.hpp"
#include "common/history.hpp"
#include "common/ids.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"
#include "protocols/raft/messages.hpp"
#include "protocols/raft/node.hpp"

namespace faultline::raft {

struct ClientConfig {
  int client_index = 0;              // 0-based: client node c{client_index + 1}
  int num_clients = 1;               // clients in the run (for Jepsen process ids)
  std::optional<std::int64_t> ops;   // closed loop: operations for this client
  std::optional<double> rate_per_s;  // open loop: this client's share of the rate, ops/s
  std::vector<std::pair<std::string, double>> mix;  // get/put/append/cas -> weight
  int keys = 1;                                     // keys "k0" .. "k{keys-1}", chosen uniformly
  Duration rpc_timeout = 100 * kMillisecond;        // one attempt; then the next server, same op
  Duration client_timeout = kSecond;                // since invoke: give up, record `info`
  Time start = 0;  // first operation (closed loop) / first arrival after
  /// The client node's restart count. A restarted client is a new client session: a new
  /// client_id for the at-most-once table (a reused one would make the state machine answer its
  /// fresh seq 1 with the remembered result of the old seq 1), new process ids, new values.
  std::uint32_t incarnation = 0;
};

/// A write the cluster acknowledged (ok put, ok append, ok cas whose compare matched): the
/// end-of-run "no acknowledged write lost" check asks the KV whether it was applied.
struct AckedWrite {
  std::int64_t client_id = -1;
  std::int64_t seq = 0;
  std::string f;  // put | append | cas
  std::string key;
  std::string value;
};

class Client {
 public:
  using Message = raft::Message;
  using PersistOp = raft::PersistOp;
  /// For generic drivers only: a client persists nothing (it emits no PersistOp).
  using Persistent = raft::PersistentState;
  using Out = Effects<Message, PersistOp>;

  /// `servers`: every server id, sorted. The first operation is issued by tick() at
  /// max(config.start, now) (closed loop) or at the first Poisson arrival after it (open loop).
  Client(NodeId id, std::vector<NodeId> servers, const ClientConfig& config, Rng rng, Time now);

  void step(const Envelope<Message>& in, Time now, Out& out);
  void tick(Time now, Out& out);
  Time next_deadline() const;
  void job_done(JobId, Time, Out&) {}
  void control(Control, Time, Out&) {}
  void check_invariants() const;

  std::string_view role_name() const { return "client"; }
  std::uint64_t current_term() const { return 0; }
  NodeId id() const { return id_; }
  /// Every operation issued and finished (ok or info); no timer armed any more.
  bool done() const;

  const std::vector<AckedWrite>& acked_writes() const { return acked_writes_; }
  std::int64_t ops_invoked() const { return issued_; }
  std::int64_t ops_ok() const { return ok_; }
  std::int64_t ops_info() const { return info_; }
  std::size_t outstanding() const { return outstanding_.size(); }
  /// The server the next request goes to.
  NodeId believed_leader() const { return believed_leader_; }

 private:
  struct Operation {
    std::int64_t seq = 0;
    std::int64_t process = 0;
    Command command;
    Time invoked_at = 0;
    Time give_up_at = kNever;
    NodeId target = kNoNode;
    Time attempt_deadline = kNever;   // rpc_timeout of the current attempt (or a paused resend)
    bool resend_at_deadline = false;  // paused: at attempt_deadline send to `target` as is
    std::size_t redirects_without_hint = 0;
  };

  bool more_to_issue() const { return !config_.ops || issued_ < *config_.ops; }
  void issue(Time now, Out& out);
  Command draw_command(std::int64_t seq);
  void send_attempt(Operation& op, Time now, Out& out);
  void on_reply(NodeId from, const ClientReply& reply, Time now, Out& out);
  void record(const Operation& op, OpType type, Time now, Out& out,
              const ClientReply* reply = nullptr) const;
  NodeId next_server(NodeId after) const;
  std::int64_t ack_below() const;
  Duration draw_interarrival();

  const NodeId id_;
  const std::vector<NodeId> servers_;
  const ClientConfig config_;
  Rng rng_;
  const bool open_loop_;
  /// Process ids one incarnation may use before the next one's range starts.
  static constexpr std::int64_t kProcessesPerIncarnation = 1'000'000;
  const std::int64_t session_id_;    // client_id of the at-most-once table: node id + incarnation
  const std::int64_t process_base_;  // this incarnation's first Jepsen process id

  std::map<std::int64_t, Operation> outstanding_;  // seq -> operation
  std::int64_t next_seq_ = 1;
  std::int64_t issued_ = 0;
  std::int64_t ok_ = 0;
  std::int64_t info_ = 0;
  std::int64_t process_;         // closed loop: the current Jepsen process id
  Time next_issue_at_ = kNever;  // next closed-loop issue / open-loop arrival
  NodeId believed_leader_;
  std::map<std::string, std::string> last_seen_;  // key -> last value read or written (cas)
  std::vector<AckedWrite> acked_writes_;
};

}  // namespace faultline::raft
