// report.json, expectations, exit codes and the terminal summary (SCENARIOS.md, "Outputs of
// faultline run" and "Exit codes").
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline::reports {

inline constexpr int kSchemaVersion = 1;

struct ExpectationInput {
  std::string text;
  std::string metric;
  std::string op;
  double value = 0;
};

struct ReportInputs {
  std::string scenario;       // name
  std::string scenario_file;
  std::string description;
  std::string protocol;
  std::uint64_t seed = 1;
  nlohmann::json config;         // effective scenario
  nlohmann::json network_model;  // model + factors
  std::string faultline_version;
  std::string simgrid_version;
  std::vector<std::string> checks;       // check names run
  /// Checks whose verdict is decided outside the violation records (e.g. `linearizable`, which
  /// may be unknown): name -> {"ok": true|false|null, "detail": "..."}.
  std::map<std::string, nlohmann::json> check_verdicts;
  nlohmann::json extra = nlohmann::json::object();  // merged at the top level (e.g. linearizability)
  std::vector<ExpectationInput> expect;
  double wall_time_s = 0;
  bool client_ops = true;                // the protocol has client operations
};

/// Builds report.json from the run record. `protocol_metrics` are merged at the top level.
nlohmann::json build_report(const ReportInputs& in, const RunRecord& record,
                            const nlohmann::json& protocol_metrics);

/// Looks up a dotted path ("latency_ms.p99") in the report; null when absent.
nlohmann::json lookup(const nlohmann::json& report, const std::string& path);

/// Evaluates `metric op value` against the report: {expr, value, ok, reason?}.
nlohmann::json evaluate(const ExpectationInput& e, const nlohmann::json& report);

/// SCENARIOS.md's exit code table for `run` (0 pass, 1 fail, 3 unknown).
int run_exit_code(const nlohmann::json& report, bool has_expectations);

/// The terminal summary: seed and effective config first, then what happened and the verdicts.
std::string summary_text(const nlohmann::json& report, const RunRecord& record, const std::string& out_dir);

}  // namespace faultline::reports
