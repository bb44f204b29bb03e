#include "faults/controller.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Engine.hpp>

#include "faults/targets.hpp"
#include "sim/engine.hpp"

namespace faultline::faults {
namespace {

/// `stop_when` is polled every 10 ms of simulated time, or every tenth of the time simulated so
/// far when that is longer: each poll rebuilds the report's metrics from every event (O(events)),
/// so a fixed period would make a long run quadratic (Figure 16's 150-150 ms trials run for
/// minutes of simulated time). A run stops at most 10% later than the condition first held.
constexpr Duration kStopPoll = 10 * kMillisecond;

/// A world that can finish (World::can_finish, a MapReduce job) is asked every 10 ms of
/// simulated time, or every thousandth of the time simulated so far when that is longer, whether
/// it has (an O(1) question): the run ends at most 0.1% later than the job. A Raft world cannot
/// finish and is never asked, so its runs keep their exact event order.
constexpr Duration kFinishPoll = 10 * kMillisecond;

bool later(const auto& a, const auto& b) { return a.at != b.at ? a.at > b.at : a.seq > b.seq; }

}  // namespace

Controller::Controller(const Scenario& scenario, sim::RunContext& ctx, sim::World& world,
                       std::function<bool()> stop_check)
    : scenario_(scenario),
      ctx_(ctx),
      world_(world),
      stop_check_(std::move(stop_check)),
      rng_(Rng(scenario.seed).fork("faults")) {
  // Random `at` instants are drawn in file order, so they do not depend on sorting.
  std::vector<const FaultSpec*> by_index;
  for (const auto& f : scenario_.faults) by_index.push_back(&f);
  std::sort(by_index.begin(), by_index.end(),
            [](auto* a, auto* b) { return a->index < b->index; });
  std::map<int, Time> at;
  for (const FaultSpec* f : by_index) at[f->index] = rng_.uniform(f->at.lo, f->at.hi);
  for (const auto& f : scenario_.faults) {
    const FaultSpec* fault = &f;
    schedule(at[f.index], [this, fault] { fire(*fault); });
  }
}

std::vector<double> Controller::cpu_factors(const Scenario& scenario) {
  std::vector<double> factors;
  for (const auto& f : scenario.faults)
    if (f.kind == FaultKind::Slow && f.slow.cpu != 1.0) factors.push_back(f.slow.cpu);
  return factors;
}

void Controller::spawn() {
  auto* host = ctx_.platform.host(0);
  simgrid::s4u::Actor::create("faults", host, [this] { main(); });
}

void Controller::schedule(Time at, std::function<void()> run) {
  queue_.push_back(Action{at, next_seq_++, std::move(run)});
  std::push_heap(queue_.begin(), queue_.end(), [](auto& a, auto& b) { return later(a, b); });
}

void Controller::main() {
  const Time end = scenario_.duration;
  const bool polling = static_cast<bool>(stop_check_);
  const bool finishing = world_.can_finish();
  Time next_poll = polling ? 0 : kNever;
  Time next_finish = finishing ? 0 : kNever;
  for (;;) {
    Time next = std::min({end, next_poll, next_finish});
    if (!queue_.empty()) next = std::min(next, queue_.front().at);
    if (next > sim::SimEngine::now()) simgrid::s4u::this_actor::sleep_until(to_seconds(next));
    if (!queue_.empty() && queue_.front().at <= next && queue_.front().at <= end) {
      std::pop_heap(queue_.begin(), queue_.end(), [](auto& a, auto& b) { return later(a, b); });
      Action action = std::move(queue_.back());
      queue_.pop_back();
      action.run();
    } else if (next >= end) {
      break;
    } else {
      if (next == next_poll) next_poll += std::max(kStopPoll, next_poll / 10);
      if (next == next_finish) next_finish += std::max(kFinishPoll, next_finish / 1000);
    }
    if (polling && stop_check_()) {
      ctx_.record.stopped_early = true;
      ctx_.event(kNoNode, "stop_when", {{"expr", scenario_.stop_when ? scenario_.stop_when->text : ""}});
      break;
    }
    if (finishing && world_.finished()) break;
  }
  ctx_.record.end_time = std::min(sim::SimEngine::now(), end);
  world_.collect_violations();
}

std::vector<NodeId> Controller::resolve(const TargetSpec& target) {
  return faults::resolve(target, world_, rng_);
}

std::vector<std::string> Controller::names(const std::vector<NodeId>& ids) const {
  std::vector<std::string> out;
  for (NodeId id : ids) out.push_back(ctx_.slot(id).info.name);
  return out;
}

void Controller::record(const FaultSpec& fault, const std::string& kind,
                        const std::vector<NodeId>& target, const std::string& note,
                        nlohmann::json extra) {
  FaultRecord r;
  r.time = sim::SimEngine::now();
  r.fault_index = fault.index;
  r.kind = kind;
  r.spec = fault.spec;
  r.note = note;
  if (!target.empty()) r.target = names(target);
  nlohmann::json fields = {{"fault", kind}, {"index", fault.index}};
  fields["target"] = r.target ? nlohmann::json(*r.target) : nlohmann::json(nullptr);
  if (!note.empty()) fields["note"] = note;
  if (extra.is_object()) fields.update(extra);
  ctx_.record.faults.push_back(std::move(r));
  ctx_.event(kNoNode, "fault", std::move(fields));
}

sim::NetworkFaults::ChangeId Controller::block_partition(
    const std::vector<std::vector<NodeId>>& groups) {
  std::vector<sim::NetworkFaults::Link> links;
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (std::size_t h = 0; h < groups.size(); ++h)
      if (g != h)
        for (NodeId a : groups[g])
          for (NodeId b : groups[h])
            if (a != b) links.emplace_back(a, b);
  return ctx_.network.add_blocks(links);
}

void Controller::fire(const FaultSpec& fault) {
  const std::optional<Duration> undo_after = fault.for_duration;
  auto undo_at = [&] { return sim::SimEngine::now() + *undo_after; };
  switch (fault.kind) {
    case FaultKind::Crash: {
      std::vector<NodeId> target;
      for (NodeId id : resolve(fault.target))
        if (world_.node(id).up()) target.push_back(id);
      record(fault, "crash", target);
      for (NodeId id : target) world_.node(id).crash();
      if (undo_after && !target.empty())
        schedule(undo_at(), [this, &fault, target] {
          for (NodeId id : target) world_.node(id).restart();
          record(fault, "restart", target, "undo: for elapsed");
        });
      return;
    }
    case FaultKind::Restart: {
      std::vector<NodeId> target;
      for (NodeId id : resolve(fault.target))
        if (!world_.node(id).up()) target.push_back(id);
      record(fault, "restart", target);
      for (NodeId id : target) world_.node(id).restart();
      return;
    }
    case FaultKind::Partition: {
      std::vector<std::vector<NodeId>> groups;
      std::vector<NodeId> everyone;
      for (const auto& g : fault.groups) {
        auto ids = resolve(g);
        if (!ids.empty()) groups.push_back(ids);
        for (NodeId id : ids) everyone.push_back(id);
      }
      if (groups.size() < 2) {
        record(fault, "partition", {});
        return;
      }
      nlohmann::json named = nlohmann::json::array();
      for (const auto& g : groups) named.push_back(names(g));
      record(fault, "partition", everyone, {}, {{"groups", named}});
      const auto id = block_partition(groups);
      if (undo_after)
        schedule(undo_at(), [this, &fault, id, everyone] {
          ctx_.network.remove_blocks(id);
          record(fault, "heal", everyone, "undo: for elapsed");
        });
      return;
    }
    case FaultKind::Isolate: {
      const auto target = resolve(fault.target);
      record(fault, "isolate", target);
      if (target.empty()) return;
      std::vector<sim::NetworkFaults::Link> links;
      for (NodeId a : target)
        for (std::size_t b = 0; b < world_.size(); ++b)
          if (static_cast<NodeId>(b) != a) {
            links.emplace_back(a, static_cast<NodeId>(b));
            links.emplace_back(static_cast<NodeId>(b), a);
          }
      const auto id = ctx_.network.add_blocks(links);
      if (undo_after)
        schedule(undo_at(), [this, &fault, id, target] {
          ctx_.network.remove_blocks(id);
          record(fault, "heal", target, "undo: for elapsed");
        });
      return;
    }
    case FaultKind::Cut: {
      const auto from = resolve(*fault.cut_from);
      const auto to = resolve(*fault.cut_to);
      std::vector<sim::NetworkFaults::Link> links;
      for (NodeId a : from)
        for (NodeId b : to)
          if (a != b) links.emplace_back(a, b);
      std::vector<NodeId> both = from;
      for (NodeId b : to)
        if (std::find(both.begin(), both.end(), b) == both.end()) both.push_back(b);
      record(fault, "cut", links.empty() ? std::vector<NodeId>{} : both);
      if (links.empty()) return;
      const auto id = ctx_.network.add_blocks(links);
      if (undo_after)
        schedule(undo_at(), [this, &fault, id, both] {
          ctx_.network.remove_blocks(id);
          record(fault, "heal", both, "undo: for elapsed");
        });
      return;
    }
    case FaultKind::Heal: {
      const bool all = fault.target.items.size() == 1 && fault.target.items[0] == "all";
      if (all) {
        std::vector<NodeId> everyone;
        for (std::size_t i = 0; i < world_.size(); ++i) everyone.push_back(static_cast<NodeId>(i));
        record(fault, "heal", everyone);
        ctx_.network.heal_all();
        return;
      }
      const auto target = resolve(fault.target);
      record(fault, "heal", target);
      ctx_.network.heal_nodes(std::set<NodeId>(target.begin(), target.end()));
      return;
    }
    case FaultKind::Slow: {
      const auto target = resolve(fault.slow.node);
      record(fault, "slow", target);
      for (NodeId id : target) {
        if (fault.slow.cpu != 1.0) ctx_.platform.set_cpu_factor(id, fault.slow.cpu);
        if (fault.slow.disk != 1.0) ctx_.platform.set_disk_factor(id, fault.slow.disk);
        if (fault.slow.latency != 0) ctx_.platform.add_latency(id, fault.slow.latency);
      }
      if (undo_after && !target.empty())
        schedule(undo_at(), [this, &fault, target] {
          for (NodeId id : target) {
            if (fault.slow.cpu != 1.0) ctx_.platform.set_cpu_factor(id, 1.0);
            if (fault.slow.disk != 1.0) ctx_.platform.set_disk_factor(id, 1.0);
            if (fault.slow.latency != 0) ctx_.platform.add_latency(id, -fault.slow.latency);
          }
          record(fault, "restore", target, "undo: for elapsed");
        });
      return;
    }
    case FaultKind::Network: {
      const auto before = ctx_.network.settings();
      std::vector<NodeId> target;
      if (fault.network.from || fault.network.to) {
        const auto from = fault.network.from ? resolve(*fault.network.from) : world_.servers();
        const auto to = fault.network.to ? resolve(*fault.network.to) : world_.servers();
        if (from.empty() || to.empty()) {
          record(fault, "network", {});  // one side matched nobody: no link changes
          return;
        }
        target = from;
        for (NodeId b : to)
          if (std::find(target.begin(), target.end(), b) == target.end()) target.push_back(b);
      } else {
        for (std::size_t i = 0; i < world_.size(); ++i) target.push_back(static_cast<NodeId>(i));
      }
      apply_network(fault.network);
      record(fault, "network", target);
      if (undo_after)
        schedule(undo_at(), [this, &fault, before, target] {
          ctx_.network.restore(before);
          record(fault, "network", target, "undo: for elapsed (previous settings restored)");
        });
      return;
    }
    case FaultKind::Elect:
    case FaultKind::Heartbeat: {
      const bool elect = fault.kind == FaultKind::Elect;
      const int control = elect ? world_.elect_control() : world_.heartbeat_control();
      const auto target = resolve(fault.target);
      record(fault, elect ? "elect" : "heartbeat", control < 0 ? std::vector<NodeId>{} : target);
      if (control >= 0)
        for (NodeId id : target) world_.node(id).poke(control);
      return;
    }
    case FaultKind::Nemesis: {
      if (fault.nemesis.targets) {
        // A role word stands for every server that has the role now (`worker`: all workers).
        std::vector<NodeId> pool;
        auto add = [&pool](NodeId id) {
          if (std::find(pool.begin(), pool.end(), id) == pool.end()) pool.push_back(id);
        };
        for (const std::string& item : fault.nemesis.targets->items) {
          std::vector<NodeId> with_role;
          if (world_.find(item) == kNoNode)
            for (NodeId id : world_.servers())
              if (world_.node(id).up() && world_.node(id).role() == item) with_role.push_back(id);
          if (with_role.empty()) with_role = resolve(TargetSpec{{item}, fault.nemesis.targets->loc});
          for (NodeId id : with_role) add(id);
        }
        std::sort(pool.begin(), pool.end());
        nemesis_pool_[fault.index] = pool;
      }
      record(fault, "nemesis", nemesis_pool(fault), "started");
      const FaultSpec* spec = &fault;
      schedule(sim::SimEngine::now() + rng_.uniform(fault.nemesis.every.lo, fault.nemesis.every.hi),
               [this, spec] { nemesis_tick(*spec); });
      schedule(fault.nemesis.until, [this, spec] { nemesis_end(*spec); });
      return;
    }
  }
}

void Controller::apply_network(const NetworkSpec& spec) {
  auto& settings = ctx_.network.mutable_settings();
  if (spec.reliable) {
    settings = sim::NetworkFaults::Settings{};
    return;
  }
  auto update = [&](sim::LinkSettings& s) {
    if (spec.drop) s.drop = *spec.drop;
    if (spec.duplicate) s.duplicate = *spec.duplicate;
    if (spec.delay) s.delay = *spec.delay;
    if (spec.long_delay) {
      s.long_delay_p = spec.long_delay->p;
      s.long_delay = spec.long_delay->delay;
    }
  };
  // A fault updates every entry it covers, the more specific ones included (a global drop also
  // changes links and kinds set apart earlier); a new entry starts from what applied before.
  const bool all_links = !spec.from && !spec.to;
  std::vector<NodeId> from, to;
  if (!all_links) {
    from = spec.from ? resolve(*spec.from) : world_.servers();
    to = spec.to ? resolve(*spec.to) : world_.servers();
  }
  auto covered = [&](NodeId a, NodeId b) {
    return all_links || (std::find(from.begin(), from.end(), a) != from.end() &&
                         std::find(to.begin(), to.end(), b) != to.end());
  };
  auto kind_listed = [&](const std::string& k) {
    return spec.kinds.empty() || std::find(spec.kinds.begin(), spec.kinds.end(), k) != spec.kinds.end();
  };
  for (auto& [key, s] : settings.per_link_kind)
    if (covered(std::get<0>(key), std::get<1>(key)) && kind_listed(std::get<2>(key))) update(s);
  if (spec.kinds.empty()) {
    if (all_links) update(settings.global);
    for (auto& [k, s] : settings.per_kind)
      if (all_links) update(s);
    for (auto& [link, s] : settings.per_link)
      if (covered(link.first, link.second)) update(s);
    if (all_links) return;
    for (NodeId a : from)
      for (NodeId b : to) {
        if (a == b || settings.per_link.count({a, b})) continue;
        auto& s = settings.per_link.emplace(std::make_pair(a, b), ctx_.network.link(a, b)).first->second;
        update(s);
      }
    return;
  }
  // `kinds:` given: only entries for those kinds change. Links set apart earlier get a per-link
  // entry for the kind, so the most specific entry a message is judged by sees this fault too.
  for (const std::string& k : spec.kinds) {
    std::vector<sim::NetworkFaults::Link> links;
    if (all_links) {
      update(settings.per_kind.emplace(k, settings.global).first->second);
      for (const auto& [link, s] : settings.per_link) links.push_back(link);
    } else {
      for (NodeId a : from)
        for (NodeId b : to)
          if (a != b) links.emplace_back(a, b);
    }
    for (const auto& [a, b] : links) {
      if (settings.per_link_kind.count({a, b, k})) continue;
      const sim::LinkSettings before = ctx_.network.link(a, b, k);
      update(settings.per_link_kind.emplace(sim::NetworkFaults::LinkKind{a, b, k}, before)
                 .first->second);
    }
  }
}

const std::vector<NodeId>& Controller::nemesis_pool(const FaultSpec& fault) const {
  auto it = nemesis_pool_.find(fault.index);
  return it == nemesis_pool_.end() ? world_.servers() : it->second;
}

void Controller::nemesis_tick(const FaultSpec& fault) {
  const Time now = sim::SimEngine::now();
  if (now >= fault.nemesis.until) return;
  // The kinds it may pick: the listed ones, plus the undo of each (restart after crash, heal
  // after partition), so the cluster keeps churning instead of ending all down.
  // Only kinds that can do something now are drawn: restart needs a crashed server, heal needs
  // a nemesis partition, so every tick changes the cluster.
  std::vector<NodeId> up, down;
  const std::vector<NodeId>& pool = nemesis_pool(fault);
  for (NodeId id : pool) (world_.node(id).up() ? up : down).push_back(id);
  const auto& listed_kinds = fault.nemesis.faults;
  auto listed = [&](const char* k) {
    return std::find(listed_kinds.begin(), listed_kinds.end(), k) != listed_kinds.end();
  };
  std::vector<std::string> kinds;
  if (listed("crash") && !up.empty()) kinds.push_back("crash");
  if ((listed("crash") || listed("restart")) && !down.empty()) kinds.push_back("restart");
  if (listed("partition")) kinds.push_back("partition");
  if (listed("partition") && !nemesis_blocks_.empty()) kinds.push_back("heal");
  const Time next = now + rng_.uniform(fault.nemesis.every.lo, fault.nemesis.every.hi);
  if (next < fault.nemesis.until) schedule(next, [this, &fault] { nemesis_tick(fault); });
  if (kinds.empty()) return;
  const std::string kind = kinds[static_cast<std::size_t>(rng_.below(kinds.size()))];

  if (kind == "crash" && !up.empty()) {
    const NodeId victim = up[static_cast<std::size_t>(rng_.below(up.size()))];
    record(fault, "crash", {victim}, "nemesis");
    world_.node(victim).crash();
    nemesis_crashed_.insert(victim);
  } else if (kind == "restart" && !down.empty()) {
    const NodeId lucky = down[static_cast<std::size_t>(rng_.below(down.size()))];
    record(fault, "restart", {lucky}, "nemesis");
    world_.node(lucky).restart();
    nemesis_crashed_.erase(lucky);
  } else if (kind == "partition") {
    // A random split of the servers into two non-empty sides; it replaces the previous one.
    for (auto id : nemesis_blocks_) ctx_.network.remove_blocks(id);
    nemesis_blocks_.clear();
    std::vector<NodeId> a, b;
    if (fault.nemesis.targets) {
      // With `targets:`, a random non-empty part of them is cut off from every other server.
      for (NodeId id : pool)
        if (rng_.chance(0.5)) a.push_back(id);
      if (a.empty() && !pool.empty()) a.push_back(pool[static_cast<std::size_t>(rng_.below(pool.size()))]);
      for (NodeId id : world_.servers())
        if (std::find(a.begin(), a.end(), id) == a.end()) b.push_back(id);
    } else {
      for (NodeId id : world_.servers()) (rng_.chance(0.5) ? a : b).push_back(id);
    }
    if (a.empty()) a.push_back(b.back()), b.pop_back();
    if (b.empty()) b.push_back(a.back()), a.pop_back();
    std::vector<NodeId> all = a;
    all.insert(all.end(), b.begin(), b.end());
    record(fault, "partition", all,
           fmt::format("nemesis: {} | {}", fmt::join(names(a), " "), fmt::join(names(b), " ")),
           {{"groups", {names(a), names(b)}}});
    nemesis_blocks_.push_back(block_partition({a, b}));
  } else if (kind == "heal" && !nemesis_blocks_.empty()) {
    for (auto id : nemesis_blocks_) ctx_.network.remove_blocks(id);
    nemesis_blocks_.clear();
    record(fault, "heal", world_.servers(), "nemesis");
  }
}

void Controller::nemesis_end(const FaultSpec& fault) {
  std::vector<NodeId> restarted;
  for (NodeId id : nemesis_crashed_)
    if (!world_.node(id).up()) restarted.push_back(id);
  for (NodeId id : restarted) world_.node(id).restart();
  for (auto id : nemesis_blocks_) ctx_.network.remove_blocks(id);
  nemesis_blocks_.clear();
  nemesis_crashed_.clear();
  record(fault, "nemesis-end", nemesis_pool(fault),
         fmt::format("until reached: restarted [{}], partitions healed", fmt::join(names(restarted), ", ")));
}

}  // namespace faultline::faults
