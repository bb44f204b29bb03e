// Linearizability checking (linearizability.hpp): Wing & Gong's backtracking search with Lowe's
// memoization, in the formulation of Porcupine and Knossos' WGL.
//
//   lin_model.hpp/.cpp    values as interned ids, the models' step function, compiling ops
//   lin_search.hpp/.cpp   the search over one sub-history, its memo, budgets and frontier
//   this file             the API: partitions (one per kv key), the two searches per partition
//                         (the verdict, then on failure the explanation), texts and JSON
#include "reports/linearizability.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <utility>

#include "reports/lin_model.hpp"
#include "reports/lin_search.hpp"

namespace faultline::lin {

const char* to_string(Model model) {
  switch (model) {
    case Model::Register:
      return "register";
    case Model::CasRegister:
      return "cas-register";
    case Model::Kv:
      return "kv";
    case Model::MultiRegister:
      return "multi-register";
  }
  return "?";
}

std::optional<Model> model_from_string(const std::string& name) {
  if (name == "register") return Model::Register;
  if (name == "cas-register") return Model::CasRegister;
  if (name == "kv") return Model::Kv;
  if (name == "multi-register") return Model::MultiRegister;
  return std::nullopt;
}

std::vector<std::string> model_functions(Model model) {
  switch (model) {
    case Model::Register:
      return {"read", "write"};
    case Model::CasRegister:
      return {"read", "write", "cas"};
    case Model::Kv:
      return {"get", "put", "append", "cas"};
    case Model::MultiRegister:
      return {"txn"};
  }
  return {};
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Linearizable:
      return "linearizable";
    case Verdict::NotLinearizable:
      return "not linearizable";
    case Verdict::Unknown:
      return "unknown";
  }
  return "?";
}

namespace {

using namespace detail;

constexpr std::size_t kMaxPrefixJson = 20;
constexpr std::size_t kExplanationConfigs = std::size_t{1} << 19;  // cap of the explanation search

// ---------------------------------------------------------------------------------------------
// Explanations

std::string shorten(std::string s) {
  if (s.size() <= 80) return s;
  return s.substr(0, 40) + "..." + s.substr(s.size() - 30);
}

std::string show(const json& v) { return shorten(v.dump()); }

std::string describe(const Op& op) {
  const bool known = op.status == Op::Status::Ok && op.output_known;
  if (op.f == "read" || op.f == "get")
    return known ? fmt::format("{} of {}", op.f, show(op.output))
                 : fmt::format("{} of an unknown value", op.f);
  if (op.f == "write" || op.f == "put" || op.f == "append")
    return fmt::format("{} of {}", op.f, show(op.value));
  if (op.f == "cas" && op.value.is_array() && op.value.size() == 2) {
    const bool no_match = op.cas_result.has_value() && !*op.cas_result;
    return fmt::format("cas from {} to {}{}", show(op.value[0]), show(op.value[1]),
                       no_match ? " (reported as not matching)" : "");
  }
  if (op.f == "txn") return fmt::format("txn {}", show(known ? op.output : op.value));
  return fmt::format("{} {}", op.f, show(op.value));
}

/// Why `op` cannot follow any of the states: {plural form, singular form}.
std::pair<std::string, std::string> why(const Op& op) {
  if (op.f == "read" || op.f == "get")
    return {fmt::format("none of which a {} can observe", describe(op)),
            fmt::format("which a {} cannot observe", describe(op))};
  if (op.f == "cas" && op.value.is_array() && op.value.size() == 2) {
    if (op.cas_result.has_value() && !*op.cas_result)
      return {
          fmt::format("all of which equal the expected value {}, so the compare would have matched",
                      show(op.value[0])),
          fmt::format("which equals the expected value {}, so the compare would have matched",
                      show(op.value[0]))};
    return {fmt::format("none of which is the expected value {} of its compare", show(op.value[0])),
            fmt::format("which is not the expected value {} of its compare", show(op.value[0]))};
  }
  if (op.f == "txn")
    return {"none of which agrees with the txn's reads",
            "which does not agree with the txn's reads"};
  return {"none of which allows it", "which does not allow it"};
}

/// "that a read of 2 cannot observe", ... (after "a state").
std::string cannot_follow(const Op& op) {
  if (op.f == "read" || op.f == "get") return fmt::format("that a {} cannot observe", describe(op));
  if (op.f == "cas" && op.value.is_array() && op.value.size() == 2) {
    if (op.cas_result.has_value() && !*op.cas_result)
      return fmt::format("equal to the expected value {} (its compare would have matched)",
                         show(op.value[0]));
    return fmt::format("other than the expected value {} of its compare", show(op.value[0]));
  }
  if (op.f == "txn") return "that disagrees with the txn's reads";
  return "that does not allow it";
}

std::string op_short(const Op& op) {
  return fmt::format("process {} {} (line {})", op.process, describe(op), op.invoke_line);
}

std::string explanation_text(const History& history, Model model, const Explanation& e,
                             std::size_t states_total, bool states_complete) {
  const Op& op = history.ops[e.op];
  std::string where = fmt::format("history line {}", op.invoke_line);
  if (op.invoke_time != 0 || op.complete_time != 0)
    where += fmt::format(", invoked at {:.6g} s, completed at {:.6g} s", op.invoke_time,
                         op.complete_time);
  const std::string subject = model == Model::MultiRegister ? "the registers"
                              : model == Model::Kv ? fmt::format("key {}", e.key.value_or("\"\""))
                                                   : "the register";
  std::vector<std::string> shown;
  for (const auto& s : e.states) shown.push_back(show(s));
  std::string list = fmt::format("{}", fmt::join(shown, ", "));
  if (states_total > shown.size())
    list += fmt::format(" (first {} of {})", shown.size(), states_total);
  const auto [plural, singular] = why(op);
  const bool one = states_total == 1;
  const std::string prefix =
      e.prefix.empty()
          ? "No op can be ordered before it"
          : fmt::format("The ops before it can be ordered (longest linearizable prefix: {} op{})",
                        e.prefix.size(), e.prefix.size() == 1 ? "" : "s");
  std::string text = fmt::format("Not linearizable{}: process {}'s {} ({}) cannot be linearized",
                                 e.key ? fmt::format(" (key {})", *e.key) : std::string(),
                                 op.process, describe(op), where);
  if (!states_complete) {
    // Not every state at the frontier was enumerated: examples only.
    text += fmt::format(". {}, but every such order leaves {} in a state {}, such as {}.", prefix,
                        subject, cannot_follow(op), list);
  } else if (e.prefix.empty()) {
    text +=
        one ? fmt::format(". {}, and {} is then in state {}, {}.", prefix, subject, list, singular)
            : fmt::format(". {}, and {} is then in one of these states: {} — {}.", prefix, subject,
                          list, plural);
  } else {
    text +=
        one ? fmt::format(". {}, but every such order leaves {} in state {}, {}.", prefix, subject,
                          list, singular)
            : fmt::format(". {}, but every such order leaves {} in one of these states: {} — {}.",
                          prefix, subject, list, plural);
  }
  if (!e.prefix.empty()) {
    const std::size_t last = std::min<std::size_t>(e.prefix.size(), 5);
    std::vector<std::string> tail;
    for (std::size_t i = e.prefix.size() - last; i < e.prefix.size(); ++i)
      tail.push_back(op_short(history.ops[e.prefix[i]]));
    text +=
        fmt::format("\n{} of that prefix: {}.",
                    last == e.prefix.size() ? "The ops" : "The last ops", fmt::join(tail, "; "));
  }
  return text;
}

json op_json(const Op& op, bool full) {
  json j = {{"process", op.process}, {"f", op.f}};
  if (full && op.key) j["key"] = *op.key;
  j["value"] = op.value;
  j["output"] = op.output_known ? op.output : json(nullptr);
  if (full) {
    j["index"] = op.invoke_index;
    j["line"] = op.invoke_line;
    j["time"] = op.invoke_time;
  }
  return j;
}

struct PartitionSpec {
  std::optional<std::string> key;
  std::vector<std::size_t> ops;  // into History::ops, invocation order
};

std::vector<PartitionSpec> partitions_of(const History& history, Model model) {
  std::vector<PartitionSpec> parts;
  if (model != Model::Kv) {
    PartitionSpec p;
    for (std::size_t i = 0; i < history.ops.size(); ++i) p.ops.push_back(i);
    parts.push_back(std::move(p));
    return parts;
  }
  std::map<std::optional<std::string>, std::size_t> index;  // key -> partition, by first appearance
  for (std::size_t i = 0; i < history.ops.size(); ++i) {
    const auto& key = history.ops[i].key;
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, parts.size()).first;
      parts.push_back(PartitionSpec{key, {}});
    }
    parts[it->second].ops.push_back(i);
  }
  return parts;
}

}  // namespace

json Result::to_json(const History& history) const {
  json j;
  j["verdict"] = to_string(verdict);
  if (!reason.empty()) j["reason"] = reason;
  if (explanation) {
    const Explanation& e = *explanation;
    json ex = json::object();
    if (e.op < history.ops.size()) ex["op"] = op_json(history.ops[e.op], true);
    ex["states"] = e.states;
    ex["prefix_length"] = e.prefix.size();
    json prefix = json::array();
    const std::size_t from =
        e.prefix.size() > kMaxPrefixJson ? e.prefix.size() - kMaxPrefixJson : 0;
    for (std::size_t i = from; i < e.prefix.size(); ++i)
      if (e.prefix[i] < history.ops.size())
        prefix.push_back(op_json(history.ops[e.prefix[i]], false));
    ex["prefix"] = std::move(prefix);
    ex["text"] = e.text;
    j["explanation"] = std::move(ex);
  }
  j["partitions"] = partitions;
  j["states_explored"] = states_explored;
  j["wall_time_s"] = wall_time_s;
  return j;
}

Result check(const History& history, const Options& options) {
  const auto start = Clock::now();
  Budget budget;
  budget.timeout_s = options.timeout_s;
  budget.memory_limit = options.memory_limit_bytes;
  const double timeout = std::isfinite(options.timeout_s) ? std::max(0.0, options.timeout_s) : 1e9;
  budget.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(std::min(timeout, 1e9)));
  Result result;
  auto finish = [&](Verdict v) {
    result.verdict = v;
    result.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };

  bool unknown = false;
  for (const PartitionSpec& part : partitions_of(history, options.model)) {
    if (unknown && budget.time_exceeded()) break;  // no time left for the rest
    Machine machine(options.model);
    std::vector<COp> ops;
    ops.reserve(part.ops.size());
    for (std::size_t i : part.ops) {
      COp c;
      if (auto error = compile(history.ops[i], i, machine, c)) {
        result.reason = *error;
        return finish(Verdict::Unknown);
      }
      // A read that did not complete constrains nothing: left out.
      if (!c.ok && c.preserving) continue;
      ops.push_back(c);
    }
    std::int32_t initial = 0;
    switch (options.model) {
      case Model::Kv:
        initial = machine.values().intern("");
        break;
      case Model::MultiRegister: {
        // Keys start as options.initial[key] when it is an object holding that key, else null.
        if (options.initial.is_object())
          for (const auto& item : options.initial.items()) machine.key_id(item.key());
        std::vector<std::int32_t> s(machine.key_count());
        for (std::size_t k = 0; k < s.size(); ++k) {
          const std::string& name = machine.key_name(k);
          const bool has = options.initial.is_object() && options.initial.contains(name);
          s[k] = machine.values().intern(canonical(has ? options.initial[name] : json(nullptr)));
        }
        initial = machine.intern_state(s);
        break;
      }
      default:
        initial = machine.values().intern(canonical(options.initial));
        break;
    }
    ++result.partitions;
    SearchRun verdict = run_search(machine, ops, history, initial, budget, Prune::Doomed, kNone,
                                   Frontiers::OnFailure);
    result.states_explored += verdict.explored;
    if (verdict.outcome == Outcome::Budget) {
      unknown = true;
      if (result.reason.empty()) result.reason = verdict.reason;
      continue;
    }
    if (verdict.outcome == Outcome::Linearizable) continue;
    // Not linearizable. The verdict search cut every doomed configuration, so its frontier only
    // bounds where an exhaustive search (Knossos') would stop. Search again, cutting only what
    // cannot move that frontier, to find the op Knossos blames. Past its cap (or the time
    // budget), the deeper of the two partial frontiers stands, with example states.
    SearchRun full = run_search(machine, ops, history, initial, budget, Prune::Bounded,
                                kExplanationConfigs, Frontiers::Always);
    result.states_explored += full.explored;
    if (full.outcome != Outcome::NotLinearizable && verdict.frontier.depth > full.frontier.depth) {
      full.frontier = std::move(verdict.frontier);
      full.frontier.states_complete = false;
    }
    const Frontier& frontier = full.frontier;
    Explanation e;
    e.op = ops[frontier.op].index;
    e.key = part.key;
    for (auto s : frontier.states) e.states.push_back(machine.state_json(s));
    for (auto p : frontier.prefix) e.prefix.push_back(ops[p].index);
    e.text = explanation_text(history, options.model, e, frontier.states_total,
                              frontier.states_complete);
    result.explanation = std::move(e);
    result.reason.clear();
    return finish(Verdict::NotLinearizable);
  }
  return finish(unknown ? Verdict::Unknown : Verdict::Linearizable);
}

}  // namespace faultline::lin
