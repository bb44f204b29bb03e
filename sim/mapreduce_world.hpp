// MapReduce on the simulator (Dean & Ghemawat, OSDI 2004; docs/protocols/mapreduce.md): the
// first server runs the coordinator (the paper's master), every other server a worker; there
// are no clients. The job (splits, replica placement, racks, real-mode text) is planned once
// and shared read-only by every core. The global file system the reduce output goes to (the
// OutputStore: temporary files and atomic renames, §3.3) lives here, outside every node, so it
// survives worker crashes.
//
// Beyond driving the cores, the world
//   - carries out the 6.824 crash test: a worker that emitted `crash_self` is crashed by a
//     small actor of its own and restarted `crash_test_restart` later;
//   - tells the fault controller when the run may end (finished(): the coordinator emitted
//     job_done or job_failed);
//   - feeds the aggregated shuffle (params.shuffle: aggregated, sim/shuffle_fabric) from the
//     coordinator's task events;
//   - runs the end-of-run checks `mapreduce.output` (real mode: every committed file equals the
//     sequential run's, byte for byte) and `mapreduce.commit` (atomic commit: one winning
//     rename per reduce, every reduce of a done job committed once, finals are whole
//     temporaries), and emits the `output_summary` event;
//   - hands the run directory its files: output/mr-out-<r> (real mode), and expected/mr-out-<r>
//     when mapreduce.output failed.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "cli/scenario.hpp"
#include "protocols/mapreduce/apps.hpp"
#include "protocols/mapreduce/config.hpp"
#include "protocols/mapreduce/coordinator.hpp"
#include "protocols/mapreduce/job.hpp"
#include "protocols/mapreduce/output_store.hpp"
#include "protocols/mapreduce/worker.hpp"
#include "sim/world.hpp"

namespace faultline::sim {

class ShuffleFabric;

class MapReduceWorld final : public World {
 public:
  MapReduceWorld(const Scenario& scenario, RunContext& ctx);
  ~MapReduceWorld() override;
  void start() override;
  void finish() override;
  void collect_violations() override {}
  bool can_finish() const override { return true; }
  bool finished() const override { return job_done_ || job_failed_; }
  std::map<std::string, std::string> files() const override { return files_; }

  const mapreduce::Job& job() const { return *job_; }
  const mapreduce::OutputStore& output() const { return store_; }
  NodeId coordinator() const { return coordinator_id_; }

 private:
  using WorkerRuntime = NodeRuntime<mapreduce::Worker>;
  using CoordinatorRuntime = NodeRuntime<mapreduce::Coordinator>;

  void observe_coordinator(const mapreduce::Coordinator& core,
                           const mapreduce::Coordinator::Out& out, Time now);
  void feed_fabric(const TraceEvent& e);
  void observe_worker(const mapreduce::Worker& core, const mapreduce::Worker::Out& out);
  void apply_output(const mapreduce::OutputOp& op);
  /// The 6.824 crash test: crash `id` now (from an actor of its own, never from the node's own
  /// actor) and restart it `crash_test_restart` later, unless something else restarted it.
  void crash_self(NodeId id);
  /// `became_<role>` once per incarnation, for the trace's role tracks.
  void announce_role(NodeId id, const char* role, Time now);
  void check_output();
  void check_commit();

  RunContext& ctx_;
  mapreduce::Config config_;
  std::vector<std::string> checks_;
  std::unique_ptr<mapreduce::App> app_;  // real mode
  std::shared_ptr<const mapreduce::Job> job_;
  Transport<mapreduce::Message> transport_;
  mapreduce::OutputStore store_;
  std::unique_ptr<ShuffleFabric> fabric_;  // params.shuffle: aggregated
  NodeId coordinator_id_ = kNoNode;
  CoordinatorRuntime* coordinator_runtime_ = nullptr;
  std::vector<WorkerRuntime*> worker_runtimes_;
  std::vector<std::int64_t> announced_;  // per node id: the incarnation last announced (-1: none)
  bool job_done_ = false;
  bool job_failed_ = false;
  Time job_over_at_ = 0;
  /// Every temporary file written, (reduce, attempt, worker) -> content (real mode) and bytes:
  /// what a final file must be a whole copy of (mapreduce.commit).
  std::map<std::tuple<int, int, NodeId>, std::pair<std::uint64_t, std::string>> temps_written_;
  std::map<std::string, std::string> files_;
};

}  // namespace faultline::sim
