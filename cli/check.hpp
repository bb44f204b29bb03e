// `faultline check HISTORY --model M [--initial JSON] [--timeout 60s] [--json]` (SCENARIOS.md,
// "Command line"): reads a history (history.jsonl or a Jepsen EDN history) and checks it for
// linearizability against a model.
#pragma once

#include <optional>
#include <string>

namespace faultline {

struct CheckOptions {
  std::string file;
  std::string model;                   // register | cas-register | kv | multi-register
  std::optional<std::string> initial;  // a JSON value; default null (kv: ignored)
  std::string timeout = "60s";         // a duration with a unit
  bool json = false;                   // print lin::Result::to_json instead of text
};

/// Returns SCENARIOS.md's exit code: 0 linearizable, 1 not linearizable, 2 bad input (reported on
/// stderr as `file:line:col: error: ...` or `faultline check: error: ...`), 3 unknown (budget).
int check_command(const CheckOptions& options);

}  // namespace faultline
