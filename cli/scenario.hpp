// The in-memory form of a scenario file (SCENARIOS.md, "A scenario"), after validation and
// defaults. The loader (scenario_loader.cpp) is the only code that reads YAML; everything
// downstream trusts these values.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/params.hpp"
#include "common/time.hpp"

namespace faultline {

/// A place in a scenario file, 1-based, for error messages.
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

/// Bad input: printed as `file:line:col: error: message` and exit code 2.
class ScenarioError : public std::runtime_error {
 public:
  ScenarioError(SourceLoc loc, std::string message, std::string suggestion = {});
  const SourceLoc& loc() const { return loc_; }
  const std::string& message() const { return message_; }
  const std::string& suggestion() const { return suggestion_; }
  /// "file:line:col: error: message (suggestion)"
  std::string format() const;

 private:
  SourceLoc loc_;
  std::string message_;
  std::string suggestion_;
};

enum class Topology { Star, Racks, TwoSwitch };

struct DiskSpec {
  double read_bytes_s = 30e6;
  double write_bytes_s = 30e6;
  /// Stable-storage fsync latency added to every persist; a range is drawn per persist (an
  /// SSD's fsync time varies), from the node's stream "timing/<name>".
  DurationRange sync_latency{0, 0};
  /// Average access time (seek plus rotational latency) paid by every request of a disk job
  /// (DiskJob::ops), on top of its bytes: what makes many small reads slow on a spinning disk.
  /// Persists (sync_latency) do not pay it.
  Duration access_time = 0;
};

struct RacksSpec {
  int racks = 1;
  int hosts_per_rack = 1;
  double uplink_bytes_s = 1.25e9;
  double core_bytes_s = 2e10;
};

struct ClusterSpec {
  std::vector<std::string> server_names;  // n1..nN, or `names:`
  Topology topology = Topology::Star;
  Duration latency = kMillisecond;         // one-way, host to switch
  double bandwidth_bytes_s = 1.25e8;       // per host link (1Gbps)
  double speed_flops = 1e9;                // host CPU speed
  double message_cost_flops = 1e4;         // CPU work to handle one message (`message_cost`)
  std::optional<DiskSpec> disk;            // absent: no disk model, storage sync latency 0
  /// Software time to handle one event (a message, a timer expiry, a control, a finished job),
  /// drawn per event from the node's stream "timing/<name>" (`processing`, default 0): the
  /// event's effects, timer resets included, happen at its end. Zero: no draw, no delay.
  DurationRange processing{0, 0};
  std::string network_model = "exact";     // exact (CM02, factors 1) | tcp (LV08)
  std::optional<RacksSpec> racks;          // topology racks
};

struct WorkloadSpec {
  int clients = 0;                          // client nodes c1..cN
  std::optional<std::int64_t> ops;          // closed loop: operations per client
  std::optional<double> rate_per_s;         // open loop: operations per second (all clients)
  std::vector<std::pair<std::string, double>> mix;  // operation -> weight, file order
  int keys = 1;
  Duration rpc_timeout = 100 * kMillisecond;
  Duration client_timeout = kSecond;
  Duration start = 0;                       // when clients begin
};

/// A fault target as written: node names and/or role words ("leader", "random-2", "all"),
/// resolved when the fault fires (SCENARIOS.md, "Fault semantics").
struct TargetSpec {
  std::vector<std::string> items;
  SourceLoc loc;
};

enum class FaultKind {
  Crash, Restart, Partition, Isolate, Cut, Heal, Slow, Network, Elect, Heartbeat, Nemesis
};
const char* to_string(FaultKind kind);

struct SlowSpec {
  TargetSpec node;
  double cpu = 1.0;     // divide CPU speed by this
  double disk = 1.0;    // divide disk bandwidth by this
  Duration latency = 0; // add to the node's link latency
};

struct LongDelay {
  double p = 0.0;
  DurationRange delay;
};

struct NetworkSpec {
  bool reliable = false;                   // `network: reliable`
  std::optional<TargetSpec> from;          // absent: all links
  std::optional<TargetSpec> to;
  std::optional<double> drop;
  std::optional<double> duplicate;
  std::optional<DurationRange> delay;
  std::optional<LongDelay> long_delay;
  std::vector<std::string> kinds;          // message kinds it applies to; empty: every kind
};

struct NemesisSpec {
  std::vector<std::string> faults;         // crash | restart | partition
  DurationRange every;
  Time until = 0;
  /// `targets:` the servers the nemesis may crash, restart and partition away from the rest,
  /// resolved when the nemesis starts (a role word means every server with that role then,
  /// e.g. `worker`); absent: every server.
  std::optional<TargetSpec> targets;
};

struct FaultSpec {
  int index = 0;                // position in the file's fault list
  FaultKind kind = FaultKind::Crash;
  DurationRange at;             // lo == hi when fixed
  std::optional<Duration> for_duration;
  TargetSpec target;            // crash, restart, isolate, heal, elect, heartbeat
  std::vector<TargetSpec> groups;  // partition
  std::optional<TargetSpec> cut_from, cut_to;
  SlowSpec slow;
  NetworkSpec network;
  NemesisSpec nemesis;
  nlohmann::json spec;          // the fault as written (for report.json `faults[].spec`)
  SourceLoc loc;
};

/// `metric op number`, e.g. `election_time_ms.max < 1000`.
struct Expectation {
  std::string text;    // as written
  std::string metric;  // dotted path into report.json
  std::string op;      // == != < <= > >=
  double value = 0;
  SourceLoc loc;
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  std::string protocol;
  std::uint64_t seed = 1;
  Duration duration = 10 * kSecond;
  ClusterSpec cluster;
  ParamValues params;
  WorkloadSpec workload;
  std::vector<FaultSpec> faults;  // sorted by `at` (lo), file order for equal times
  std::vector<std::string> checks;
  Duration checks_budget = 10 * kSecond;  // wall-clock budget of the end-of-run checks (linearizable)
  std::vector<Expectation> expect;
  std::optional<Expectation> stop_when;
  nlohmann::json effective;       // the effective scenario after defaults and --set (report `config`)
  /// MapReduce real mode: params.input resolved against the scenario file's directory (same
  /// order; the params keep the names as written, which the applications see). Checked readable
  /// by the loader.
  std::vector<std::string> input_paths;
};

}  // namespace faultline
