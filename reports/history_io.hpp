// Reading histories for the linearizability checker (SCENARIOS.md, "History format"): faultline's
// history.jsonl, Jepsen/Knossos EDN histories, and faultline's in-memory history.
//
// All readers pair each invocation with the next completion of the same process and build a
// lin::History:
//   - `fail` completions drop the operation (it did not happen);
//   - `info` completions and invocations never completed give Op::Status::Info;
//   - `ok` gives Op::Status::Ok with `output` = the completion's value. In JSONL (and in memory)
//     null is a real value. In EDN, a read/get (any register model) completed with nil is a
//     read of unknown value (output_known = false), as Knossos' models have it. A txn's output
//     is the completed txn, micro-op for micro-op like its invocation (a `[read k nil]` in it is
//     left to the checker, which treats it as unknown, as Knossos' multi-register does).
//   - cas: JSONL/in memory `"result": false` on the ok gives cas_result false (true: true;
//     absent: nullopt, meaning matched). EDN: an ok cas succeeded (cas_result true).
//   - Ops of a keyword process in EDN (`:nemesis`) are ignored.
//   - invoke_index / complete_index: 0-based position of the line (JSONL) or op map (EDN) among
//     ALL ops of the file, ignored ones (nemesis) and `fail`ed ones included: the same index
//     Jepsen and Knossos give (`:index`). complete_index == invoke_index for Info ops.
//   - invoke_line: 1-based line where the invocation starts. Times in seconds (EDN `:time` is in
//     nanoseconds); 0 when absent. complete_time of an Info op is its info line's time, if any.
//   - An empty history (no ops, or only ignored ones) is not an error: it is linearizable.
//
// Malformed input throws HistoryError with a 1-based line and column; no input crashes a reader.
// Depends on common/ (and the lin::Model API of reports/linearizability.hpp).
#pragma once

#include <cstddef>
#include <istream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/history.hpp"
#include "reports/linearizability.hpp"

namespace faultline::lin {

class HistoryError : public std::runtime_error {
 public:
  /// `message` says what is wrong; `suggestion` (may be empty) is printed in parentheses after it,
  /// e.g. "did you mean 'read'?" or "valid: read, write, cas".
  HistoryError(std::string message, std::size_t line, std::size_t column, std::string suggestion = {});

  std::size_t line() const { return line_; }
  std::size_t column() const { return column_; }
  const std::string& message() const { return message_; }
  const std::string& suggestion() const { return suggestion_; }

  /// "path:line:col: error: message (suggestion)".
  std::string format(const std::string& path) const;

 private:
  std::size_t line_;
  std::size_t column_;
  std::string message_;
  std::string suggestion_;
};

enum class HistoryFormat { Jsonl, Edn };
const char* to_string(HistoryFormat format);

/// JSONL when the first non-blank character is '{' followed (after blanks) by '"' or '}'; EDN
/// when it is '[', '(', ';', '#' or '{' followed by anything else (a keyword). Empty or blank
/// text counts as JSONL (an empty history). Throws HistoryError for anything else.
HistoryFormat detect_format(std::string_view text);

/// Reads and parses a history file of either format. An unreadable file throws HistoryError at
/// 1:1 ("cannot read file: ...").
History read_history_file(const std::string& path, Model model);
/// Either format, detected from the text.
History read_history(std::istream& in, Model model);
History read_history_text(std::string_view text, Model model);

/// One JSON object per line (blank lines skipped): process, type, f, value, key (kv), result
/// (cas ok), time (seconds). Unknown keys are ignored.
History read_jsonl(std::istream& in, Model model);
/// A vector/list of op maps, or op maps one after the other; `;` comments, `#_` discards, tagged
/// literals (the tag is ignored), sets. Unknown keys are ignored.
History read_edn(std::istream& in, Model model);

/// faultline's own history (what `faultline run` records), with JSONL's meanings. Errors name the
/// history.jsonl line the entry would be on (its index + 1), column 1.
History from_entries(const std::vector<HistoryEntry>& entries, Model model);

}  // namespace faultline::lin
