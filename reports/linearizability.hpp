// Linearizability checking (issue 3): Wing & Gong's backtracking search with Lowe's memoization
// of (set of linearized operations, model state) — the algorithm class of Knossos' WGL and
// Porcupine — over independent sub-histories where the model allows (per key for kv).
//
// A small library used by both `faultline run` (checks: [linearizable]) and `faultline check`.
// Depends on common/ only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace faultline::lin {

enum class Model {
  Register,       // f: read, write                 value: the value written / read
  CasRegister,    // f: read, write, cas            cas value: [expected, new]
  Kv,             // f: get, put, append, cas + key (keys start as ""; append concatenates)
  MultiRegister,  // f: txn, value: [[read|write, key, value], ...] (Knossos' multi-register)
};

const char* to_string(Model model);
/// "register" | "cas-register" | "kv" | "multi-register"; nullopt otherwise.
std::optional<Model> model_from_string(const std::string& name);
/// The `f` values a model accepts.
std::vector<std::string> model_functions(Model model);

/// One operation: an invocation paired with its completion. `fail` operations never reach the
/// checker (they did not happen); `info` ones and invocations without completion are `Info`.
struct Op {
  std::int64_t process = 0;
  std::string f;
  std::optional<std::string> key;  // kv only
  nlohmann::json value;            // the invocation's argument (write value, [old, new], txn)
  /// Ok operations: what the completion reported. For reads: the value read; for a kv get: the
  /// string read; for a txn: the completed txn (reads filled in). Null with `output_known`
  /// false: unknown (Knossos' rule for an EDN read completed with nil).
  nlohmann::json output;
  bool output_known = true;
  std::optional<bool> cas_result;  // cas ok: did the compare match (absent: true)
  enum class Status { Ok, Info } status = Status::Ok;
  std::size_t invoke_index = 0;    // 0-based position of the invocation in the history file
  std::size_t complete_index = 0;  // position of the completion (== invoke_index for Info)
  std::size_t invoke_line = 0;     // 1-based line in the file (for messages)
  double invoke_time = 0;          // seconds, informational (0 when the input has none)
  double complete_time = 0;
};

/// Operations in invocation order. Real-time order: op a precedes op b when a completed before b
/// was invoked (complete_index < b.invoke_index); Info ops never complete.
struct History {
  std::vector<Op> ops;
};

struct Options {
  Model model = Model::Kv;
  nlohmann::json initial = nullptr;  // initial register value (kv: ignored, keys start as "")
  double timeout_s = 60;             // wall-clock budget; past it the verdict is Unknown
  std::size_t memory_limit_bytes = std::size_t{1} << 30;  // memo budget; past it Unknown
};

enum class Verdict { Linearizable, NotLinearizable, Unknown };
const char* to_string(Verdict verdict);

/// Why a history is not linearizable, for a student to follow.
struct Explanation {
  std::size_t op = 0;                  // index into History::ops of the first op that cannot
                                       // be linearized (the op whose completion the search
                                       // could not get past)
  std::optional<std::string> key;      // the sub-history (kv key) where it happened
  std::vector<nlohmann::json> states;  // model states reachable just before it
  std::vector<std::size_t> prefix;     // the longest linearizable prefix found: ops in order
  std::string text;                    // a few lines of plain text
};

struct Result {
  Verdict verdict = Verdict::Unknown;
  std::string reason;                      // Unknown: which budget ran out
  std::optional<Explanation> explanation;  // NotLinearizable only
  std::size_t partitions = 0;              // independent sub-histories checked
  std::uint64_t states_explored = 0;
  double wall_time_s = 0;

  /// {"verdict", "reason"?, "explanation"?: {op: {process, f, key, value, output, index, line,
  /// time}, states, prefix_length, prefix, text}, "partitions", "states_explored", "wall_time_s"}
  nlohmann::json to_json(const History& history) const;
};

/// Checks `history` against `options.model`. Never throws for a well-formed History; never
/// exceeds the budgets by more than a check interval.
Result check(const History& history, const Options& options);

}  // namespace faultline::lin
