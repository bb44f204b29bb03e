// One line of a client history (SCENARIOS.md, "History format"). Clients emit these through
// their Effects; reports/ turns them into history.jsonl, latency statistics and the
// linearizability check.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/ids.hpp"
#include "common/time.hpp"

namespace faultline {

enum class OpType { Invoke, Ok, Fail, Info };

const char* to_string(OpType type);

struct HistoryEntry {
  std::int64_t process = 0;        // Jepsen process id: a new one after every `info`
  OpType type = OpType::Invoke;
  std::string f;                   // get | put | append | cas (kv model)
  std::optional<std::string> key;  // absent for single-register models
  nlohmann::json value;            // op argument on invoke; the value read on a get's ok
  std::optional<bool> result;      // cas ok: whether the compare matched
  Time time = 0;
  NodeId client = kNoNode;         // the client node that issued it (not in history.jsonl)
};

/// The history.jsonl object of one entry (`time` in seconds).
nlohmann::json to_json(const HistoryEntry& entry);

}  // namespace faultline
