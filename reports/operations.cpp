#include "reports/operations.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace faultline::reports {

std::vector<Operation> pair_operations(const std::vector<HistoryEntry>& history) {
  std::vector<Operation> ops;
  std::map<std::int64_t, std::size_t> open;  // process -> index in ops
  for (const auto& h : history) {
    if (h.type == OpType::Invoke) {
      open[h.process] = ops.size();
      ops.push_back(Operation{h.process, h.f, h.time, std::nullopt, OpType::Info, h.client, h.key});
      continue;
    }
    auto it = open.find(h.process);
    if (it == open.end()) continue;  // a completion without invocation: not ours to judge here
    Operation& op = ops[it->second];
    op.complete = h.time;
    op.outcome = h.type;
    open.erase(it);
  }
  return ops;
}

std::vector<Phase> phases_of(const RunRecord& record) {
  std::vector<Phase> phases;
  Time start = 0;
  std::string name = "before any fault";
  std::size_t i = 0;
  const auto& faults = record.faults;
  while (i < faults.size()) {
    const Time t = faults[i].time;
    std::vector<std::string> what;
    for (; i < faults.size() && faults[i].time == t; ++i) {
      const auto& f = faults[i];
      std::string target = f.target ? fmt::format("{}", fmt::join(*f.target, ",")) : "nobody";
      what.push_back(fmt::format("{} {}", f.kind, target));
    }
    if (t > start) phases.push_back(Phase{name, start, t});
    start = t;
    name = fmt::format("after {}", fmt::join(what, "; "));
  }
  phases.push_back(Phase{name, start, std::max(start, record.end_time)});
  return phases;
}

namespace {

nlohmann::json metrics_over(const std::vector<const Operation*>& ops, Time span) {
  std::int64_t ok = 0, failed = 0, info = 0;
  std::vector<double> latencies;
  for (const Operation* op : ops) {
    if (op->outcome == OpType::Ok) {
      ++ok;
      latencies.push_back(to_ms(*op->complete - op->invoke));
    } else if (op->outcome == OpType::Fail) {
      ++failed;
    } else {
      ++info;
    }
  }
  const double seconds = to_seconds(span);
  return {{"ops_ok", ok},
          {"ops_failed", failed},
          {"ops_info", info},
          {"throughput_ops_s", seconds > 0 ? static_cast<double>(ok) / seconds : 0.0},
          {"latency_ms", to_json(summarize(latencies))}};
}

}  // namespace

nlohmann::json operation_metrics(const std::vector<Operation>& ops, const std::vector<Phase>& phases) {
  std::vector<const Operation*> all;
  Time first = kNever, last = 0;
  for (const auto& op : ops) {
    all.push_back(&op);
    first = std::min(first, op.invoke);
    if (op.complete) last = std::max(last, *op.complete);
  }
  nlohmann::json j = metrics_over(all, first == kNever ? 0 : std::max<Time>(0, last - first));
  nlohmann::json list = nlohmann::json::array();
  for (const auto& phase : phases) {
    std::vector<const Operation*> in;
    for (const auto& op : ops) {
      // An operation belongs to the phase in which it completed (or, if it never did, in
      // which it was invoked).
      const Time t = op.complete ? *op.complete : op.invoke;
      if (t >= phase.start && (t < phase.end || (t == phase.end && &phase == &phases.back())))
        in.push_back(&op);
    }
    nlohmann::json p = metrics_over(in, phase.end - phase.start);
    p["name"] = phase.name;
    p["start_s"] = to_seconds(phase.start);
    p["end_s"] = to_seconds(phase.end);
    list.push_back(std::move(p));
  }
  // The last phase (after the last fault) on its own: "progress resumes after heal" reads
  // `final_phase.ops_ok >= 1`.
  j["final_phase"] = list.empty() ? nlohmann::json(nullptr) : list.back();
  j["phases"] = std::move(list);
  return j;
}

}  // namespace faultline::reports
