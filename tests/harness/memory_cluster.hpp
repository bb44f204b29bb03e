// An in-memory, deterministic harness for protocol cores (DESIGN.md: "one in-memory test
// harness (deliver, drop, cut, isolate, advance time) unit-tests all of them without SimGrid").
//
// It plays the adapter's part: a priority queue of messages with delivery times, stable storage
// per server (every PersistOp of a step is applied before the step's messages are queued, the
// ordering rule of common/effects.hpp), timers from each core's next_deadline(), crash (volatile
// state, timers and messages in flight to the node are lost; storage survives) and restart
// (a fresh core built from storage), partitions judged at send and again at delivery time, a
// seeded drop probability. After every call into a server core it runs the core's local
// invariants and hands the step's trace events to the Monitor. Messages may also be duplicated
// and reordered (per-message latency drawn from a range).
//
// Works with any core that has the shape of raft::Node: Message, PersistOp, Persistent, Out
// typedefs; step, tick, next_deadline, control, check_invariants. Servers have ids 0..S-1,
// clients S..S+C-1. Same options + same seed => the same run.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/effects.hpp"
#include "common/history.hpp"
#include "common/ids.hpp"
#include "common/rng.hpp"
#include "common/time.hpp"

namespace faultline::testing {

/// A Monitor that checks nothing.
struct NoMonitor {
  template <class Server>
  void observe(const Server&, const std::vector<TraceEvent>&, Time) {}
  void on_crash(NodeId, Time) {}
};

struct RecordedEvent {
  Time time = 0;
  NodeId node = kNoNode;
  TraceEvent event;
};

template <class Server, class Client, class Monitor = NoMonitor>
class MemoryCluster {
 public:
  using Message = typename Server::Message;
  using PersistOp = typename Server::PersistOp;
  using Persistent = typename Server::Persistent;
  using Out = typename Server::Out;
  using Env = Envelope<Message>;
  static_assert(std::is_same_v<typename Client::Out, Out>, "servers and clients share an Out");

  using ServerFactory = std::function<std::unique_ptr<Server>(NodeId, const Persistent&, Time)>;
  using ClientFactory = std::function<std::unique_ptr<Client>(NodeId, int client_index, Time)>;

  struct Options {
    int servers = 3;
    int clients = 0;
    Duration latency_min = kMillisecond;  // one-way, drawn uniformly per message
    Duration latency_max = kMillisecond;
    double drop = 0.0;       // probability a message is lost at send time
    double duplicate = 0.0;  // probability a message is delivered twice
    std::uint64_t seed = 1;
    bool record_events = true;                // keep every trace event in events()
    std::vector<Persistent> initial_storage;  // empty, or one per server (pre-seeded logs)
  };

  MemoryCluster(Options options, ServerFactory make_server, ClientFactory make_client = {})
      : options_(std::move(options)),
        make_server_(std::move(make_server)),
        make_client_(std::move(make_client)),
        rng_(Rng(options_.seed).fork("harness")) {
    if (!options_.initial_storage.empty() &&
        options_.initial_storage.size() != static_cast<std::size_t>(options_.servers)) {
      throw std::invalid_argument("initial_storage needs one state per server");
    }
    slots_.resize(static_cast<std::size_t>(options_.servers + options_.clients));
    for (NodeId id = 0; id < options_.servers; ++id) {
      Slot& s = slot(id);
      s.is_server = true;
      if (!options_.initial_storage.empty()) {
        s.storage = options_.initial_storage[static_cast<std::size_t>(id)];
      }
      s.server = make_server_(id, s.storage, now_);
      after_call(id, Out{});
    }
    for (int c = 0; c < options_.clients; ++c) {
      const NodeId id = options_.servers + c;
      slot(id).client = make_client_(id, c, now_);
    }
  }

  // ---- Inspection
  Time now() const { return now_; }
  int num_servers() const { return options_.servers; }
  int num_clients() const { return options_.clients; }
  std::vector<NodeId> server_ids() const {
    std::vector<NodeId> ids;
    for (NodeId id = 0; id < options_.servers; ++id) ids.push_back(id);
    return ids;
  }
  NodeId client_id(int index) const { return options_.servers + index; }
  bool is_server(NodeId id) const { return id >= 0 && id < options_.servers; }
  /// nullptr while crashed.
  Server* server(NodeId id) { return slot(id).server.get(); }
  const Server* server(NodeId id) const { return slot(id).server.get(); }
  Client* client(int index) { return slot(client_id(index)).client.get(); }
  const Client* client(int index) const { return slot(client_id(index)).client.get(); }
  /// Live servers, in id order.
  std::vector<const Server*> live_servers() const {
    std::vector<const Server*> live;
    for (NodeId id = 0; id < options_.servers; ++id) {
      if (slot(id).server) live.push_back(slot(id).server.get());
    }
    return live;
  }
  /// What server `id` holds on stable storage (survives crashes).
  const Persistent& storage(NodeId id) const { return slot(id).storage; }
  /// Every server's stable storage, crashed or not.
  std::vector<const Persistent*> all_storage() const {
    std::vector<const Persistent*> out;
    for (NodeId id : server_ids()) out.push_back(&storage(id));
    return out;
  }
  bool crashed(NodeId id) const { return slot(id).crashed; }
  Monitor& monitor() { return monitor_; }
  const std::vector<HistoryEntry>& history() const { return history_; }
  const std::vector<RecordedEvent>& events() const { return events_; }
  std::size_t in_flight() const { return queue_.size(); }
  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t dropped() const { return dropped_; }

  // ---- Faults
  void crash(NodeId id) {
    Slot& s = slot(id);
    if (s.crashed) return;
    s.crashed = true;
    s.server.reset();
    s.client.reset();
    // Messages in flight to the old incarnation are lost (DESIGN.md, "Transport").
    ++s.incarnation;
    if (s.is_server) monitor_.on_crash(id, now_);
  }
  void restart(NodeId id) {
    Slot& s = slot(id);
    if (!s.crashed) return;
    s.crashed = false;
    if (s.is_server) {
      s.server = make_server_(id, s.storage, now_);
    } else {
      s.client = make_client_(id, id - options_.servers, now_);
    }
    after_call(id, Out{});
  }
  /// Blocks traffic between every two groups (both directions); adds to earlier blocks.
  void partition(const std::vector<std::vector<NodeId>>& groups) {
    for (std::size_t i = 0; i < groups.size(); ++i) {
      for (std::size_t j = 0; j < groups.size(); ++j) {
        if (i == j) continue;
        for (NodeId a : groups[i]) {
          for (NodeId b : groups[j]) blocked_.emplace(a, b);
        }
      }
    }
  }
  /// Blocks the node from everyone, clients included.
  void isolate(NodeId id) {
    for (NodeId other = 0; other < static_cast<NodeId>(slots_.size()); ++other) {
      if (other == id) continue;
      blocked_.emplace(id, other);
      blocked_.emplace(other, id);
    }
  }
  /// One way: messages from `from` to `to` are dropped.
  void cut(NodeId from, NodeId to) { blocked_.emplace(from, to); }
  void heal() { blocked_.clear(); }
  /// Removes every block involving `id`.
  void heal(NodeId id) {
    for (auto it = blocked_.begin(); it != blocked_.end();) {
      it = (it->first == id || it->second == id) ? blocked_.erase(it) : std::next(it);
    }
  }
  bool blocked(NodeId from, NodeId to) const { return blocked_.count({from, to}) != 0; }
  void set_drop(double p) { options_.drop = p; }
  void set_duplicate(double p) { options_.duplicate = p; }
  void set_latency(Duration lo, Duration hi) {
    options_.latency_min = lo;
    options_.latency_max = hi;
  }
  /// Test hook judged at send time: return false to drop the message.
  void set_filter(std::function<bool(const Env&)> filter) { filter_ = std::move(filter); }
  /// Test hook: called for every delivered message, before the addressee steps.
  void set_on_deliver(std::function<void(const Env&, Time)> hook) { on_deliver_ = std::move(hook); }

  // ---- Driving
  /// Calls control(c) on a live node now.
  template <class C>
  void control(NodeId id, C c) {
    call(id, [&](auto& core, Out& out) { core.control(c, now_, out); });
  }
  /// Queues a message as if `from` had sent it now (same latency, faults and filter).
  void send(NodeId from, NodeId to, Message msg) { transmit(from, to, std::move(msg)); }

  /// When the next event (a delivery or a timer) happens; kNever if nothing is pending.
  Time next_event_time() const { return std::min(next_delivery_time(), next_timer_time()); }

  /// Processes the next event; false when nothing is pending.
  bool step() {
    const Time delivery = next_delivery_time();
    const Time timer = next_timer_time();
    if (delivery == kNever && timer == kNever) return false;
    if (delivery <= timer) {
      now_ = std::max(now_, delivery);
      deliver_next();
    } else {
      now_ = std::max(now_, timer);
      fire_timers();
    }
    return true;
  }
  /// Processes every event up to and including time t, then sets the clock to t.
  void run_until(Time t) {
    while (next_event_time() <= t) step();
    now_ = std::max(now_, t);
  }
  void run_for(Duration d) { run_until(now_ + d); }
  /// Runs until `done()` holds (checked after every event) or time passes `limit`.
  bool run_until(const std::function<bool()>& done, Time limit) {
    if (done()) return true;
    while (next_event_time() <= limit) {
      step();
      if (done()) return true;
    }
    now_ = std::max(now_, limit);
    return done();
  }

 private:
  struct Slot {
    bool is_server = false;
    bool crashed = false;
    std::uint64_t incarnation = 0;
    std::unique_ptr<Server> server;
    std::unique_ptr<Client> client;
    Persistent storage;
  };
  struct InFlight {
    Env env;
    std::uint64_t to_incarnation = 0;
  };

  Slot& slot(NodeId id) {
    if (id < 0 || id >= static_cast<NodeId>(slots_.size())) {
      throw std::out_of_range("no node " + std::to_string(id));
    }
    return slots_[static_cast<std::size_t>(id)];
  }
  const Slot& slot(NodeId id) const { return const_cast<MemoryCluster*>(this)->slot(id); }

  Time next_delivery_time() const { return queue_.empty() ? kNever : queue_.begin()->first.first; }
  Time next_timer_time() const {
    Time t = kNever;
    for (const Slot& s : slots_) {
      if (s.server) t = std::min(t, s.server->next_deadline());
      if (s.client) t = std::min(t, s.client->next_deadline());
    }
    return t;
  }

  void deliver_next() {
    auto node = queue_.extract(queue_.begin());
    InFlight& m = node.mapped();
    const NodeId to = m.env.to;
    const Slot& s = slot(to);
    // Judged again at delivery: a partition that began in flight drops it; so does a crash of
    // the addressee since the send (incarnation mismatch).
    if (blocked(m.env.from, to) || s.crashed || s.incarnation != m.to_incarnation) {
      ++dropped_;
      return;
    }
    ++delivered_;
    if (on_deliver_) on_deliver_(m.env, now_);
    call(to, [&](auto& core, Out& out) { core.step(m.env, now_, out); });
  }

  void fire_timers() {
    for (NodeId id = 0; id < static_cast<NodeId>(slots_.size()); ++id) {
      const Slot& s = slot(id);
      const Time deadline = s.server   ? s.server->next_deadline()
                            : s.client ? s.client->next_deadline()
                                       : kNever;
      if (deadline > now_) continue;
      call(id, [&](auto& core, Out& out) {
        core.tick(now_, out);
        if (core.next_deadline() <= now_) {
          throw std::logic_error("node " + std::to_string(id) + " left a timer due after tick");
        }
      });
    }
  }

  template <class F>
  void call(NodeId id, F&& f) {
    Slot& s = slot(id);
    Out out;
    if (s.server) {
      f(*s.server, out);
    } else if (s.client) {
      f(*s.client, out);
    } else {
      return;  // crashed: nothing happens
    }
    after_call(id, std::move(out));
  }

  void after_call(NodeId id, Out out) {
    Slot& s = slot(id);
    // Persist before send (common/effects.hpp): storage first, then the messages leave.
    if (s.is_server) {
      for (const auto& op : out.persist) s.storage.apply(op);
    }
    for (auto& send : out.sends) transmit(id, send.to, std::move(send.msg));
    for (auto& h : out.history) {
      h.client = id;
      history_.push_back(std::move(h));
    }
    if (s.server) {
      s.server->check_invariants();
      monitor_.observe(*s.server, out.events, now_);
    } else if (s.client) {
      s.client->check_invariants();
    }
    if (options_.record_events) {
      for (auto& e : out.events) events_.push_back(RecordedEvent{now_, id, std::move(e)});
    }
  }

  void transmit(NodeId from, NodeId to, Message msg) {
    Env env{from, to, std::move(msg)};
    const Slot& target = slot(to);
    if (blocked(from, to) || (filter_ && !filter_(env)) || rng_.chance(options_.drop)) {
      ++dropped_;
      return;
    }
    if (rng_.chance(options_.duplicate)) {  // the copy takes its own path (and latency)
      const Time copy_at = now_ + rng_.uniform(options_.latency_min, options_.latency_max);
      queue_.emplace(std::make_pair(copy_at, next_order_++), InFlight{env, target.incarnation});
    }
    const Time at = now_ + rng_.uniform(options_.latency_min, options_.latency_max);
    queue_.emplace(std::make_pair(at, next_order_++), InFlight{std::move(env), target.incarnation});
  }

  Options options_;
  ServerFactory make_server_;
  ClientFactory make_client_;
  Rng rng_;
  Monitor monitor_;
  Time now_ = 0;
  std::vector<Slot> slots_;
  // (delivery time, send order) -> message: FIFO among equal delivery times, deterministic.
  std::map<std::pair<Time, std::uint64_t>, InFlight> queue_;
  std::uint64_t next_order_ = 0;
  std::set<std::pair<NodeId, NodeId>> blocked_;
  std::function<bool(const Env&)> filter_;
  std::function<void(const Env&, Time)> on_deliver_;
  std::vector<HistoryEntry> history_;
  std::vector<RecordedEvent> events_;
  std::uint64_t delivered_ = 0;
  std::uint64_t dropped_ = 0;
};

}  // namespace faultline::testing
