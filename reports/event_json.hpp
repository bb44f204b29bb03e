// One line of events.jsonl (SCENARIOS.md, "Outputs"): an event with the names of the nodes it
// mentions. Shared by events.jsonl and trace.json, so both say the same thing.
#pragma once

#include <nlohmann/json.hpp>

#include "common/run_record.hpp"

namespace faultline::reports {

/// The event's own fields, with the fields that name another node (`candidate`, `from`,
/// `leader`) turned from node ids into names: cores name nodes by id, people read names.
nlohmann::json named_fields(const RunRecord& record, const EventRecord& event);

/// The events.jsonl object: `time_s`, `node` (name or null), `kind`, then the named fields.
nlohmann::json event_json(const RunRecord& record, const EventRecord& event);

}  // namespace faultline::reports
