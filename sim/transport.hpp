// Transport over SimGrid mailboxes (DESIGN.md, "Transport").
//
// One mailbox per node, with the node's actor as its permanent receiver so that messages start
// flowing the moment they are sent (without it, SimGrid would only start a transfer when the
// receiver posts a get, serialising a burst of messages to one node). Sends are detached puts
// whose byte size drives the network model. Every per-message fault lives here: a message is
// judged when it is sent (partition, drop, duplicate, extra delay) and again when it is
// delivered (partition, addressee's incarnation).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include "common/effects.hpp"
#include "sim/engine.hpp"
#include "sim/run_context.hpp"

namespace faultline::sim {

/// What travels through a mailbox: a protocol message, or a node-local notification (a helper
/// actor's finished job, a fault's control poke) sent over the host's zero-cost loopback.
template <class Msg>
struct Packet {
  enum class Kind { Message, JobDone, Control };
  Kind kind = Kind::Message;
  std::uint32_t from_incarnation = 0;
  std::uint32_t to_incarnation = 0;
  Duration extra_delay = 0;  // network `delay`/`long_delay`: held by the receiver this long
  Time sent_at = 0;          // for --trace-messages (RunRecord::messages)
  JobId job = 0;
  int control = 0;
  Envelope<Msg> envelope;
};

template <class Message>
class Transport {
 public:
  using Kind = std::function<const char*(const Message&)>;
  Transport(RunContext& ctx, Kind kind_name) : ctx_(ctx), kind_name_(std::move(kind_name)) {}

  /// Bulk data (MapReduce's split data, fetched partitions, output replicas): a message of at
  /// least `bytes` travels as its own host-to-host flow and is handed to the addressee's
  /// mailbox, over its loopback, only once it has fully arrived. Through the mailbox itself a
  /// node receives in sending order, so a 250 MB transfer would hold back every ping sent to
  /// the node after it (head-of-line blocking that TCP connections between different peers do
  /// not have; measured: pings delivered 14 s late, 95 workers of the paper-scale sort
  /// declared dead). A bulk message whose sender crashed or restarted before it arrived is
  /// dropped (the connection died with the sender). 0 (the default): off.
  void set_bulk_threshold(std::uint64_t bytes) { bulk_threshold_ = bytes; }

  /// Sends `msg` from `from` to `to` with `size_bytes` on the wire.
  void send(NodeId from, NodeId to, Message msg, std::uint64_t size_bytes) {
    const char* kind = kind_name_(msg);
    ctx_.record.count_sent(kind, SimEngine::now());
    const SendVerdict verdict = ctx_.network.judge_send(from, to, kind, ctx_.network_rng);
    if (verdict.dropped) {
      ++ctx_.record.messages_dropped;
      return;
    }
    if (verdict.copies.size() > 1) ++ctx_.record.messages_duplicated;
    const NodeSlot& dst = ctx_.slot(to);
    for (std::size_t i = 0; i < verdict.copies.size(); ++i) {
      auto* packet = new Packet<Message>;
      packet->from_incarnation = ctx_.slot(from).incarnation;
      packet->to_incarnation = dst.incarnation;
      packet->extra_delay = verdict.copies[i];
      packet->sent_at = SimEngine::now();
      packet->envelope.from = from;
      packet->envelope.to = to;
      packet->envelope.msg = (i + 1 == verdict.copies.size()) ? std::move(msg) : msg;
      if (bulk_threshold_ > 0 && size_bytes >= bulk_threshold_)
        post_bulk(from, to, packet, size_bytes);
      else
        post(dst.mailbox, packet, size_bytes);
    }
  }

  /// Hands `packet` to a node from a throw-away actor on the node's own `host`: the loopback
  /// route makes it instant (a fault's control poke, the aggregated shuffle's ShuffleDone).
  static void post_local(simgrid::s4u::Host* host, simgrid::s4u::Mailbox* mailbox, Packet<Message>* packet) {
    simgrid::s4u::Actor::create("local", host, [mailbox, packet] { post(mailbox, packet, 0); })->daemonize();
  }

  /// True when a packet that reached its addressee may be handed to the core.
  bool deliverable(const Packet<Message>& p) const {
    if (p.to_incarnation != ctx_.slot(p.envelope.to).incarnation) return false;
    if (ctx_.network.blocked(p.envelope.from, p.envelope.to)) {
      ++ctx_.record.messages_dropped;
      return false;
    }
    if (ctx_.trace_messages)
      ctx_.record.messages.push_back(MessageRecord{p.sent_at, SimEngine::now(), p.envelope.from,
                                                   p.envelope.to, kind_name_(p.envelope.msg)});
    return true;
  }

  /// Detached put: SimGrid owns the transfer; if it fails (receiver killed) the packet is freed.
  static void post(simgrid::s4u::Mailbox* mailbox, Packet<Message>* packet, std::uint64_t size) {
    mailbox->put_init(packet, size)->detach(
        [](void* p) { delete static_cast<Packet<Message>*>(p); });
  }

 private:
  /// The flow runs in a helper actor on the addressee's host (so the final hand-over to the
  /// mailbox is instant), which a crash of the addressee does not kill: its packet then carries
  /// the dead incarnation and is dropped on delivery.
  void post_bulk(NodeId from, NodeId to, Packet<Message>* packet, std::uint64_t size_bytes) {
    RunContext* ctx = &ctx_;
    simgrid::s4u::Actor::create("bulk", ctx_.platform.host(to), [ctx, from, to, packet, size_bytes] {
      simgrid::s4u::Comm::sendto(ctx->platform.host(from), ctx->platform.host(to), size_bytes);
      const NodeSlot& sender = ctx->slot(from);
      if (!sender.up || sender.incarnation != packet->from_incarnation) {
        delete packet;
        ++ctx->record.messages_dropped;
        return;
      }
      post(ctx->slot(to).mailbox, packet, 0);
    })->daemonize();
  }

  RunContext& ctx_;
  Kind kind_name_;
  std::uint64_t bulk_threshold_ = 0;
};

}  // namespace faultline::sim
