#include "common/history.hpp"

namespace faultline {

const char* to_string(OpType type) {
  switch (type) {
    case OpType::Invoke: return "invoke";
    case OpType::Ok: return "ok";
    case OpType::Fail: return "fail";
    case OpType::Info: return "info";
  }
  return "?";
}

nlohmann::json to_json(const HistoryEntry& entry) {
  nlohmann::json j = nlohmann::json::object();
  j["process"] = entry.process;
  j["type"] = to_string(entry.type);
  j["f"] = entry.f;
  if (entry.key) j["key"] = *entry.key;
  j["value"] = entry.value;
  if (entry.result) j["result"] = *entry.result;
  j["time"] = to_seconds(entry.time);
  return j;
}

}  // namespace faultline
