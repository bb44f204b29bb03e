#include "reports/trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "reports/event_json.hpp"
#include "reports/operations.hpp"

namespace faultline::reports {
namespace {

// Processes group the tracks in the viewer. Thread ids are pid × kTidBase + k: unique across
// processes, ordered the way the tracks should be listed, and never equal to a pid (a viewer
// takes tid == pid for a process's main thread).
constexpr int kRunPid = 1;
constexpr int kServersPid = 2;
constexpr int kClientsPid = 3;
constexpr int kTidBase = 100000;
constexpr int kFaultsTid = kRunPid * kTidBase + 1;
constexpr int kElectionsTid = kRunPid * kTidBase + 2;
constexpr int kViolationsTid = kRunPid * kTidBase + 3;

/// A complete slice on one node's tracks, before it is given a lane.
struct Slice {
  Time start = 0;
  Time end = 0;
  std::string name;
  std::string cat;
  nlohmann::json args;
};

class Trace {
 public:
  void name_process(int pid, int first_tid, const std::string& name) {
    // Process metadata carries the tid of one of the process's own tracks, so that it does
    // not create a thread of its own.
    metadata(pid, first_tid, "process_name", {{"name", name}});
    metadata(pid, first_tid, "process_sort_index", {{"sort_index", pid}});
  }
  void name_thread(int pid, int tid, const std::string& name) {
    metadata(pid, tid, "thread_name", {{"name", name}});
    metadata(pid, tid, "thread_sort_index", {{"sort_index", tid}});
  }
  nlohmann::json& complete(int pid, int tid, const Slice& s) {
    return events_.emplace_back(nlohmann::json{{"ph", "X"},
                                               {"pid", pid},
                                               {"tid", tid},
                                               {"ts", trace_us(s.start)},
                                               {"dur", trace_us(s.end - s.start)},
                                               {"name", s.name},
                                               {"cat", s.cat},
                                               {"args", s.args}});
  }
  void instant(int pid, int tid, Time t, const std::string& name, const std::string& cat,
               nlohmann::json args) {
    events_.push_back({{"ph", "i"},
                       {"s", "t"},
                       {"pid", pid},
                       {"tid", tid},
                       {"ts", trace_us(t)},
                       {"name", name},
                       {"cat", cat},
                       {"args", std::move(args)}});
  }
  /// A nestable async slice ("b" ... "e"): may overlap anything, drawn on its own row.
  void async_slice(int pid, int tid, Time start, Time end, const std::string& name,
                   const std::string& cat, const std::string& id, const nlohmann::json& args) {
    for (const auto& [ph, t] : {std::pair{"b", start}, std::pair{"e", end}})
      events_.push_back({{"ph", ph},
                         {"pid", pid},
                         {"tid", tid},
                         {"ts", trace_us(t)},
                         {"name", name},
                         {"cat", cat},
                         {"id", id},
                         {"args", ph == std::string("b") ? args : nlohmann::json::object()}});
  }

  std::string text(const nlohmann::json& other_data) const {
    std::string out =
        R"({"displayTimeUnit":"ms","otherData":)" + other_data.dump() + ",\n\"traceEvents\":[\n";
    for (std::size_t i = 0; i < events_.size(); ++i) {
      out += events_[i].dump();
      out += i + 1 < events_.size() ? ",\n" : "\n";
    }
    out += "]}\n";
    return out;
  }

 private:
  void metadata(int pid, int tid, const char* what, nlohmann::json args) {
    events_.push_back({{"ph", "M"},
                       {"pid", pid},
                       {"tid", tid},
                       {"ts", 0},
                       {"name", what},
                       {"args", std::move(args)}});
  }

  std::vector<nlohmann::json> events_;
};

std::string names_text(const std::vector<std::string>& names) {
  if (names.size() <= 6) return fmt::format("{}", fmt::join(names, ","));
  return fmt::format("{},… ({})", fmt::join(names.begin(), names.begin() + 5, ","), names.size());
}

/// "crash n2", "partition n1,c1 | n2,n3,n4,n5" (`groups`: the sides, from the fault's event).
std::string fault_label(const FaultRecord& f, const nlohmann::json& groups) {
  if (!f.target) return f.kind + " (matched nobody)";
  if (groups.is_array() && !groups.empty()) {
    std::vector<std::string> sides;
    for (const auto& g : groups) sides.push_back(names_text(g.get<std::vector<std::string>>()));
    return fmt::format("{} {}", f.kind, fmt::join(sides, " | "));
  }
  return fmt::format("{} {}", f.kind, names_text(*f.target));
}

nlohmann::json fault_args(const FaultRecord& f) {
  nlohmann::json args = {
      {"spec", f.spec}, {"index", f.fault_index}, {"time_s", to_seconds(f.time)}};
  args["target"] = f.target ? nlohmann::json(*f.target) : nlohmann::json(nullptr);
  if (!f.note.empty()) args["note"] = f.note;
  return args;
}

/// Each node's role over time, from its events: start/restart (the initial role; clients
/// none), crash, became_<role>, stepped_down (follower). An event that repeats the current
/// role and term (became_follower right after stepped_down) continues the slice.
std::vector<std::vector<Slice>> role_slices(const RunRecord& record,
                                            const std::string& initial_role) {
  struct Open {
    std::string role;
    Time start = 0;
    nlohmann::json args;
  };
  std::vector<std::optional<Open>> open(record.nodes.size());
  std::vector<std::vector<Slice>> slices(record.nodes.size());
  auto close = [&](std::size_t n, Time t) {
    // A role held for no time at all (two role events at one instant) is not drawn.
    if (open[n] && t > open[n]->start)
      slices[n].push_back(Slice{open[n]->start, t, open[n]->role, "role", open[n]->args});
    open[n].reset();
  };
  for (const auto& e : record.events) {
    if (e.node == kNoNode) continue;
    const auto n = static_cast<std::size_t>(e.node);
    std::optional<std::string> role;
    if (e.kind == "start" || e.kind == "restart")
      role = record.nodes[n].kind == NodeKind::Server ? initial_role : "";
    else if (e.kind == "crash")
      role = "crashed";
    else if (e.kind.rfind("became_", 0) == 0)
      role = e.kind.substr(7);
    else if (e.kind == "stepped_down")
      role = "follower";
    if (!role) continue;
    nlohmann::json args = named_fields(record, e);
    if (open[n] && open[n]->role == *role &&
        open[n]->args.value("term", nlohmann::json()) == args.value("term", nlohmann::json()))
      continue;
    close(n, e.time);
    if (!role->empty()) open[n] = Open{*role, e.time, std::move(args)};
  }
  for (std::size_t n = 0; n < open.size(); ++n)
    close(n, std::max(record.end_time, open[n] ? open[n]->start : 0));
  return slices;
}

/// Client operations as slices on their client's tracks. Operations that failed or whose
/// outcome is unknown are named "get (info)" so that they stand out in another colour.
void add_operation_slices(const RunRecord& record, std::vector<std::vector<Slice>>& slices) {
  for (const auto& op : pair_operations(record.history)) {
    if (op.client == kNoNode) continue;
    const char* outcome = to_string(op.outcome);
    nlohmann::json args = {{"process", op.process}, {"outcome", outcome}};
    if (op.key) args["key"] = *op.key;
    if (!op.complete) args["note"] = "never completed: open at the end of the run";
    const Time end = op.complete ? *op.complete : std::max(op.invoke, record.end_time);
    const std::string name =
        op.outcome == OpType::Ok ? op.f : fmt::format("{} ({})", op.f, outcome);
    slices[static_cast<std::size_t>(op.client)].push_back(
        Slice{op.invoke, end, name, "op", std::move(args)});
  }
}

/// Spreads slices over as few lanes (tracks) as needed for slices on one lane never to
/// overlap: a viewer nests overlapping slices of one track, which would be wrong here.
std::vector<std::vector<Slice>> lanes_of(std::vector<Slice> slices) {
  std::stable_sort(slices.begin(), slices.end(), [](const Slice& a, const Slice& b) {
    return a.start != b.start ? a.start < b.start : a.end > b.end;
  });
  std::vector<std::vector<Slice>> lanes(1);
  for (auto& s : slices) {
    auto lane = std::find_if(lanes.begin(), lanes.end(),
                             [&](const auto& l) { return l.empty() || l.back().end <= s.start; });
    if (lane == lanes.end()) lane = lanes.emplace(lanes.end());
    lane->push_back(std::move(s));
  }
  return lanes;
}

}  // namespace

double trace_us(Time ns) {
  double us = static_cast<double>(ns) / 1000.0;
  while (static_cast<Time>(us * 1000.0) < ns)
    us = std::nextafter(us, std::numeric_limits<double>::infinity());
  return us;
}

std::string trace_json(const RunRecord& record, const TraceOptions& options) {
  Trace trace;
  trace.name_process(kRunPid, kFaultsTid,
                     fmt::format("run {} seed {}", options.scenario, options.seed));
  trace.name_thread(kRunPid, kFaultsTid, "faults");
  trace.name_thread(kRunPid, kElectionsTid, "elections");
  if (!record.violations.empty()) trace.name_thread(kRunPid, kViolationsTid, "violations");

  // Faults: an instant each; a `for:` fault also a slice from firing to its undo (the undo
  // record has the same fault index and a note starting with "undo"). Each fault record has a
  // `fault` event, recorded with it; partitions' sides are only there.
  std::vector<nlohmann::json> groups;
  for (const auto& e : record.events)
    if (e.kind == "fault") groups.push_back(e.fields.value("groups", nlohmann::json()));
  if (groups.size() != record.faults.size()) groups.assign(record.faults.size(), nullptr);
  std::vector<bool> undone(record.faults.size(), false);
  for (std::size_t i = 0; i < record.faults.size(); ++i) {
    const FaultRecord& f = record.faults[i];
    trace.instant(kRunPid, kFaultsTid, f.time, fault_label(f, groups[i]), "fault", fault_args(f));
    if (f.note.rfind("undo", 0) != 0) continue;
    for (std::size_t j = i; j-- > 0;) {
      const FaultRecord& g = record.faults[j];
      if (g.fault_index != f.fault_index || g.note.rfind("undo", 0) == 0 || undone[j]) continue;
      undone[j] = true;
      trace.async_slice(kRunPid, kFaultsTid, g.time, f.time, fault_label(g, groups[j]), "fault",
                        fmt::format("0x{:x}", j + 1), fault_args(g));
      break;
    }
  }
  for (const auto& e : record.events) {
    if (e.kind != "became_leader" || e.node == kNoNode) continue;
    nlohmann::json args = named_fields(record, e);
    args["node"] = record.name(e.node);
    const std::string name = fmt::format("{} elected (term {})", record.name(e.node),
                                         args.value("term", nlohmann::json()).dump());
    trace.instant(kRunPid, kElectionsTid, e.time, name, "election", std::move(args));
  }
  for (const auto& v : record.violations)
    trace.instant(kRunPid, kViolationsTid, v.time, v.check, "violation",
                  {{"detail", v.detail}, {"nodes", v.nodes}, {"data", v.data}});

  // Node tracks: servers first, then clients, each node's lanes together.
  std::vector<std::vector<Slice>> slices = role_slices(record, options.initial_role);
  add_operation_slices(record, slices);
  std::vector<int> first_tid(record.nodes.size(), 0);
  for (const NodeKind kind : {NodeKind::Server, NodeKind::Client}) {
    const int pid = kind == NodeKind::Server ? kServersPid : kClientsPid;
    int tid = pid * kTidBase + 1;
    for (std::size_t n = 0; n < record.nodes.size(); ++n) {
      if (record.nodes[n].kind != kind) continue;
      if (tid == pid * kTidBase + 1)
        trace.name_process(pid, tid, kind == NodeKind::Server ? "servers" : "clients");
      first_tid[n] = tid;
      const auto lanes = lanes_of(std::move(slices[n]));
      for (std::size_t l = 0; l < lanes.size(); ++l, ++tid) {
        const std::string& name = record.nodes[n].name;
        trace.name_thread(pid, tid, l == 0 ? name : fmt::format("{} ({})", name, l + 1));
        for (const auto& s : lanes[l]) trace.complete(pid, tid, s);
      }
    }
  }

  // Messages: a zero-length slice at the sender when sent and one at the addressee when
  // delivered, tied by a flow (bind_id + flow_out/flow_in). Flows bound this way attach to
  // exactly those slices; "s"/"f" flow events would attach to whatever slice encloses their
  // timestamp, which at a role change is ambiguous. message_end draws one end of message k on
  // `node`'s first track at `t`; `peer` is the node at the other end.
  auto message_end = [&](std::size_t k, NodeId node, Time t, const char* peer_key, NodeId peer,
                         const char* direction) {
    const MessageRecord& m = record.messages[k];
    const auto n = static_cast<std::size_t>(node);
    const int pid = record.nodes.at(n).kind == NodeKind::Server ? kServersPid : kClientsPid;
    auto& slice = trace.complete(
        pid, first_tid.at(n),
        Slice{t,
              t,
              m.kind,
              "message",
              {{peer_key, record.name(peer)}, {"latency_ms", to_ms(m.delivered - m.sent)}}});
    slice["bind_id"] = fmt::format("0x{:x}", k + 1);
    slice[direction] = true;
  };
  for (std::size_t k = 0; k < record.messages.size(); ++k) {
    const MessageRecord& m = record.messages[k];
    message_end(k, m.from, m.sent, "to", m.to, "flow_out");
    message_end(k, m.to, m.delivered, "from", m.from, "flow_in");
  }

  const nlohmann::json other = {{"scenario", options.scenario},
                                {"protocol", options.protocol},
                                {"seed", options.seed},
                                {"clock", "simulated time; ts and dur in microseconds"},
                                {"sim_time_s", to_seconds(record.end_time)},
                                {"messages", record.messages.size()}};
  return trace.text(other);
}

}  // namespace faultline::reports
