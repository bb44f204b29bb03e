#include "reports/raft_snapshot_metrics.hpp"

#include <algorithm>
#include <cstdint>

namespace faultline::reports {

void add_raft_snapshot_metrics(const RunRecord& record, nlohmann::json& metrics) {
  std::int64_t snapshots = 0, installed = 0;
  std::uint64_t bytes_max = 0, entries_max = 0, entries_at_end_max = 0;
  for (const auto& e : record.events) {
    if (e.kind == "snapshot" || e.kind == "snapshot_installed") {
      ++(e.kind == "snapshot" ? snapshots : installed);
      bytes_max = std::max(bytes_max, e.fields.value("bytes", std::uint64_t{0}));
    } else if (e.kind == "stable_storage") {
      // One per server at the end of the run (sim/raft_world.cpp).
      entries_max = std::max(entries_max, e.fields.value("log_entries_max", std::uint64_t{0}));
      entries_at_end_max =
          std::max(entries_at_end_max, e.fields.value("log_entries", std::uint64_t{0}));
    }
  }
  metrics["snapshots"] = snapshots;
  metrics["snapshots_installed"] = installed;
  metrics["snapshot_bytes_max"] = bytes_max;
  metrics["log_entries_max"] = entries_max;
  metrics["log_entries_at_end_max"] = entries_at_end_max;
  // Present when compaction never ran too, so that expectations on them always resolve.
  for (const char* kind : {"install_snapshot", "install_snapshot_reply"})
    if (!metrics["rpcs"].contains(kind)) metrics["rpcs"][kind] = 0;
}

}  // namespace faultline::reports
