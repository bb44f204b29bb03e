#include "reports/event_json.hpp"

#include <cstdint>

namespace faultline::reports {

nlohmann::json named_fields(const RunRecord& record, const EventRecord& event) {
  nlohmann::json fields = nlohmann::json::object();
  if (!event.fields.is_object()) return fields;
  for (const auto& [k, v] : event.fields.items()) {
    const bool node_field = k == "candidate" || k == "from" || k == "leader";
    const bool known = v.is_number_integer() && v.get<std::int64_t>() >= 0 &&
                       v.get<std::int64_t>() < static_cast<std::int64_t>(record.nodes.size());
    fields[k] = node_field && known ? nlohmann::json(record.name(v.get<NodeId>())) : v;
  }
  return fields;
}

nlohmann::json event_json(const RunRecord& record, const EventRecord& event) {
  nlohmann::json j = {{"time_s", to_seconds(event.time)},
                      {"node", event.node == kNoNode ? nlohmann::json(nullptr)
                                                     : nlohmann::json(record.name(event.node))},
                      {"kind", event.kind}};
  // The header wins over a field of the same name.
  nlohmann::json fields = named_fields(record, event);
  for (auto& [k, v] : fields.items())
    if (!j.contains(k)) j[k] = std::move(v);
  return j;
}

}  // namespace faultline::reports
