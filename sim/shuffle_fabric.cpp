#include "sim/shuffle_fabric.hpp"

#include <cmath>

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Disk.hpp>

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
  location_worker_.assign(maps, kNoNode);
  completed_.resize(static_cast<std::size_t>(racks_));
  by_rack_.resize(static_cast<std::size_t>(racks_));
  pairs_.resize(static_cast<std::size_t>(racks_ * racks_));
}

void ShuffleFabric::map_committed(int map, NodeId worker) {
  const auto m = static_cast<std::size_t>(map);
  const int rack = ctx_.platform.rack_of(worker);
  ++generation_[m];
  location_rack_[m] = rack;
  location_worker_[m] = worker;
  completed_[static_cast<std::size_t>(rack)].push_back(Entry{map, generation_[m]});
  poke_source(rack);
}

void ShuffleFabric::map_reset(int map) {
  const auto m = static_cast<std::size_t>(map);
  ++generation_[m];  // entries of the lost output no longer match: never shipped again
  location_rack_[m] = -1;
  location_worker_[m] = kNoNode;
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
  auto batch = std::make_shared<Batch>();
  batch->from = from;
  batch->to = to;
  std::map<NodeId, Read> reads;  // per source worker: its partitions of this batch
  const auto& list = completed_[static_cast<std::size_t>(from)];
  for (Attempt* a : by_rack_[static_cast<std::size_t>(to)]) {
    std::size_t& c = a->cursor[static_cast<std::size_t>(from)];
    Item item{Key{a->reduce, a->attempt}, {}};
    for (; c < list.size(); ++c) {
      const Entry e = list[c];
      const auto m = static_cast<std::size_t>(e.map);
      if (generation_[m] != e.generation || a->have[m]) continue;
      item.entries.push_back(e);
      const std::uint64_t bytes = job_->modelled_partition_bytes(e.map);
      batch->bytes += bytes;
      Read& r = reads[location_worker_[m]];
      r.bytes += bytes;
      ++r.ops;
    }
    if (!item.entries.empty()) batch->items.push_back(std::move(item));
  }
  if (batch->items.empty()) return;
  Pair& p = pair(from, to);
  batch->started = SimEngine::now();
  p.in_flight = true;
  p.next_start = batch->started + batch_interval_;
  ++flows_;
  bytes_ += batch->bytes;
  batch->reads_left = static_cast<int>(reads.size());
  for (auto& [worker, read] : reads) {
    read.batch = batch;
    read_on(worker, std::move(read));
  }
}

void ShuffleFabric::read_on(NodeId worker, Read read) {
  SourceDisk& d = disks_[worker];
  d.pending.push_back(std::move(read));
  if (d.busy) return;
  d.busy = true;
  sg4::Actor::create("shuffle-read", ctx_.platform.host(worker), [this, worker] {
    SourceDisk& disk = disks_[worker];
    auto* device = ctx_.platform.disk(worker);
    while (!disk.pending.empty()) {
      std::vector<Read> round;
      round.swap(disk.pending);
      double load = 0;
      for (const Read& r : round) load += ctx_.disk_load(worker, r.bytes, r.ops, false);
      if (device && load > 0) {
        ++disk_rounds_;
        device->read(static_cast<sg_size_t>(std::llround(load)));
      }
      for (const Read& r : round)
        if (--r.batch->reads_left == 0) ship(r.batch);
    }
    disk.busy = false;
  })->daemonize();
}

void ShuffleFabric::ship(const std::shared_ptr<Batch>& batch) {
  sg4::Actor::create("shuffle", ctx_.platform.gateway(batch->from), [this, batch] {
    const int from = batch->from;
    const int to = batch->to;
    sg4::Comm::sendto(ctx_.platform.gateway(from), ctx_.platform.gateway(to),
                      std::max<std::uint64_t>(batch->bytes, 1));
    ctx_.event(job_->coordinator, "transfer",
               {{"what", "shuffle"}, {"bytes", batch->bytes}, {"start_s", to_seconds(batch->started)},
                {"from_rack", from}, {"to_rack", to}});
    for (const Item& item : batch->items) {
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
