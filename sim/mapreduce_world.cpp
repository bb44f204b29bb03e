#include "sim/mapreduce_world.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>
#include <simgrid/s4u/Actor.hpp>

#include "sim/engine.hpp"
#include "sim/shuffle_fabric.hpp"

namespace faultline::sim {
namespace {

bool listed(const std::vector<std::string>& checks, std::string_view name) {
  return std::find(checks.begin(), checks.end(), name) != checks.end();
}

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

std::string output_name(int reduce) { return fmt::format("mr-out-{}", reduce); }

/// The lines of `text`, without their '\n'.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string shown(std::string_view line) {
  constexpr std::size_t kMax = 120;
  if (line.size() <= kMax) return std::string(line);
  return std::string(line.substr(0, kMax)) + "...";
}

}  // namespace

MapReduceWorld::MapReduceWorld(const Scenario& scenario, RunContext& ctx)
    : ctx_(ctx),
      config_(mapreduce::config_from(scenario.params)),
      checks_(scenario.checks),
      transport_(ctx, [](const mapreduce::Message& m) { return mapreduce::kind_name(m); }) {
  transport_.set_bulk_threshold(config_.bulk_message_size);
  std::vector<std::string> names;
  for (const auto& slot : ctx.slots) {
    by_name_[slot.info.name] = slot.info.id;
    names.push_back(slot.info.name);
    (slot.info.kind == NodeKind::Server ? servers_ : clients_).push_back(slot.info.id);
  }
  announced_.assign(ctx.slots.size(), -1);
  // The first server is the coordinator (the paper's master), every other server a worker.
  coordinator_id_ = servers_.front();
  std::vector<NodeId> workers(servers_.begin() + 1, servers_.end());

  std::vector<mapreduce::InputFile> files;
  if (config_.payload == mapreduce::Payload::Real) {
    app_ = mapreduce::make_app(config_);
    for (std::size_t i = 0; i < config_.input.size(); ++i) {
      // The loader resolved params.input against the scenario file and checked every file is
      // readable; the applications see the names as written.
      const std::string& path =
          i < scenario.input_paths.size() ? scenario.input_paths[i] : config_.input[i];
      files.push_back(mapreduce::InputFile{config_.input[i], read_whole_file(path)});
    }
  }
  // Racks as sim/platform.cpp builds them: hosts_per_rack consecutive nodes per rack.
  std::vector<int> rack_of(ctx.slots.size(), 0);
  if (scenario.cluster.topology == Topology::Racks && scenario.cluster.racks) {
    const auto per_rack = static_cast<std::size_t>(std::max(1, scenario.cluster.racks->hosts_per_rack));
    for (std::size_t i = 0; i < rack_of.size(); ++i) rack_of[i] = static_cast<int>(i / per_rack);
  }
  mapreduce::Job job = mapreduce::plan_job(config_, std::move(files), workers, coordinator_id_,
                                           std::move(rack_of), ctx.root_rng.fork("placement"));
  job.names = std::move(names);
  job_ = std::make_shared<const mapreduce::Job>(std::move(job));
  if (config_.shuffle == mapreduce::Shuffle::Aggregated)
    fabric_ = std::make_unique<ShuffleFabric>(ctx, job_, config_.shuffle_batch_interval);

  {
    const NodeId id = coordinator_id_;
    auto runtime = std::make_unique<CoordinatorRuntime>(
        ctx, transport_, id, "node/" + ctx.slot(id).info.name,
        [this, id](const mapreduce::CoordinatorStorage& stored, Rng rng, Time now) {
          return std::make_unique<mapreduce::Coordinator>(id, job_, rng, stored, now);
        },
        [](mapreduce::CoordinatorStorage& stored, const mapreduce::CoordinatorOp& op) {
          mapreduce::apply(stored, op);
        },
        [this](const mapreduce::Coordinator& core, const mapreduce::Coordinator::Out& out,
               Time now) {
          announce_role(core.id(), "coordinator", now);
          observe_coordinator(core, out, now);
        });
    coordinator_runtime_ = runtime.get();
    nodes_.push_back(std::move(runtime));
  }
  for (NodeId id : workers) {
    auto runtime = std::make_unique<WorkerRuntime>(
        ctx, transport_, id, "node/" + ctx.slot(id).info.name,
        [this, id](const std::monostate&, Rng rng, Time now) {
          return std::make_unique<mapreduce::Worker>(id, job_, app_.get(), rng,
                                                     ctx_.slot(id).incarnation, now);
        },
        // A worker's output operations go to the global file system, not to the node: they
        // are durable once applied, whatever happens to the worker afterwards.
        [this](std::monostate&, const mapreduce::OutputOp& op) { apply_output(op); },
        [this](const mapreduce::Worker& core, const mapreduce::Worker::Out& out, Time now) {
          announce_role(core.id(), "worker", now);
          observe_worker(core, out);
        });
    worker_runtimes_.push_back(runtime.get());
    nodes_.push_back(std::move(runtime));
  }
}

MapReduceWorld::~MapReduceWorld() = default;

void MapReduceWorld::start() {
  for (auto& node : nodes_) node->start();
}

void MapReduceWorld::announce_role(NodeId id, const char* role, Time now) {
  // The trace draws a server's role from `became_<role>` events; a MapReduce node's role never
  // changes, so it is announced once per incarnation, at that incarnation's first step.
  auto& last = announced_.at(static_cast<std::size_t>(id));
  const std::int64_t incarnation = ctx_.slot(id).incarnation;
  if (last == incarnation) return;
  last = incarnation;
  ctx_.record.events.push_back(EventRecord{now, id, fmt::format("became_{}", role),
                                           {{"incarnation", ctx_.slot(id).incarnation}}});
}

void MapReduceWorld::observe_coordinator(const mapreduce::Coordinator&,
                                         const mapreduce::Coordinator::Out& out, Time now) {
  for (const auto& e : out.events) {
    if (e.kind == "job_done" || e.kind == "job_failed") {
      if (!finished()) job_over_at_ = now;
      (e.kind == "job_done" ? job_done_ : job_failed_) = true;
    } else if (fabric_) {
      feed_fabric(e);
    }
  }
}

void MapReduceWorld::feed_fabric(const TraceEvent& e) {
  // The aggregated shuffle follows the coordinator's view of the tasks: a reduce attempt
  // receives the outputs of the maps the coordinator accepted, from the racks they live in.
  const auto& f = e.fields;
  if (e.kind == "task_assigned" && f.value("task", "") == "reduce") {
    const NodeId worker = find(f.value("worker", ""));
    if (worker != kNoNode) fabric_->reduce_started(f["id"].get<int>(), f["attempt"].get<int>(), worker);
  } else if (e.kind == "task_ended") {
    const std::string outcome = f.value("outcome", "");
    const int task = f["id"].get<int>();
    if (f.value("task", "") == "reduce") {
      fabric_->reduce_ended(task, f["attempt"].get<int>());
    } else if (outcome == "committed") {
      const NodeId worker = find(f.value("worker", ""));
      if (worker != kNoNode) fabric_->map_committed(task, worker);
    } else if (outcome == "reset") {
      fabric_->map_reset(task);
    }
  }
}

void MapReduceWorld::observe_worker(const mapreduce::Worker& core,
                                    const mapreduce::Worker::Out& out) {
  for (const auto& e : out.events)
    if (e.kind == "crash_self") {
      crash_self(core.id());
      return;
    }
}

void MapReduceWorld::crash_self(NodeId id) {
  const std::uint32_t incarnation = ctx_.slot(id).incarnation;
  const Duration restart_after = config_.crash_test_restart;
  // Not from the node's own actor (it is in the middle of its step): a throw-away actor on the
  // node's host, which crash() does not kill. It runs once the node's actor yields, at this
  // same instant. The runtime records the crash and the restart as `crash` / `restart` events.
  simgrid::s4u::Actor::create(
      ctx_.slot(id).info.name + "-crash-test", ctx_.platform.host(id),
      [this, id, incarnation, restart_after] {
        NodeHandle& n = node(id);
        if (!n.up() || ctx_.slot(id).incarnation != incarnation) return;  // a fault came first
        n.crash();
        simgrid::s4u::this_actor::sleep_for(to_seconds(restart_after));
        // Restart it unless a fault restarted it meanwhile (then it is up, or a later
        // incarnation crashed for another reason: not ours to restart).
        if (!n.up() && ctx_.slot(id).incarnation == incarnation) n.restart();
      })
      ->daemonize();
}

void MapReduceWorld::apply_output(const mapreduce::OutputOp& op) {
  if (const auto* w = std::get_if<mapreduce::WriteTemp>(&op))
    temps_written_[{w->reduce, w->attempt, w->worker}] = {w->bytes, w->content};
  store_.apply(op, SimEngine::now());
}

void MapReduceWorld::finish() {
  const Time end = ctx_.record.end_time;
  std::size_t duplicate_renames = 0;
  for (const auto& r : store_.renames())
    if (!r.won) ++duplicate_renames;
  ctx_.record.events.push_back(EventRecord{end, kNoNode, "output_summary",
                                           {{"committed", store_.finals().size()},
                                            {"temporaries_left", store_.temporaries()},
                                            {"duplicate_renames", duplicate_renames}}});
  if (fabric_)
    ctx_.record.events.push_back(EventRecord{end, kNoNode, "shuffle_summary",
                                             {{"flows", fabric_->flows()},
                                              {"bytes", fabric_->bytes()},
                                              {"disk_rounds", fabric_->disk_rounds()}}});
  if (config_.payload == mapreduce::Payload::Real)
    for (const auto& [reduce, committed] : store_.finals())
      files_["output/" + output_name(reduce)] = committed.content;
  if (listed(checks_, "mapreduce.output")) check_output();
  if (listed(checks_, "mapreduce.commit")) check_commit();
}

void MapReduceWorld::check_output() {
  // Modelled mode has no bytes to compare: the check is about real payloads only.
  if (config_.payload != mapreduce::Payload::Real || !app_) return;
  const std::vector<std::string> expected = mapreduce::run_sequential(*app_, *job_, config_.combiner);
  bool failed = false;
  for (int r = 0; r < job_->reduce_tasks; ++r) {
    const std::string name = output_name(r);
    const auto& want = expected.at(static_cast<std::size_t>(r));
    auto it = store_.finals().find(r);
    if (it == store_.finals().end()) {
      if (!job_done_) continue;  // a failed or unfinished job need not have every file
      failed = true;
      ViolationRecord v;
      v.time = job_over_at_;
      v.nodes = {ctx_.slot(coordinator_id_).info.name};
      v.check = "mapreduce.output";
      v.detail = fmt::format("{} is missing although the job was reported done", name);
      v.data = {{"file", name}, {"reduce", r}};
      ctx_.record.violations.push_back(std::move(v));
      continue;
    }
    const auto& got = it->second;
    if (got.content == want) continue;
    failed = true;
    const auto want_lines = lines_of(want);
    const auto got_lines = lines_of(got.content);
    std::size_t line = 0;
    while (line < want_lines.size() && line < got_lines.size() && want_lines[line] == got_lines[line])
      ++line;
    const std::string want_text = line < want_lines.size() ? shown(want_lines[line]) : "<end of file>";
    const std::string got_text = line < got_lines.size() ? shown(got_lines[line]) : "<end of file>";
    ViolationRecord v;
    v.time = got.committed_at;
    v.nodes = {ctx_.slot(got.worker).info.name};
    v.check = "mapreduce.output";
    v.detail = fmt::format("{} differs from the sequential run at line {}: expected '{}', got '{}'",
                           name, line + 1, want_text, got_text);
    v.data = {{"file", name},           {"reduce", r},         {"line", line + 1},
              {"expected", want_text},  {"got", got_text},     {"attempt", got.attempt},
              {"expected_bytes", want.size()}, {"got_bytes", got.content.size()}};
    ctx_.record.violations.push_back(std::move(v));
  }
  if (failed)
    for (int r = 0; r < job_->reduce_tasks; ++r)
      files_["expected/" + output_name(r)] = expected.at(static_cast<std::size_t>(r));
}

void MapReduceWorld::check_commit() {
  auto name_of = [this](NodeId id) { return ctx_.slot(id).info.name; };
  std::map<int, std::vector<const mapreduce::OutputStore::RenameRecord*>> won;
  for (const auto& r : store_.renames())
    if (r.won) won[r.reduce].push_back(&r);
  // §3.3: "we rely on the atomic rename operation provided by the underlying file system to
  // guarantee that the final file system state contains just the data produced by one
  // execution of the reduce task".
  for (const auto& [reduce, list] : won) {
    if (list.size() < 2) continue;
    ViolationRecord v;
    v.time = list[1]->at;
    for (const auto* r : list) v.nodes.push_back(name_of(r->worker));
    v.check = "mapreduce.commit/two_winners";
    v.detail = fmt::format("{}: {} renames to the final name won (attempts {} and {})",
                           output_name(reduce), list.size(), list[0]->attempt, list[1]->attempt);
    v.data = {{"file", output_name(reduce)}, {"reduce", reduce}, {"winners", list.size()}};
    ctx_.record.violations.push_back(std::move(v));
  }
  if (job_done_) {
    for (int r = 0; r < job_->reduce_tasks; ++r) {
      if (won.count(r)) continue;
      ViolationRecord v;
      v.time = job_over_at_;
      v.nodes = {name_of(coordinator_id_)};
      v.check = "mapreduce.commit/not_committed";
      v.detail = fmt::format("the job was reported done but reduce {} never committed {}", r,
                             output_name(r));
      v.data = {{"file", output_name(r)}, {"reduce", r}};
      ctx_.record.violations.push_back(std::move(v));
    }
  }
  // A final file is the whole temporary file of the execution whose rename won, never a
  // partial one or another execution's.
  for (const auto& [reduce, committed] : store_.finals()) {
    const auto winners = won.find(reduce);
    const bool explained =
        winners != won.end() &&
        std::any_of(winners->second.begin(), winners->second.end(), [&](const auto* r) {
          return r->attempt == committed.attempt && r->worker == committed.worker;
        });
    auto temp = temps_written_.find({reduce, committed.attempt, committed.worker});
    const bool whole = temp != temps_written_.end() && temp->second.first == committed.bytes &&
                       temp->second.second == committed.content;
    if (explained && whole) continue;
    ViolationRecord v;
    v.time = committed.committed_at;
    v.nodes = {name_of(committed.worker)};
    v.check = "mapreduce.commit/partial_output";
    v.detail = explained
                   ? fmt::format("{} is not the whole temporary file written by attempt {} on {}",
                                 output_name(reduce), committed.attempt, name_of(committed.worker))
                   : fmt::format("{} holds attempt {} on {}, whose rename is not the winning one",
                                 output_name(reduce), committed.attempt, name_of(committed.worker));
    v.data = {{"file", output_name(reduce)}, {"reduce", reduce}, {"attempt", committed.attempt}};
    ctx_.record.violations.push_back(std::move(v));
  }
}

}  // namespace faultline::sim
