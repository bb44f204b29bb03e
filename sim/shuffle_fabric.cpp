#include "sim/shuffle_fabric.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>

#include "protocols/mapreduce/messages.hpp"
#include "sim/engine.hpp"
#include "sim/transport.hpp"

namespace faultline::sim {
namespace sg4 = simgrid::s4u;

ShuffleFabric::ShuffleFabric(RunContext& ctx, std::shared_ptr<const mapreduce::Job> job,
                             Duration batch_interval)
    : ctx_(ctx), job_(std::move(job)), batch_interval_(batch_interval) {
  racks_ = std::max(1, ctx_.platform.racks());
  const auto maps = static_cast<std::size_t>(job_->map_tasks());
  generation_.assign(maps, 0);
  location_rack_.assign(maps, -1);
  completed_.resize(static_cast<std::size_t>(racks_));
  by_rack_.resize(static_cast<std::size_t>(racks_));
  pairs_.resize(static_cast<std::size_t>(racks_ * racks_));
}

void ShuffleFabric::map_committed(int map, NodeId worker) {
  const auto m = static_cast<std::size_t>(map);
  const int rack = ctx_.platform.rack_of(worker);
  ++generation_[m];
  location_rack_[m] = rack;
  completed_[static_cast<std::size_t>(rack)].push_back(Entry{map, generation_[m]});
  poke_source(rack);
}

void ShuffleFabric::map_reset(int map) {
  const auto m = static_cast<std::size_t>(map);
  ++generation_[m];  // entries of the lost output no longer match: never shipped again
  location_rack_[m] = -1;
}

void ShuffleFabric::reduce_started(int reduce, int attempt, NodeId worker) {
  auto a = std::make_unique<Attempt>();
  a->reduce = reduce;
  a->attempt = attempt;
  a->worker = worker;
  a->rack = ctx_.platform.rack_of(worker);
  a->have.assign(static_cast<std::size_t>(job_->map_tasks()), false);
  a->cursor.assign(static_cast<std::size_t>(racks_), 0);
  Attempt* raw = a.get();
  attempts_[Key{reduce, attempt}] = std::move(a);
  by_rack_[static_cast<std::size_t>(raw->rack)].push_back(raw);
  if (job_->map_tasks() == 0) {
    deliver(*raw);
    return;
  }
  poke_destination(raw->rack);
}

void ShuffleFabric::reduce_ended(int reduce, int attempt) {
  auto it = attempts_.find(Key{reduce, attempt});
  if (it == attempts_.end() || !it->second->active) return;
  Attempt& a = *it->second;
  a.active = false;
  auto& list = by_rack_[static_cast<std::size_t>(a.rack)];
  std::erase(list, &a);
  // The attempt object stays: a batch in flight may still name it.
  a.have.clear();
  a.have.shrink_to_fit();
}

void ShuffleFabric::poke_source(int rack) {
  for (int to = 0; to < racks_; ++to)
    if (!by_rack_[static_cast<std::size_t>(to)].empty()) try_start(rack, to);
}

void ShuffleFabric::poke_destination(int rack) {
  for (int from = 0; from < racks_; ++from)
    if (!completed_[static_cast<std::size_t>(from)].empty()) try_start(from, rack);
}

void ShuffleFabric::try_start(int from, int to) {
  Pair& p = pair(from, to);
  if (p.in_flight || p.scheduled) return;
  const Time now = SimEngine::now();
  if (now < p.next_start) {
    // Too soon after the previous batch: wake up when the pair may ship again.
    p.scheduled = true;
    sg4::Actor::create("shuffle-wait", ctx_.platform.gateway(from), [this, from, to] {
      sg4::this_actor::sleep_until(to_seconds(pair(from, to).next_start));
      pair(from, to).scheduled = false;
      try_start(from, to);
    })->daemonize();
    return;
  }
  start(from, to);
}

void ShuffleFabric::start(int from, int to) {
  struct Item {
    Key attempt;
    std::vector<Entry> entries;
  };
  auto items = std::make_shared<std::vector<Item>>();
  std::uint64_t bytes = 0;
  const auto& list = completed_[static_cast<std::size_t>(from)];
  for (Attempt* a : by_rack_[static_cast<std::size_t>(to)]) {
    std::size_t& c = a->cursor[static_cast<std::size_t>(from)];
    Item item{Key{a->reduce, a->attempt}, {}};
    for (; c < list.size(); ++c) {
      const Entry e = list[c];
      const auto m = static_cast<std::size_t>(e.map);
      if (generation_[m] != e.generation || a->have[m]) continue;
      item.entries.push_back(e);
      bytes += job_->modelled_partition_bytes(e.map);
    }
    if (!item.entries.empty()) items->push_back(std::move(item));
  }
  if (items->empty()) return;
  Pair& p = pair(from, to);
  const Time started = SimEngine::now();
  p.in_flight = true;
  p.next_start = started + batch_interval_;
  ++flows_;
  bytes_ += bytes;
  sg4::Actor::create("shuffle", ctx_.platform.gateway(from), [this, from, to, items, bytes, started] {
    sg4::Comm::sendto(ctx_.platform.gateway(from), ctx_.platform.gateway(to), std::max<std::uint64_t>(bytes, 1));
    ctx_.event(job_->coordinator, "transfer",
               {{"what", "shuffle"}, {"bytes", bytes}, {"start_s", to_seconds(started)},
                {"from_rack", from}, {"to_rack", to}});
    for (const Item& item : *items) {
      auto it = attempts_.find(item.attempt);
      if (it == attempts_.end() || !it->second->active) continue;
      Attempt& a = *it->second;
      for (const Entry& e : item.entries) {
        const auto m = static_cast<std::size_t>(e.map);
        // An output reset while the batch was in flight is not delivered (see the header).
        if (generation_[m] != e.generation || a.have[m]) continue;
        a.have[m] = true;
        ++a.delivered;
        a.bytes += job_->modelled_partition_bytes(e.map);
      }
      if (a.delivered == job_->map_tasks()) deliver(a);
    }
    pair(from, to).in_flight = false;
    try_start(from, to);
  })->daemonize();
}

void ShuffleFabric::deliver(Attempt& a) {
  const NodeId worker = a.worker;
  NodeSlot& slot = ctx_.slot(worker);
  auto* packet = new Packet<mapreduce::Message>;
  packet->kind = Packet<mapreduce::Message>::Kind::Message;
  packet->to_incarnation = packet->from_incarnation = slot.incarnation;
  packet->sent_at = SimEngine::now();
  packet->envelope.from = packet->envelope.to = worker;
  packet->envelope.msg = mapreduce::ShuffleDone{a.reduce, a.attempt, a.bytes};
  reduce_ended(a.reduce, a.attempt);  // nothing more to ship
  Transport<mapreduce::Message>::post_local(ctx_.platform.host(worker), slot.mailbox, packet);
}

}  // namespace faultline::sim
