#include "cli/check.hpp"

#include <iostream>
#include <new>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/suggest.hpp"
#include "common/units.hpp"
#include "reports/history_io.hpp"
#include "reports/linearizability.hpp"

namespace faultline {
namespace {

const std::vector<std::string> kModels = {"register", "cas-register", "kv", "multi-register"};

int usage_error(const std::string& message, const std::string& suggestion = {}) {
  std::cerr << "faultline check: error: " << message;
  if (!suggestion.empty()) std::cerr << " (" << suggestion << ")";
  std::cerr << "\n";
  return 2;
}

std::string plural(std::size_t n, const char* word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

int check_command(const CheckOptions& options) {
  // The options first: nothing is read when they are wrong.
  const auto model = lin::model_from_string(options.model);
  if (!model) {
    std::string hint = did_you_mean(options.model, kModels);
    if (!hint.empty()) hint += " ";
    return usage_error(fmt::format("--model: unknown model '{}'", options.model),
                       hint + "models: " + join(kModels));
  }

  nlohmann::json initial = nullptr;
  if (options.initial) {
    try {
      initial = nlohmann::json::parse(*options.initial);
    } catch (const nlohmann::json::parse_error&) {
      return usage_error(fmt::format("--initial: '{}' is not a JSON value", *options.initial),
                         "e.g. --initial 0, --initial null, --initial '{\"x\": 0}'; a string is '\"a\"'");
    }
    if (*model == lin::Model::MultiRegister && !initial.is_object() && !initial.is_null())
      return usage_error(fmt::format("--initial: the multi-register model starts from an object of keys, not {}",
                                     initial.dump()),
                         "e.g. --initial '{\"x\": 0, \"y\": 0}'");
    if (*model == lin::Model::Kv)
      std::cerr << "faultline check: note: --initial is ignored by the kv model (every key starts as \"\")\n";
  }

  const auto timeout = units::parse_duration(options.timeout);
  if (!timeout.ok()) {
    // A bare number: a budget for a whole check is probably seconds ("60" -> "60s").
    const std::string guess = units::guess_duration(options.timeout, true);
    if (!guess.empty())
      return usage_error(fmt::format("--timeout: '{}' needs a unit (ns, us, ms, s, min, h)", options.timeout),
                         "did you mean '" + guess + "'?");
    return usage_error(fmt::format("--timeout: {}", timeout.error()));
  }
  if (timeout.value() <= 0) return usage_error("--timeout: must be positive", "e.g. --timeout 60s");

  lin::History history;
  try {
    history = lin::read_history_file(options.file, *model);
  } catch (const lin::HistoryError& e) {
    std::cerr << e.format(options.file) << "\n";
    return 2;
  }

  lin::Options check_options;
  check_options.model = *model;
  check_options.initial = initial;
  check_options.timeout_s = to_seconds(timeout.value());
  lin::Result result;
  try {
    result = lin::check(history, check_options);
  } catch (const std::bad_alloc&) {
    result = lin::Result{};
    result.verdict = lin::Verdict::Unknown;
    result.reason = "out of memory";
  }

  std::size_t info = 0;
  for (const auto& op : history.ops)
    if (op.status == lin::Op::Status::Info) ++info;

  if (options.json) {
    nlohmann::json out = result.to_json(history);
    out["history"] = options.file;
    out["model"] = lin::to_string(*model);
    out["initial"] = initial;
    out["ops"] = history.ops.size();
    out["ops_info"] = info;
    std::cout << out.dump(2) << "\n";
  } else {
    std::string verdict;
    switch (result.verdict) {
      case lin::Verdict::Linearizable: verdict = "linearizable"; break;
      case lin::Verdict::NotLinearizable: verdict = "NOT linearizable"; break;
      case lin::Verdict::Unknown: verdict = "unknown"; break;
    }
    std::cout << fmt::format("{}: {} ({} model, initial {})\n", options.file, verdict, lin::to_string(*model),
                             *model == lin::Model::Kv ? std::string("\"\"") : initial.dump());
    const std::string wall = result.wall_time_s < 1 ? fmt::format("{:.1f}ms", result.wall_time_s * 1e3)
                                                    : fmt::format("{:.2f}s", result.wall_time_s);
    std::cout << fmt::format("  {} ({} info), {}, {} states explored, {} wall time\n",
                             plural(history.ops.size(), "op"), info, plural(result.partitions, "partition"),
                             result.states_explored, wall);
    if (result.verdict == lin::Verdict::Unknown)
      std::cout << "  no verdict: " << (result.reason.empty() ? "the search ran out of budget" : result.reason)
                << "\n";
    if (result.explanation) std::cout << "\n" << result.explanation->text << "\n";
  }

  switch (result.verdict) {
    case lin::Verdict::Linearizable: return 0;
    case lin::Verdict::NotLinearizable: return 1;
    case lin::Verdict::Unknown: return 3;
  }
  return 3;
}

}  // namespace faultline
