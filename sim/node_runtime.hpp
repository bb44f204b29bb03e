// NodeActor: the one SimGrid actor that drives a protocol core (DESIGN.md, "NodeActor<Core>").
//
// The actor waits for the first of: a packet on the node's mailbox (a message, a finished job,
// a control poke) or the core's next deadline (or the release time of a message the network
// delays). It keeps ONE receive open across waits — cancelling a pending get to wait on
// something else loses messages already in flight. Compute and disk jobs run in short-lived
// helper actors on the node's host that report back through the mailbox: in SimGrid 3.32,
// killing an actor blocked in wait_any_for on {a receive, an Exec} aborts the engine, so the
// node's own actor only ever waits on its mailbox with a timeout (or sleeps through an fsync).
//
// Crash: the actor and its helpers are killed; the core (volatile state, timers), pending jobs
// and messages in flight to it are lost; the persisted state stays in `storage_`. Restart: a
// fresh core is built from `storage_` with incarnation + 1, so mail addressed to the earlier
// incarnation is dropped on arrival.
#pragma once

#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Disk.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include "common/effects.hpp"
#include "sim/engine.hpp"
#include "sim/run_context.hpp"
#include "sim/transport.hpp"

namespace faultline::sim {

/// What faults/ sees of a node, whatever its protocol.
class NodeHandle {
 public:
  virtual ~NodeHandle() = default;
  virtual NodeId id() const = 0;
  virtual bool up() const = 0;
  virtual void start() = 0;    // first boot, at the current simulated time
  virtual void crash() = 0;    // no-op when already down
  virtual void restart() = 0;  // no-op when up
  /// Protocol role ("leader", "follower", "client", ...); "crashed" when down.
  virtual std::string role() const = 0;
  /// Orders competing roles: during a split brain `leader` means the leader of the highest term.
  virtual std::uint64_t epoch() const = 0;
  /// A protocol control poke delivered through the node's own mailbox (e.g. raft `elect`).
  virtual void poke(int control) = 0;
};

namespace detail {
template <class T, class = void>
struct PersistentOf {
  using type = std::monostate;
};
template <class T>
struct PersistentOf<T, std::void_t<typename T::Persistent>> {
  using type = typename T::Persistent;
};
}  // namespace detail

template <class Core>
class NodeRuntime final : public NodeHandle {
 public:
  using Message = typename Core::Message;
  using PersistOp = typename Core::PersistOp;
  using Persistent = typename detail::PersistentOf<Core>::type;
  using Out = Effects<Message, PersistOp>;
  using PacketT = Packet<Message>;
  /// Builds the core of incarnation `incarnation` from stable storage.
  using Factory = std::function<std::unique_ptr<Core>(const Persistent&, Rng, Time)>;
  /// Called after every step of the core with what it emitted (safety monitors).
  using Observer = std::function<void(const Core&, const Out&, Time)>;
  /// Applies a persist op to stable storage.
  using Apply = std::function<void(Persistent&, const PersistOp&)>;
  using Control = std::function<void(Core&, int, Time, Out&)>;

  /// `stream`: the name of the node's random stream ("node/n2", "workload/c3"; DESIGN.md,
  /// "Determinism"); a restarted incarnation k > 0 draws from "<stream>#k".
  NodeRuntime(RunContext& ctx, Transport<Message>& transport, NodeId id, std::string stream,
              Factory factory, Apply apply = {}, Observer observer = {}, Control control = {})
      : ctx_(ctx),
        transport_(transport),
        id_(id),
        stream_(std::move(stream)),
        factory_(std::move(factory)),
        apply_(std::move(apply)),
        observer_(std::move(observer)),
        control_(std::move(control)),
        timing_(ctx.root_rng.fork("timing/" + ctx.slot(id).info.name)) {}

  ~NodeRuntime() override {
    for (auto& [t, p] : held_) delete p;
  }

  NodeId id() const override { return id_; }
  bool up() const override { return ctx_.slot(id_).up; }
  Core* core() { return core_.get(); }
  const Core* core() const { return core_.get(); }
  const Persistent& storage() const { return storage_; }

  void start() override { boot(); }

  void crash() override {
    NodeSlot& slot = ctx_.slot(id_);
    if (!slot.up) return;
    slot.up = false;
    slot.mailbox->set_receiver(nullptr);
    for (auto pid : helpers_)
      if (auto helper = simgrid::s4u::Actor::by_pid(pid)) helper->kill();
    helpers_.clear();
    if (actor_) actor_->kill();
    actor_ = nullptr;
    // The dead incarnation's pending receive is cancelled here, by the killer, so that it does
    // not stay queued on the mailbox and swallow the first message after a restart. Not in an
    // on_exit callback of the killed actor: measured in 3.32, a simcall (Comm::cancel) issued
    // from a killed actor's on_exit never returns; the actor stays half-dead until the timeout
    // of the wait_any_for it was killed in fires, then runs on_exit a second time -- cancelling
    // the *restarted* incarnation's receive (waiting_ is shared) -- and finally destroys its own
    // context while running on it (a segfault in munmap). Seen with a crash while the node was
    // waiting on its election timer and a restart before that timer's deadline.
    if (waiting_[0]) waiting_[0]->cancel();
    waiting_[0] = nullptr;
    core_.reset();  // volatile state and timers are gone
    for (auto& [t, p] : held_) delete p;  // messages the network was still delaying
    held_.clear();
    ctx_.event(id_, "crash", {{"incarnation", slot.incarnation}});
  }

  void restart() override {
    if (ctx_.slot(id_).up) return;
    ++ctx_.slot(id_).incarnation;
    boot();
  }

  std::string role() const override {
    if (!up() || !core_) return "crashed";
    return std::string(core_->role_name());
  }
  std::uint64_t epoch() const override { return core_ ? core_->current_term() : 0; }

  void poke(int control) override {
    if (!up()) return;
    NodeSlot& slot = ctx_.slot(id_);
    auto* packet = local_packet(PacketT::Kind::Control);
    packet->control = control;
    Transport<Message>::post_local(ctx_.platform.host(id_), slot.mailbox, packet);
  }

 private:
  void boot() {
    NodeSlot& slot = ctx_.slot(id_);
    const Time now = SimEngine::now();
    const Rng rng = ctx_.root_rng.fork(
        slot.incarnation == 0 ? stream_ : stream_ + "#" + std::to_string(slot.incarnation));
    core_ = factory_(storage_, rng, now);
    slot.up = true;
    ctx_.event(id_, slot.incarnation == 0 ? "start" : "restart", {{"incarnation", slot.incarnation}});
    // No on_exit callback: a crash cancels the pending receive from crash() (see there); at the
    // end of the run the receive stays queued in its mailbox, which is destroyed with the engine.
    actor_ = simgrid::s4u::Actor::create(slot.info.name, ctx_.platform.host(id_), [this] {
      // One scheduling round before the first wait, as when an on_exit callback was registered
      // here: actors created at the same instant (the fault controller, a test's driver) run
      // first, so the order of events at a start or restart instant is unchanged.
      simgrid::s4u::this_actor::yield();
      loop();
    });
    actor_->daemonize();
    slot.mailbox->set_receiver(actor_);
  }

  void loop() {
    NodeSlot& slot = ctx_.slot(id_);
    PacketT* incoming = nullptr;
    auto& waiting = waiting_;
    waiting.assign(1, nullptr);
    Time now = SimEngine::now();
    for (;;) {
      if (!waiting[0]) waiting[0] = slot.mailbox->template get_async<PacketT>(&incoming);
      Time deadline = core_->next_deadline();
      if (!held_.empty()) deadline = std::min(deadline, held_.begin()->first);
      double timeout = -1.0;
      if (deadline != kNever)
        timeout = std::max(0.0, to_seconds(deadline) - simgrid::s4u::Engine::get_clock());
      const ssize_t index = simgrid::s4u::Comm::wait_any_for(waiting, timeout);
      now = std::max(now, SimEngine::now());
      if (index == 0) {
        waiting[0] = nullptr;
        PacketT* packet = std::exchange(incoming, nullptr);
        on_packet(packet, now);
        now = std::max(now, SimEngine::now());
      } else if (deadline != kNever) {
        // Timed out: we are at the deadline (SimGrid's double clock may read a hair before).
        now = std::max(now, deadline);
      }
      while (!held_.empty() && held_.begin()->first <= now) {
        PacketT* packet = held_.begin()->second;
        held_.erase(held_.begin());
        deliver(packet, now);
        now = std::max(now, SimEngine::now());
      }
      if (core_->next_deadline() <= now) {
        now = processing(now);
        out_.clear();
        core_->tick(now, out_);
        carry_out(now);
      }
    }
  }

  void on_packet(PacketT* packet, Time now) {
    std::unique_ptr<PacketT> owned(packet);
    if (packet->to_incarnation != ctx_.slot(id_).incarnation) return;  // mail for a dead self
    switch (packet->kind) {
      case PacketT::Kind::Message:
        if (packet->extra_delay > 0) {
          // Extra network delay: hold the message (messages overtake each other: reordering).
          const Time release = now + packet->extra_delay;
          packet->extra_delay = 0;
          held_.emplace(release, owned.release());
          return;
        }
        deliver(owned.release(), now);
        return;
      case PacketT::Kind::JobDone:
        now = processing(now);
        out_.clear();
        core_->job_done(packet->job, now, out_);
        carry_out(now);
        return;
      case PacketT::Kind::Control:
        if (!control_) return;
        now = processing(now);
        out_.clear();
        control_(*core_, packet->control, now, out_);
        carry_out(now);
        return;
    }
  }

  void deliver(PacketT* packet, Time now) {
    std::unique_ptr<PacketT> owned(packet);
    if (!transport_.deliverable(*packet)) return;
    now = processing(now);
    if (ctx_.message_cost_flops > 0) {
      // Handling a message costs CPU: a straggler (slow CPU) answers late.
      simgrid::s4u::this_actor::execute(ctx_.message_cost_flops);
      now = std::max(now, SimEngine::now());
    }
    out_.clear();
    core_->step(packet->envelope, now, out_);
    carry_out(now);
  }

  /// `cluster.processing`: the software time one event takes before its effects (timer resets
  /// included) happen. Real servers differ here from event to event (scheduling, RPC layers);
  /// without it, servers that time out together stay in lockstep forever (Raft Figure 16,
  /// 150-150 ms). No draw when the range is zero, so runs without it are unchanged.
  Time processing(Time now) {
    const DurationRange& p = ctx_.cluster.processing;
    if (p.hi <= 0) return now;
    const Duration d = timing_.uniform(p.lo, p.hi);
    if (d > 0) simgrid::s4u::this_actor::sleep_for(to_seconds(d));
    return std::max(now + d, SimEngine::now());
  }

  /// Carries out a step's Effects in the order DESIGN.md fixes: record, persist (and wait for
  /// stable storage), then send, then start jobs.
  void carry_out(Time now) {
    core_->check_invariants();  // local invariants after every event (a failure is a faultline bug)
    // The observer (the protocol's safety monitor) first: the events are moved into the record
    // below, and a monitor that saw moved-from events would miss every `became_leader` and
    // `applied` (election safety, leader completeness and apply checks would never run).
    if (observer_) observer_(*core_, out_, now);
    for (auto& e : out_.events)
      ctx_.record.events.push_back(EventRecord{now, id_, std::move(e.kind), std::move(e.fields)});
    for (auto& h : out_.history) ctx_.record.history.push_back(std::move(h));
    if (out_.send_while_persisting) send_all();
    if (!out_.persist.empty()) {
      if (apply_)
        for (const auto& op : out_.persist) apply_(storage_, op);
      const Duration sync = ctx_.storage_time(id_, out_.persist_bytes, timing_);
      if (sync > 0) simgrid::s4u::this_actor::sleep_for(to_seconds(sync));
    }
    send_all();
    for (const auto& job : out_.compute) start_job(job.id, job.flops, 0, true);
    for (const auto& job : out_.disk) start_job(job.id, 0, ctx_.disk_load(id_, job.bytes, job.ops, job.write), job.write);
    out_.clear();
  }

  void send_all() {
    for (auto& s : out_.sends) transport_.send(id_, s.to, std::move(s.msg), s.size_bytes);
    out_.sends.clear();
  }

  /// A node-local notification for this incarnation (a finished job, a control poke).
  PacketT* local_packet(typename PacketT::Kind kind) const {
    auto* packet = new PacketT;
    packet->kind = kind;
    packet->to_incarnation = ctx_.slot(id_).incarnation;
    packet->envelope.from = packet->envelope.to = id_;
    return packet;
  }

  /// `bytes`: the disk load (RunContext::disk_load), 0 for a compute job.
  void start_job(JobId job, double flops, double bytes, bool write) {
    NodeSlot& slot = ctx_.slot(id_);
    auto* packet = local_packet(PacketT::Kind::JobDone);
    packet->job = job;
    auto* mailbox = slot.mailbox;
    auto* disk = ctx_.platform.disk(id_);
    auto helper = simgrid::s4u::Actor::create(
        slot.info.name + "-job", ctx_.platform.host(id_), [=] {
          if (flops > 0) simgrid::s4u::this_actor::execute(flops);
          if (bytes > 0 && disk) {
            const auto load = static_cast<sg_size_t>(std::llround(bytes));
            if (write)
              disk->write(load);
            else
              disk->read(load);
          }
          Transport<Message>::post(mailbox, packet, 0);
        });
    helper->daemonize();
    // Forget helpers that have finished, so the list stays short.
    std::erase_if(helpers_, [](auto pid) { return !simgrid::s4u::Actor::by_pid(pid); });
    helpers_.push_back(helper->get_pid());
  }

  RunContext& ctx_;
  Transport<Message>& transport_;
  NodeId id_;
  std::string stream_;
  Factory factory_;
  Apply apply_;
  Observer observer_;
  Control control_;
  Rng timing_;  // stream "timing/<name>": processing and sync-latency draws
  Persistent storage_{};
  std::unique_ptr<Core> core_;
  simgrid::s4u::ActorPtr actor_;
  std::vector<aid_t> helpers_;
  std::multimap<Time, PacketT*> held_;
  std::vector<simgrid::s4u::CommPtr> waiting_{1};  // the one receive kept open across waits
  Out out_;
};

}  // namespace faultline::sim
