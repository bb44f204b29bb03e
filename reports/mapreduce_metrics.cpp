#include "reports/mapreduce_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "reports/stats.hpp"

namespace faultline::reports {
namespace {

constexpr Duration kBucket = kSecond;  // the rate series' interval (Figures 2 and 3: MB/s)
constexpr double kMB = 1e6;            // SCENARIOS.md: in reports, MB means 10^6 bytes

/// Every MapReduce message kind (protocols/mapreduce/messages.hpp kind_names(), which reports/
/// may not include; tests/unit/mapreduce_metrics_test.cpp checks the two agree): rpcs.<kind> is
/// 0 for a kind never sent, so an expectation on it always has a value.
constexpr std::array<const char*, 16> kKinds = {
    "register",    "ping",         "pong",          "assign_map", "assign_reduce", "map_locations",
    "map_done",    "reduce_done",  "abort_task",    "read_split", "split_data",    "fetch",
    "fetch_reply", "shuffle_done", "replica_write", "replica_ack"};

enum Kind { kMap = 0, kReduce = 1 };
enum What { kInput = 0, kShuffle = 1, kOutput = 2, kWhats = 3 };

std::string text(const nlohmann::json& f, const char* key) {
  const auto it = f.find(key);
  return it != f.end() && it->is_string() ? it->get<std::string>() : std::string();
}

template <typename T>
T number(const nlohmann::json& f, const char* key, T fallback) {
  const auto it = f.find(key);
  return it != f.end() && it->is_number() ? it->get<T>() : fallback;
}

bool flag(const nlohmann::json& f, const char* key) {
  const auto it = f.find(key);
  if (it == f.end()) return false;
  if (it->is_boolean()) return it->get<bool>();
  return it->is_number() && it->get<double>() != 0;
}

std::optional<Kind> task_kind(const nlohmann::json& f) {
  const std::string t = text(f, "task");
  if (t == "map") return kMap;
  if (t == "reduce") return kReduce;
  return std::nullopt;
}

/// One execution of a task, from its task_assigned to its task_ended (or the end of the run).
struct Attempt {
  Kind kind = kMap;
  int id = 0;
  int attempt = 0;
  std::string worker;
  bool backup = false;
  std::string locality;
  Time start = 0;
  std::optional<Time> end;          // nullopt: still running
  std::string outcome = "running";  // the last word on it: committed may later become reset
  bool committed_once = false;      // its completion was accepted (even if reset since)
  std::uint64_t input_bytes = 0;    // maps: the split bytes this execution read
};

struct Transfer {
  What what = kInput;
  Time start = 0, end = 0;
  double bytes = 0;
};

/// A map output lost at `time`: its execution's input bytes come off the input rate.
struct Reset {
  Time time = 0;
  double bytes = 0;
};

/// One pass over the events: everything the three outputs need.
struct Analysis {
  std::vector<Attempt> attempts;  // in assignment order
  std::vector<Transfer> transfers;
  std::vector<Reset> resets;
  std::optional<int> maps, reduces;  // from job_started
  bool job_done = false, job_failed = false;
  std::optional<double> job_time_s;
  std::string job_failed_reason;
  std::uint64_t input_bytes_local = 0, input_bytes_remote = 0;
  std::int64_t reexecuted = 0, backup_tasks = 0, workers_dead = 0, crashes_self = 0,
               calls_delayed = 0, duplicate_completions = 0;
  std::array<std::optional<Time>, 2> backup_phase;  // per task kind: the first backup_phase
  std::optional<Time> maps_done;                    // the last map commit
  const nlohmann::json* output_summary = nullptr;
  std::array<int, 2> tasks_seen = {0, 0};  // highest id + 1 per kind (without job_started)
};

Analysis analyze(const RunRecord& record) {
  Analysis a;
  using Key = std::tuple<int, int, int>;  // kind, id, attempt
  std::map<Key, std::size_t> latest;      // the most recent execution with that key
  std::set<std::size_t> open;             // executions not ended yet
  // Map executions running per worker: attributes an input transfer without id/attempt fields
  // to the map its worker is running (exact with one map slot per worker).
  std::map<std::string, std::set<std::size_t>> maps_running_on;
  std::array<std::vector<int>, 2> assignments;  // per kind, per task id: executions started
  NodeId coordinator = kNoNode;

  auto close = [&](std::size_t i, Time at, const std::string& outcome) {
    Attempt& x = a.attempts[i];
    x.end = at;
    x.outcome = outcome;
    open.erase(i);
    if (x.kind == kMap) maps_running_on[x.worker].erase(i);
  };
  auto node_name = [&](NodeId n) {
    return n >= 0 && static_cast<std::size_t>(n) < record.nodes.size() ? record.name(n)
                                                                       : std::string();
  };

  for (const auto& e : record.events) {
    const auto& f = e.fields;
    if (e.kind == "task_assigned") {
      const auto kind = task_kind(f);
      if (!kind) continue;
      coordinator = e.node;
      Attempt x;
      x.kind = *kind;
      x.id = number(f, "id", 0);
      x.attempt = number(f, "attempt", 0);
      x.worker = text(f, "worker");
      x.backup = flag(f, "backup");
      x.locality = text(f, "locality");
      x.start = e.time;
      if (x.id < 0) continue;
      auto& seen = assignments[*kind];
      if (seen.size() <= static_cast<std::size_t>(x.id))
        seen.resize(static_cast<std::size_t>(x.id) + 1, 0);
      if (x.backup)
        ++a.backup_tasks;
      else if (seen[static_cast<std::size_t>(x.id)] > 0)
        ++a.reexecuted;
      ++seen[static_cast<std::size_t>(x.id)];
      a.tasks_seen[*kind] = std::max(a.tasks_seen[*kind], x.id + 1);
      const std::size_t i = a.attempts.size();
      latest[{*kind, x.id, x.attempt}] = i;
      open.insert(i);
      if (x.kind == kMap) maps_running_on[x.worker].insert(i);
      a.attempts.push_back(std::move(x));
    } else if (e.kind == "task_ended") {
      const auto kind = task_kind(f);
      if (!kind) continue;
      const int id = number(f, "id", 0), attempt = number(f, "attempt", 0);
      const std::string outcome = text(f, "outcome");
      auto it = latest.find({*kind, id, attempt});
      if (it == latest.end()) {
        // An execution whose assignment was not recorded: keep what the event says.
        Attempt x;
        x.kind = *kind;
        x.id = id;
        x.attempt = attempt;
        x.worker = text(f, "worker");
        x.start = std::min(e.time, from_seconds(number(f, "start_s", to_seconds(e.time))));
        it = latest.emplace(Key{*kind, id, attempt}, a.attempts.size()).first;
        open.insert(a.attempts.size());
        a.attempts.push_back(std::move(x));
      }
      const std::size_t i = it->second;
      Attempt& x = a.attempts[i];
      if (outcome == "reset") {
        // A completed map whose output died with its worker (§3.3): the work is wasted, and
        // Figure 3(c) shows its input as read again, so it comes off the input rate here.
        if (!x.end) close(i, e.time, outcome);
        x.outcome = outcome;
        a.resets.push_back({e.time, static_cast<double>(x.input_bytes)});
        continue;
      }
      if (x.end && x.outcome != "orphaned") continue;  // already ended: a repeated event
      close(i, e.time, outcome);
      if (outcome == "committed") {
        x.committed_once = true;
        if (x.kind == kMap) a.maps_done = std::max(a.maps_done.value_or(e.time), e.time);
      } else if (outcome == "duplicate") {
        ++a.duplicate_completions;
      }
    } else if (e.kind == "transfer") {
      const std::string what = text(f, "what");
      Transfer t;
      if (what == "input")
        t.what = kInput;
      else if (what == "shuffle")
        t.what = kShuffle;
      else if (what == "output")
        t.what = kOutput;
      else
        continue;
      t.bytes = number(f, "bytes", 0.0);
      t.end = e.time;
      t.start = f.contains("start_s") ? from_seconds(number(f, "start_s", 0.0)) : e.time;
      t.start = std::clamp<Time>(t.start, 0, std::max<Time>(0, t.end));
      a.transfers.push_back(t);
      if (t.what != kInput) continue;
      (flag(f, "local") ? a.input_bytes_local : a.input_bytes_remote) +=
          number(f, "bytes", std::uint64_t{0});
      // The map execution that read it: by its id and attempt, else the one map its worker runs.
      std::optional<std::size_t> reader;
      if (f.contains("id") && f.contains("attempt")) {
        const auto it = latest.find({kMap, number(f, "id", 0), number(f, "attempt", 0)});
        if (it != latest.end()) reader = it->second;
      } else if (const auto on = maps_running_on.find(node_name(e.node));
                 on != maps_running_on.end() && on->second.size() == 1) {
        reader = *on->second.begin();
      }
      if (reader) a.attempts[*reader].input_bytes += number(f, "bytes", std::uint64_t{0});
    } else if (e.kind == "job_started") {
      coordinator = e.node;
      a.maps = number(f, "maps", 0);
      a.reduces = number(f, "reduces", 0);
    } else if (e.kind == "crash") {
      // The coordinator's in-progress assignments die with it: a restarted coordinator resumes
      // from its checkpoint (or the job fails) and does not end them.
      if (e.node == kNoNode || e.node != coordinator) continue;
      const std::vector<std::size_t> orphans(open.begin(), open.end());
      for (const std::size_t i : orphans) close(i, e.time, "orphaned");
    } else if (e.kind == "worker_dead") {
      ++a.workers_dead;
    } else if (e.kind == "backup_phase") {
      if (const auto kind = task_kind(f); kind && !a.backup_phase[*kind])
        a.backup_phase[*kind] = e.time;
    } else if (e.kind == "crash_self") {
      ++a.crashes_self;
    } else if (e.kind == "call_delayed") {
      ++a.calls_delayed;
    } else if (e.kind == "job_done") {
      a.job_done = true;
      a.job_time_s = number(f, "job_time_s", to_seconds(e.time));
    } else if (e.kind == "job_failed") {
      a.job_failed = true;
      a.job_failed_reason = text(f, "reason");
    } else if (e.kind == "output_summary") {
      a.output_summary = &f;
    }
  }
  return a;
}

/// Bytes per 1 s interval of each transfer kind, the input also without the resets.
struct Series {
  std::array<std::vector<double>, kWhats> bytes;
  std::vector<double> input_with_resets;
  std::size_t size() const { return input_with_resets.size(); }
};

Series series(const Analysis& a, Time end_time) {
  // Intervals [k s, (k + 1) s) up to the end of the run (more if a transfer ends later).
  const auto last_interval = [](Time t) {
    return static_cast<std::size_t>(std::max<Time>(0, t - 1) / kBucket);
  };
  std::size_t n = static_cast<std::size_t>((std::max<Time>(0, end_time) + kBucket - 1) / kBucket);
  for (const auto& t : a.transfers) n = std::max(n, last_interval(t.end) + 1);
  for (const auto& r : a.resets) n = std::max(n, last_interval(r.time) + 1);
  // An instant's interval; the end of the run belongs to the last interval.
  const auto interval_of = [&](Time t) {
    return std::min(static_cast<std::size_t>(std::max<Time>(0, t) / kBucket), n - 1);
  };

  Series s;
  std::array<std::vector<double>, kWhats> full;  // difference array of whole-interval shares
  for (int w = 0; w < kWhats; ++w) {
    s.bytes[w].assign(n, 0.0);
    full[w].assign(n + 1, 0.0);
  }
  for (const auto& t : a.transfers) {
    auto& into = s.bytes[t.what];
    if (t.end <= t.start) {
      into[interval_of(t.end)] += t.bytes;
      continue;
    }
    const std::size_t first = interval_of(t.start), last = last_interval(t.end);
    if (first == last) {
      into[first] += t.bytes;
      continue;
    }
    // Uniform over [start, end): partial first and last intervals, whole ones in between in
    // O(1) through the difference array.
    const double per_ns = t.bytes / static_cast<double>(t.end - t.start);
    into[first] += per_ns * static_cast<double>(static_cast<Time>(first + 1) * kBucket - t.start);
    into[last] += per_ns * static_cast<double>(t.end - static_cast<Time>(last) * kBucket);
    const double whole = per_ns * static_cast<double>(kBucket);
    full[t.what][first + 1] += whole;
    full[t.what][last] -= whole;
  }
  for (int w = 0; w < kWhats; ++w) {
    double running = 0;
    for (std::size_t k = 0; k < n; ++k) {
      running += full[w][k];
      s.bytes[w][k] += running;
    }
  }
  s.input_with_resets = s.bytes[kInput];
  for (const auto& r : a.resets) s.input_with_resets[interval_of(r.time)] -= r.bytes;
  return s;
}

nlohmann::json or_null(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
nlohmann::json or_null(const std::optional<Time>& t) {
  return t ? nlohmann::json(to_seconds(*t)) : nlohmann::json(nullptr);
}

/// Shortest text that reads back as the same double.
std::string num(double v) { return fmt::format("{}", v); }

}  // namespace

nlohmann::json mapreduce_metrics(const RunRecord& record) {
  const Analysis a = analyze(record);
  const int maps = a.maps.value_or(a.tasks_seen[kMap]);
  const int reduces = a.reduces.value_or(a.tasks_seen[kReduce]);

  std::int64_t backups_won = 0;
  std::map<std::string, std::int64_t> committed_locality, assigned_locality;
  double task_s = 0, wasted_s = 0;
  std::vector<double> map_s, reduce_s;
  for (const auto& x : a.attempts) {
    const Time end = x.end.value_or(std::max(record.end_time, x.start));
    const double seconds = to_seconds(end - x.start);
    task_s += seconds;
    if (x.end && x.outcome != "committed") wasted_s += seconds;
    if (x.outcome == "committed" && x.backup) ++backups_won;
    if (x.committed_once) (x.kind == kMap ? map_s : reduce_s).push_back(seconds);
    if (x.kind == kMap) {
      ++assigned_locality[x.locality];
      if (x.outcome == "committed") ++committed_locality[x.locality];
    }
  }

  std::array<double, kWhats> total_bytes = {0, 0, 0};
  std::array<std::optional<Time>, kWhats> done;
  for (const auto& t : a.transfers) {
    total_bytes[t.what] += t.bytes;
    done[t.what] = std::max(done[t.what].value_or(t.end), t.end);
  }
  const Series s = series(a, record.end_time);
  std::array<double, kWhats> peak = {0, 0, 0};
  for (int w = 0; w < kWhats; ++w)
    for (const double b : s.bytes[w]) peak[w] = std::max(peak[w], b / kMB);

  nlohmann::json rpcs = nlohmann::json::object();
  for (const char* k : kKinds) rpcs[k] = 0;
  for (const auto& [kind, n] : record.messages_sent) rpcs[kind] = n;

  auto summary = [&](const char* key) -> nlohmann::json {
    if (!a.output_summary) return nullptr;
    const auto it = a.output_summary->find(key);
    return it != a.output_summary->end() && it->is_number() ? *it : nlohmann::json(nullptr);
  };

  nlohmann::json m = {
      {"job_done", a.job_done ? 1 : 0},
      {"job_failed", a.job_failed ? 1 : 0},
      {"job_time_s", or_null(a.job_time_s)},
      {"tasks", maps + reduces},
      {"maps", maps},
      {"reduces", reduces},
      {"attempts", a.attempts.size()},
      {"reexecuted", a.reexecuted},
      {"backup_tasks", a.backup_tasks},
      {"backups_won", backups_won},
      {"wasted_work_pct",
       task_s > 0 ? nlohmann::json(100.0 * wasted_s / task_s) : nlohmann::json(nullptr)},
      {"maps_local", committed_locality["local"]},
      {"maps_rack", committed_locality["rack"]},
      {"maps_remote", committed_locality["remote"]},
      {"map_assignments_local", assigned_locality["local"]},
      {"map_assignments_rack", assigned_locality["rack"]},
      {"map_assignments_remote", assigned_locality["remote"]},
      {"input_bytes_local", a.input_bytes_local},
      {"input_bytes_remote", a.input_bytes_remote},
      {"input_mb", total_bytes[kInput] / kMB},
      {"shuffle_mb", total_bytes[kShuffle] / kMB},
      {"output_mb", total_bytes[kOutput] / kMB},
      {"input_peak_mb_s", peak[kInput]},
      {"shuffle_peak_mb_s", peak[kShuffle]},
      {"output_peak_mb_s", peak[kOutput]},
      {"maps_done_s", or_null(a.maps_done)},
      {"shuffle_done_s", or_null(done[kShuffle])},
      {"output_done_s", or_null(done[kOutput])},
      {"map_backup_phase_s", or_null(a.backup_phase[kMap])},
      {"reduce_backup_phase_s", or_null(a.backup_phase[kReduce])},
      {"workers_dead", a.workers_dead},
      {"crashes_self", a.crashes_self},
      {"calls_delayed", a.calls_delayed},
      {"duplicate_completions", a.duplicate_completions},
      {"outputs_committed", summary("committed")},
      {"temporaries_left", summary("temporaries_left")},
      {"duplicate_renames", summary("duplicate_renames")},
      {"map_time_s", to_json(summarize(std::move(map_s)))},
      {"reduce_time_s", to_json(summarize(std::move(reduce_s)))},
      {"rpcs", rpcs},
  };
  if (a.job_failed) m["job_failed_reason"] = a.job_failed_reason;
  return m;
}

std::string mapreduce_rates_csv(const RunRecord& record) {
  const Series s = series(analyze(record), record.end_time);
  std::string csv = "time_s,input_mb_s,shuffle_mb_s,output_mb_s\n";
  for (std::size_t k = 0; k < s.size(); ++k)
    csv += fmt::format("{},{:.6f},{:.6f},{:.6f}\n", k, s.input_with_resets[k] / kMB,
                       s.bytes[kShuffle][k] / kMB, s.bytes[kOutput][k] / kMB);
  return csv;
}

std::string mapreduce_tasks_csv(const RunRecord& record) {
  const Analysis a = analyze(record);
  std::string csv = "task,id,attempt,worker,backup,locality,start_s,end_s,outcome\n";
  for (const auto& x : a.attempts)
    csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", x.kind == kMap ? "map" : "reduce", x.id,
                       x.attempt, x.worker, x.backup ? 1 : 0, x.locality, num(to_seconds(x.start)),
                       x.end ? num(to_seconds(*x.end)) : std::string(), x.outcome);
  return csv;
}

}  // namespace faultline::reports
