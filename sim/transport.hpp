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
      post(dst.mailbox, packet, size_bytes);
    }
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
  RunContext& ctx_;
  Kind kind_name_;
};

}  // namespace faultline::sim
