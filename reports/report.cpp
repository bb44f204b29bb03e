#include "reports/report.hpp"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "reports/operations.hpp"

namespace faultline::reports {
namespace {

std::string fmt_ms(const nlohmann::json& v) {
  if (!v.is_number()) return "-";
  const double ms = v.get<double>();
  if (ms >= 1000) return fmt::format("{:.2f} s", ms / 1000);
  if (ms >= 10) return fmt::format("{:.0f} ms", ms);
  return fmt::format("{:.2f} ms", ms);
}

std::string value_text(const nlohmann::json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return v.dump();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 1e15) return fmt::format("{:.0f}", d);
    return fmt::format("{:.4g}", d);
  }
  if (v.is_null()) return "no value";
  return v.dump();
}

}  // namespace

nlohmann::json build_report(const ReportInputs& in, const RunRecord& record,
                            const nlohmann::json& protocol_metrics) {
  nlohmann::json r = nlohmann::json::object();
  r["schema_version"] = kSchemaVersion;
  r["faultline_version"] = in.faultline_version;
  r["simgrid_version"] = in.simgrid_version;
  r["scenario"] = in.scenario;
  r["scenario_file"] = in.scenario_file;
  r["protocol"] = in.protocol;
  r["seed"] = in.seed;
  r["config"] = in.config;
  r["network_model"] = in.network_model;
  r["sim_time_s"] = to_seconds(record.end_time);
  r["stopped_early"] = record.stopped_early;
  r["wall_time_s"] = in.wall_time_s;
  r["events"] = record.events.size();

  nlohmann::json faults = nlohmann::json::array();
  std::int64_t without_target = 0;
  for (const auto& f : record.faults) {
    nlohmann::json j = {{"time_s", to_seconds(f.time)}, {"kind", f.kind}, {"index", f.fault_index},
                        {"spec", f.spec}};
    j["target"] = f.target ? nlohmann::json(*f.target) : nlohmann::json(nullptr);
    if (!f.note.empty()) j["note"] = f.note;
    if (!f.target) ++without_target;
    faults.push_back(std::move(j));
  }
  r["faults"] = std::move(faults);
  r["faults_without_target"] = without_target;

  if (in.client_ops) {
    const auto ops = pair_operations(record.history);
    r.update(operation_metrics(ops, phases_of(record)));
  }
  r["messages"] = {{"sent", 0}, {"dropped", record.messages_dropped},
                   {"duplicated", record.messages_duplicated}};
  std::int64_t sent = 0;
  for (const auto& [k, n] : record.messages_sent) sent += n;
  r["messages"]["sent"] = sent;
  r.update(protocol_metrics);
  r.update(in.extra);

  nlohmann::json records = nlohmann::json::array();
  for (const auto& v : record.violations)
    records.push_back({{"time_s", to_seconds(v.time)}, {"nodes", v.nodes}, {"check", v.check},
                       {"detail", v.detail}, {"data", v.data}});
  r["violations"] = record.violations.size();
  r["violation_records"] = std::move(records);

  nlohmann::json checks = nlohmann::json::array();
  for (const auto& name : in.checks) {
    if (auto it = in.check_verdicts.find(name); it != in.check_verdicts.end()) {
      checks.push_back({{"name", name}, {"ok", it->second["ok"]}, {"detail", it->second["detail"]}});
      continue;
    }
    std::size_t found = 0;
    for (const auto& v : record.violations)
      if (v.check == name || v.check.rfind(name + "/", 0) == 0) ++found;
    checks.push_back({{"name", name},
                      {"ok", found == 0},
                      {"detail", found == 0 ? std::string("no violation")
                                            : fmt::format("{} violation record(s)", found)}});
  }
  r["checks"] = std::move(checks);

  nlohmann::json expectations = nlohmann::json::array();
  for (const auto& e : in.expect) expectations.push_back(evaluate(e, r));
  r["expectations"] = std::move(expectations);
  return r;
}

nlohmann::json lookup(const nlohmann::json& report, const std::string& path) {
  const nlohmann::json* node = &report;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto dot = path.find('.', start);
    const std::string key = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return *node;
}

nlohmann::json evaluate(const ExpectationInput& e, const nlohmann::json& report) {
  nlohmann::json result = {{"expr", e.text}};
  const nlohmann::json v = lookup(report, e.metric);
  if (!v.is_number()) {
    result["value"] = nullptr;
    result["ok"] = false;
    result["reason"] = fmt::format("{} has no value in this run", e.metric);
    return result;
  }
  const double x = v.get<double>();
  bool ok = false;
  if (e.op == "==") ok = x == e.value;
  else if (e.op == "!=") ok = x != e.value;
  else if (e.op == "<") ok = x < e.value;
  else if (e.op == "<=") ok = x <= e.value;
  else if (e.op == ">") ok = x > e.value;
  else if (e.op == ">=") ok = x >= e.value;
  result["value"] = v;
  result["ok"] = ok;
  return result;
}

int run_exit_code(const nlohmann::json& report, bool has_expectations) {
  if (has_expectations) {
    for (const auto& e : report["expectations"])
      if (!e["ok"].get<bool>()) return 1;
    return 0;
  }
  bool unknown = false;
  for (const auto& c : report["checks"]) {
    if (c["ok"].is_null()) unknown = true;
    else if (!c["ok"].get<bool>()) return 1;
  }
  return unknown ? 3 : 0;
}

std::string summary_text(const nlohmann::json& r, const RunRecord& record, const std::string& out_dir) {
  std::ostringstream s;
  const auto& cfg = r["config"];
  s << fmt::format("faultline {} · scenario {} ({}) · seed {}\n", r["faultline_version"].get<std::string>(),
                   r["scenario"].get<std::string>(), r["protocol"].get<std::string>(),
                   r["seed"].get<std::uint64_t>());
  s << fmt::format("  file      {}\n", r["scenario_file"].get<std::string>());
  if (cfg.contains("cluster")) {
    const auto& c = cfg["cluster"];
    s << fmt::format("  cluster   {} servers, {} topology, latency {} one-way to the switch, {} links, network model {}\n",
                     c.value("nodes", 0), c.value("topology", std::string("star")),
                     c.value("latency", std::string("?")), c.value("bandwidth", std::string("?")),
                     r["network_model"].value("name", std::string("?")));
  }
  if (cfg.contains("params") && cfg["params"].is_object()) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : cfg["params"].items())
      parts.push_back(fmt::format("{}={}", k, v.is_string() ? v.get<std::string>() : v.dump()));
    s << fmt::format("  params    {}\n", fmt::join(parts, ", "));
  }
  // A protocol without clients (MapReduce: the job is the workload) has no workload line.
  if (cfg.contains("workload") && cfg["workload"].is_object() && cfg["workload"].value("clients", 0) > 0) {
    const auto& w = cfg["workload"];
    s << fmt::format("  workload  {} clients, {}, {} keys, rpc_timeout {}, client_timeout {}\n",
                     w.value("clients", 0),
                     w.contains("rate") && !w["rate"].is_null() ? fmt::format("open loop {}", w["rate"].dump())
                                                                : fmt::format("{} ops each", w.value("ops", 0)),
                     w.value("keys", 0), w.value("rpc_timeout", std::string("?")),
                     w.value("client_timeout", std::string("?")));
  }
  s << "  (the full effective configuration is `config` in report.json)\n";
  s << fmt::format("  simulated {:.3f} s{} in {:.2f} s wall, {} events\n", r["sim_time_s"].get<double>(),
                   r["stopped_early"].get<bool>() ? " (stop_when held)" : "", r["wall_time_s"].get<double>(),
                   r["events"].get<std::size_t>());

  // What happened, in time order: faults and leaders.
  struct Line {
    double t;
    std::string text;
  };
  std::vector<Line> lines;
  for (const auto& f : r["faults"]) {
    std::string target = f["target"].is_null() ? "matched nobody"
                                                : fmt::format("{}", fmt::join(f["target"].get<std::vector<std::string>>(), ", "));
    lines.push_back({f["time_s"].get<double>(),
                     fmt::format("fault  {:<10} {}{}", f["kind"].get<std::string>(), target,
                                 f.contains("note") ? " (" + f["note"].get<std::string>() + ")" : "")});
  }
  if (r.contains("leaders"))
    for (const auto& l : r["leaders"])
      lines.push_back({l["time_s"].get<double>(),
                       fmt::format("leader {} (term {})", l["node"].get<std::string>(), l["term"].get<std::uint64_t>())});
  std::stable_sort(lines.begin(), lines.end(), [](auto& a, auto& b) { return a.t < b.t; });
  if (!lines.empty()) {
    s << "\nTimeline\n";
    const std::size_t max_lines = 40;
    for (std::size_t i = 0; i < lines.size() && i < max_lines; ++i)
      s << fmt::format("  {:8.3f} s  {}\n", lines[i].t, lines[i].text);
    if (lines.size() > max_lines) s << fmt::format("  ... {} more in report.json\n", lines.size() - max_lines);
  }

  if (r.contains("ops_ok")) {
    const auto& lat = r["latency_ms"];
    s << fmt::format("\nOperations  {} ok, {} failed, {} info · {:.1f} ops/s · latency p50 {} p90 {} p99 {} max {}\n",
                     r["ops_ok"].get<std::int64_t>(), r["ops_failed"].get<std::int64_t>(),
                     r["ops_info"].get<std::int64_t>(), r["throughput_ops_s"].get<double>(), fmt_ms(lat["p50"]),
                     fmt_ms(lat["p90"]), fmt_ms(lat["p99"]), fmt_ms(lat["max"]));
    if (r["phases"].size() > 1) {
      s << fmt::format("  {:<17} {:>6} {:>5} {:>9} {:>9} {:>9} {:>9}  {}\n", "phase", "ok", "info", "ops/s", "p50",
                       "p99", "max", "");
      for (const auto& p : r["phases"]) {
        const auto& pl = p["latency_ms"];
        s << fmt::format("  {:>7.3f}–{:<7.3f}s {:>6} {:>5} {:>9.1f} {:>9} {:>9} {:>9}  {}\n", p["start_s"].get<double>(),
                         p["end_s"].get<double>(), p["ops_ok"].get<std::int64_t>(), p["ops_info"].get<std::int64_t>(),
                         p["throughput_ops_s"].get<double>(), fmt_ms(pl["p50"]), fmt_ms(pl["p99"]), fmt_ms(pl["max"]),
                         p["name"].get<std::string>());
      }
    }
  }
  if (r.contains("elections")) {
    const auto& et = r["election_time_ms"];
    s << fmt::format("\nRaft  {} election(s), {} leader change(s), highest term {}, first leader at {}\n",
                     r["elections"].get<std::int64_t>(), r["leader_changes"].get<std::int64_t>(),
                     r["terms"].get<std::uint64_t>(), fmt_ms(r["first_leader_ms"]));
    s << fmt::format("      election time after a leader loss: {} (n={}, mean {}, max {}) · unavailable {}\n",
                     et["count"].get<std::size_t>() ? fmt_ms(et["p50"]) + " median" : std::string("no leader loss"),
                     et["count"].get<std::size_t>(), fmt_ms(et["mean"]), fmt_ms(et["max"]), fmt_ms(r["unavailable_ms"]));
    const auto& m = r["messages"];
    s << fmt::format("      messages: {} sent, {} dropped, {} duplicated; commit index {}\n", m["sent"].get<std::int64_t>(),
                     m["dropped"].get<std::int64_t>(), m["duplicated"].get<std::int64_t>(),
                     r["commit_index"].get<std::uint64_t>());
  }

  s << "\nChecks\n";
  for (const auto& c : r["checks"])
    s << fmt::format("  {} {:<14} {}\n", c["ok"].is_null() ? "?" : (c["ok"].get<bool>() ? "ok  " : "FAIL"),
                     c["name"].get<std::string>(), c["detail"].get<std::string>());
  if (r.contains("linearizability") && r["linearizability"].contains("explanation")) {
    std::istringstream text(r["linearizability"]["explanation"].value("text", std::string()));
    for (std::string line; std::getline(text, line);) s << "    " << line << "\n";
  }
  const auto& violations = r["violation_records"];
  std::size_t shown = 0;
  for (std::size_t i = 0; i < violations.size() && shown < 10; ++i) {
    const auto& v = violations[i];
    if (v["check"] == "linearizable") continue;  // its explanation is printed above in full
    ++shown;
    s << fmt::format("    ! {:.3f} s {} [{}]: {}\n", v["time_s"].get<double>(), v["check"].get<std::string>(),
                     fmt::join(v["nodes"].get<std::vector<std::string>>(), ","), v["detail"].get<std::string>());
  }
  if (violations.size() > shown + (r.contains("linearizability") && r["linearizability"].contains("explanation") ? 1 : 0))
    s << fmt::format("    ... more in report.json `violation_records`\n");

  const bool has_expect = !r["expectations"].empty();
  if (has_expect) {
    s << "\nExpectations\n";
    for (const auto& e : r["expectations"])
      s << fmt::format("  {} {:<36} value {}{}\n", e["ok"].get<bool>() ? "ok  " : "FAIL", e["expr"].get<std::string>(),
                       value_text(e["value"]), e.contains("reason") ? " — " + e["reason"].get<std::string>() : "");
  }
  const int code = run_exit_code(r, has_expect);
  s << fmt::format("\nResult  {} (exit {}) · outputs in {}\n",
                   code == 0 ? "PASS" : (code == 3 ? "UNKNOWN" : "FAIL"), code, out_dir);
  (void)record;
  return s.str();
}

}  // namespace faultline::reports
