// The MapReduce cores (Dean & Ghemawat, OSDI 2004) driven by hand and in the in-memory
// harness: job planning (§3.1 step 1), the coordinator's task state machine (§3.2), worker
// failure (§3.3), locality (§3.4), backup tasks (§3.6), coordinator restarts (§3.3), the worker's
// map, fetch and reduce paths (§3.1 steps 3-6), the output store's atomic rename (§3.3) and the
// 6.824 crash test. Every core's invariants run after each call.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/units.hpp"
#include "protocols/mapreduce/apps.hpp"
#include "protocols/mapreduce/config.hpp"
#include "protocols/mapreduce/coordinator.hpp"
#include "protocols/mapreduce/job.hpp"
#include "protocols/mapreduce/messages.hpp"
#include "protocols/mapreduce/output_store.hpp"
#include "protocols/mapreduce/worker.hpp"
#include "tests/harness/mapreduce_harness.hpp"

namespace faultline::mapreduce {
namespace {

using COut = Coordinator::Out;
using WOut = Worker::Out;

constexpr NodeId kCoord = 0;

Config modelled_config() {
  Config c;
  c.payload = Payload::Modelled;
  c.split_size = 1000;
  c.reduce_tasks = 1;
  c.ping_interval = kSecond;
  c.worker_timeout = 3 * kSecond;
  c.fetch_timeout = 2 * kSecond;
  c.backup_tasks = false;
  c.startup = 0;
  c.map_flops_per_byte = 10;
  c.sort_flops_per_byte = 10;
  c.reduce_flops_per_byte = 10;
  return c;
}

/// A job by hand: coordinator 0, workers 1..W, one 1000-byte split per replica list.
std::shared_ptr<Job> hand_job(const Config& c, int workers,
                              const std::vector<std::vector<NodeId>>& replicas, int reduces,
                              std::vector<int> racks = {}) {
  auto job = std::make_shared<Job>();
  job->config = c;
  job->config.reduce_tasks = reduces;
  job->coordinator = kCoord;
  job->rack_of.assign(static_cast<std::size_t>(workers + 1), 0);
  job->names.push_back("coordinator");
  for (int i = 1; i <= workers; ++i) {
    job->workers.push_back(i);
    job->names.push_back("w" + std::to_string(i));
    if (!racks.empty())
      job->rack_of[static_cast<std::size_t>(i)] = racks[static_cast<std::size_t>(i - 1)];
  }
  for (std::size_t m = 0; m < replicas.size(); ++m) {
    Split s;
    s.id = static_cast<int>(m);
    s.bytes = 1000;
    s.replicas = replicas[m];
    job->splits.push_back(s);
  }
  job->reduce_tasks = reduces;
  return job;
}

template <class M, class Out>
std::vector<std::pair<NodeId, M>> sent(const Out& out) {
  std::vector<std::pair<NodeId, M>> found;
  for (const auto& s : out.sends) {
    if (const auto* m = std::get_if<M>(&s.msg)) found.emplace_back(s.to, *m);
  }
  return found;
}

template <class Out>
std::vector<nlohmann::json> events(const Out& out, const std::string& kind) {
  std::vector<nlohmann::json> found;
  for (const auto& e : out.events) {
    if (e.kind == kind) found.push_back(e.fields);
  }
  return found;
}

template <class Out>
std::vector<std::string> outcomes(const Out& out) {
  std::vector<std::string> found;
  for (const nlohmann::json& e : events(out, "task_ended")) {
    found.push_back(e["task"].get<std::string>() + " " + std::to_string(e["id"].get<int>()) + " " +
                    e["outcome"].get<std::string>());
  }
  return found;
}

COut tick(Coordinator& c, Time now) {
  COut out;
  c.tick(now, out);
  c.check_invariants();
  return out;
}

COut deliver(Coordinator& c, NodeId from, Message m, Time now) {
  COut out;
  c.step(Envelope<Message>{from, kCoord, std::move(m)}, now, out);
  c.check_invariants();
  return out;
}

Coordinator make_coordinator(std::shared_ptr<Job> job, const CoordinatorStorage& storage = {},
                             Time now = 0) {
  return Coordinator(kCoord, std::move(job), Rng(7).fork("coordinator"), storage, now);
}

/// Boots a coordinator at `now` and registers the given workers (incarnation 0) in order.
COut boot_and_register(Coordinator& c, const std::vector<NodeId>& workers, Time now = 0) {
  COut all = tick(c, now);
  for (NodeId w : workers) {
    COut out = deliver(c, w, Register{0}, now);
    for (auto& s : out.sends) all.sends.push_back(s);
    for (auto& e : out.events) all.events.push_back(e);
  }
  return all;
}

int attempt_of(const COut& out, TaskKind kind, int task, NodeId worker) {
  if (kind == TaskKind::Map) {
    for (const auto& [to, m] : sent<AssignMap>(out)) {
      if (m.task == task && to == worker) return m.attempt;
    }
  } else {
    for (const auto& [to, m] : sent<AssignReduce>(out)) {
      if (m.task == task && to == worker) return m.attempt;
    }
  }
  ADD_FAILURE() << "no assignment of task " << task << " to " << worker;
  return -1;
}

// ------------------------------------------------------------------------------------------
// Job planning (§3.1 step 1)

TEST(MapReduceJob, PlanJob_RealSplitsAtLineEndsAndCoverEveryByteOnce) {
  Config c;
  c.payload = Payload::Real;
  c.split_size = 10;
  c.input_replicas = 2;
  std::vector<InputFile> files = {{"a.txt", "one two three\nfour\nfive six seven eight nine\nten"},
                                  {"b.txt", "short\n"},
                                  {"empty.txt", ""},
                                  {"c.txt", "exactly 9\nx\n"}};
  Job job = plan_job(c, files, {3, 1, 2}, 0, {0, 0, 0, 0}, Rng(1).fork("placement"));
  EXPECT_EQ(job.workers, (std::vector<NodeId>{1, 2, 3}));
  ASSERT_FALSE(job.splits.empty());
  std::map<int, std::string> rebuilt;
  int prev_file = -1;
  std::uint64_t expect_offset = 0;
  for (std::size_t i = 0; i < job.splits.size(); ++i) {
    const Split& s = job.splits[i];
    EXPECT_EQ(s.id, static_cast<int>(i)) << "split ids: file order, then offset";
    if (s.file != prev_file) {
      EXPECT_GT(s.file, prev_file);
      expect_offset = 0;
      prev_file = s.file;
    }
    EXPECT_EQ(s.offset, expect_offset) << "no gap and no overlap";
    expect_offset += s.bytes;
    const std::string_view text = job.text(s);
    EXPECT_EQ(text.size(), s.bytes);
    const std::string& content = job.files[static_cast<std::size_t>(s.file)].content;
    const bool last = s.offset + s.bytes == content.size();
    if (!last) {
      EXPECT_EQ(text.back(), '\n') << "a split that does not end its file ends at a line end";
      EXPECT_GE(s.bytes, c.split_size);
      // the first line end at or after split_size bytes
      EXPECT_EQ(text.substr(c.split_size - 1, text.size() - c.split_size).find('\n'),
                std::string_view::npos);
    }
    rebuilt[s.file] += std::string(text);
    EXPECT_EQ(s.replicas.size(), 2u);
    EXPECT_NE(s.replicas[0], s.replicas[1]) << "replicas on distinct workers";
  }
  for (std::size_t f = 0; f < files.size(); ++f) {
    EXPECT_EQ(rebuilt[static_cast<int>(f)], files[f].content) << "every byte exactly once";
  }
  // "one two three\n" is 14 bytes (the first '\n' at or after byte 10), then "four\nfive six
  // seven eight nine\n" ends at the '\n' after the 10th byte, then "ten" ends the file.
  EXPECT_EQ(job.text(job.splits[0]), "one two three\n");
  EXPECT_EQ(job.text(job.splits[1]), "four\nfive six seven eight nine\n");
  EXPECT_EQ(job.text(job.splits[2]), "ten");
  EXPECT_EQ(job.text(job.splits[3]), "short\n");
  EXPECT_EQ(job.text(job.splits[4]), "exactly 9\n");
  EXPECT_EQ(job.text(job.splits[5]), "x\n");
  EXPECT_EQ(job.splits.size(), 6u) << "an empty file has no split";
}

TEST(MapReduceJob, PlanJob_ModelledSplitsReplicasAndPartitions) {
  Config c = modelled_config();
  c.split_size = 64'000'000;
  c.input_size = 1'000'000'000;
  c.input_replicas = 3;
  c.reduce_tasks = 7;
  c.intermediate_ratio = 0.5;
  std::vector<NodeId> workers;
  for (NodeId w = 1; w <= 10; ++w) workers.push_back(w);
  Job a = plan_job(c, {}, workers, 0, std::vector<int>(11, 0), Rng(5).fork("placement"));
  Job b = plan_job(c, {}, workers, 0, std::vector<int>(11, 0), Rng(5).fork("placement"));
  ASSERT_EQ(a.map_tasks(), 16) << "ceil(1e9 / 64e6)";
  EXPECT_EQ(a.reduce_tasks, 7);
  std::uint64_t total = 0;
  std::map<NodeId, int> holders;
  for (const Split& s : a.splits) {
    total += s.bytes;
    ASSERT_EQ(s.replicas.size(), 3u);
    std::set<NodeId> distinct(s.replicas.begin(), s.replicas.end());
    EXPECT_EQ(distinct.size(), 3u);
    for (NodeId r : s.replicas) ++holders[r];
  }
  EXPECT_EQ(total, c.input_size);
  EXPECT_EQ(a.splits.back().bytes, 1'000'000'000u - 15u * 64'000'000u) << "the last one shorter";
  EXPECT_GT(holders.size(), 5u) << "replicas spread over the workers";
  for (std::size_t i = 0; i < a.splits.size(); ++i) {
    EXPECT_EQ(a.splits[i].replicas, b.splits[i].replicas) << "same placement seed, same placement";
  }
  EXPECT_EQ(a.modelled_partition_bytes(0), 64'000'000u / 2 / 7);

  // Replicas are capped by the number of workers.
  c.input_replicas = 5;
  Job small = plan_job(c, {}, {1, 2}, 0, {0, 0, 0}, Rng(5));
  EXPECT_EQ(small.splits[0].replicas.size(), 2u);
}

// ------------------------------------------------------------------------------------------
// Config, messages, output store

TEST(MapReduceJob, ParamSchema_CoversConfigAndDefaultsParse) {
  const auto schema = param_schema();
  ParamValues values;
  for (const ParamSpec& p : schema) {
    EXPECT_FALSE(p.help.empty()) << p.name;
    switch (p.type) {
      case ParamType::Duration: {
        auto d = units::parse_duration(p.default_yaml);
        ASSERT_TRUE(d.ok()) << p.name << ": " << p.default_yaml;
        values.set_duration(p.name, d.value());
        break;
      }
      case ParamType::Size: {
        auto s = units::parse_size(p.default_yaml);
        ASSERT_TRUE(s.ok()) << p.name << ": " << p.default_yaml;
        values.set(p.name, s.value());
        break;
      }
      case ParamType::Integer:
        values.set_integer(p.name, std::stoll(p.default_yaml));
        break;
      case ParamType::Real:
      case ParamType::Probability:
        values.set(p.name, std::stod(p.default_yaml));
        break;
      case ParamType::Bool:
        ASSERT_TRUE(p.default_yaml == "true" || p.default_yaml == "false") << p.name;
        values.set(p.name, p.default_yaml == "true");
        break;
      case ParamType::String:
        if (!p.choices.empty()) {
          EXPECT_NE(std::find(p.choices.begin(), p.choices.end(), p.default_yaml), p.choices.end())
              << p.name;
        }
        values.set(p.name, p.default_yaml);
        break;
      case ParamType::StringList:
        EXPECT_EQ(p.default_yaml, "[]");
        values.set(p.name, std::vector<std::string>{});
        break;
      case ParamType::DurationRange:
        values.set(p.name, DurationRange{0, 10 * kSecond});
        break;
      default:
        FAIL() << p.name << " has an unexpected type";
    }
  }
  EXPECT_EQ(schema.size(), 33u) << "one key per Config field";
  values.set("payload", std::string("modelled"));
  values.set("shuffle", std::string("aggregated"));
  const Config c = config_from(values);
  EXPECT_EQ(c.payload, Payload::Modelled);
  EXPECT_EQ(c.shuffle, Shuffle::Aggregated);
  EXPECT_EQ(c.split_size, 1'000'000u);
  EXPECT_EQ(Config{}.split_size, c.split_size) << "the in-code default is the schema's";
  EXPECT_EQ(c.shuffle_batch_interval, 5 * kSecond);
  EXPECT_EQ(c.bulk_message_size, 1'000'000u);
  EXPECT_EQ(c.worker_timeout, 3 * kSecond);
  EXPECT_EQ(c.reduce_tasks, 3);
  EXPECT_DOUBLE_EQ(c.backup_threshold, 0.9);
  EXPECT_TRUE(c.locality);
  EXPECT_EQ(c.crash_test_delay.hi, 10 * kSecond);
}

TEST(MapReduceJob, Messages_KindNamesAndWireSizes) {
  EXPECT_EQ(kind_names().size(), std::variant_size_v<Message>);
  EXPECT_STREQ(kind_name(Message{Register{}}), "register");
  EXPECT_STREQ(kind_name(Message{AssignReduce{}}), "assign_reduce");
  EXPECT_STREQ(kind_name(Message{FetchReply{}}), "fetch_reply");
  EXPECT_STREQ(kind_name(Message{ReplicaAck{}}), "replica_ack");
  EXPECT_EQ(kind_names().back(), "replica_ack");
  EXPECT_EQ(wire_size(Message{Ping{1}}), 64u);
  EXPECT_EQ(wire_size(Message{Fetch{0, 0, {{1, 2, 3}, {4, 5, 6}}}}), 64u + 32u);
  FetchReply reply;
  reply.found = {{1, 2, 3}};
  reply.missing = {{4, 5, 6}};
  reply.bytes = 1000;
  EXPECT_EQ(wire_size(Message{reply}), 64u + 32u + 1000u);
  EXPECT_EQ(wire_size(Message{SplitData{0, 0, 5000}}), 5064u);
  EXPECT_EQ(wire_size(Message{ReplicaWrite{0, 0, 7}}), 71u);
}

TEST(MapReduceOutputStore, FirstRenameWins_3_3) {
  OutputStore store;
  store.apply(WriteTemp{0, 1, 5, 10, "from attempt 1"}, 10);
  store.apply(WriteTemp{0, 2, 6, 12, "from attempt 2"}, 11);
  EXPECT_FALSE(store.committed(0));
  EXPECT_EQ(store.temporaries(), 2u);
  store.apply(RenameOutput{0, 2, 6}, 20);
  ASSERT_TRUE(store.committed(0));
  store.apply(RenameOutput{0, 1, 5}, 30);  // the slower execution also finishes
  const auto& f = store.finals().at(0);
  EXPECT_EQ(f.attempt, 2);
  EXPECT_EQ(f.worker, 6);
  EXPECT_EQ(f.content, "from attempt 2") << "exactly one execution's output";
  EXPECT_EQ(f.committed_at, 20);
  ASSERT_EQ(store.renames().size(), 2u);
  EXPECT_TRUE(store.renames()[0].won);
  EXPECT_FALSE(store.renames()[1].won);
  EXPECT_EQ(store.temporaries(), 1u) << "the loser's temporary file is left, never visible";
  EXPECT_DEATH(store.apply(RenameOutput{1, 1, 5}, 40), "without its temporary file");
}

// ------------------------------------------------------------------------------------------
// Coordinator: the task state machine (§3.2)

TEST(MapReduceCoordinator, Boot_PersistsEpochAndEmitsJobStarted) {
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  EXPECT_EQ(c.next_deadline(), 0) << "boot work happens at the first tick";
  COut out = tick(c, 0);
  ASSERT_EQ(out.persist.size(), 1u);
  EXPECT_EQ(std::get<BootEpoch>(out.persist[0]).epoch, 1u);
  auto started = events(out, "job_started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0]["maps"], 2);
  EXPECT_EQ(started[0]["reduces"], 1);
  EXPECT_EQ(started[0]["workers"], 2);
  EXPECT_TRUE(out.sends.empty()) << "workers register themselves at boot";
  EXPECT_EQ(c.next_deadline(), kSecond) << "the first ping round";
}

TEST(MapReduceCoordinator, TaskStateMachine_IdleInProgressCompleted_3_2) {
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  tick(c, 0);
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::Idle);
  COut out = deliver(c, 1, Register{0}, 0);
  ASSERT_EQ(events(out, "worker_registered").size(), 1u);
  EXPECT_EQ(sent<Ping>(out).size(), 1u) << "the answer to Register carries the epoch";
  auto maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps[0].second.task, 0) << "its local split first";
  EXPECT_EQ(maps[0].second.source, 1);
  EXPECT_EQ(maps[0].second.epoch, 1u);
  auto reduces = sent<AssignReduce>(out);
  ASSERT_EQ(reduces.size(), 1u) << "reduces start with the first map (§3.1, Figure 3)";
  EXPECT_TRUE(reduces[0].second.maps.empty());
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::InProgress);
  EXPECT_EQ(c.map_tasks()[1].state, TaskState::Idle);
  EXPECT_EQ(c.running_on(1, TaskKind::Map), 1);
  const int a0 = maps[0].second.attempt;
  const int r0 = reduces[0].second.attempt;

  out = deliver(c, 2, Register{0}, 0);
  const int a1 = attempt_of(out, TaskKind::Map, 1, 2);

  out = deliver(c, 1, MapDone{1, 0, a0, 1000, 1000}, kSecond);
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::Completed);
  EXPECT_EQ(c.map_tasks()[0].committed_attempt, a0);
  EXPECT_EQ(c.map_tasks()[0].output.worker, 1);
  EXPECT_EQ(outcomes(out), (std::vector<std::string>{"map 0 committed"}));
  auto ended = events(out, "task_ended");
  EXPECT_EQ(ended[0]["worker"], "w1");
  EXPECT_DOUBLE_EQ(ended[0]["start_s"].get<double>(), 0.0);
  auto locs = sent<MapLocations>(out);
  ASSERT_EQ(locs.size(), 1u) << "§3.1 step 4: the location goes to the running reducer";
  EXPECT_EQ(locs[0].first, 1);
  EXPECT_EQ(locs[0].second.attempt, r0);
  ASSERT_EQ(locs[0].second.maps.size(), 1u);
  EXPECT_EQ(locs[0].second.maps[0].map, 0);

  out = deliver(c, 2, MapDone{1, 1, a1, 1000, 1000}, 2 * kSecond);
  EXPECT_EQ(c.completed(TaskKind::Map), 2);
  out = deliver(c, 1, ReduceDone{1, 0, r0, 2000}, 3 * kSecond);
  EXPECT_TRUE(c.done());
  auto done = events(out, "job_done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_DOUBLE_EQ(done[0]["job_time_s"].get<double>(), 3.0);
  ASSERT_EQ(out.persist.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<JobOver>(out.persist[0]));
  EXPECT_EQ(c.next_deadline(), kNever) << "no pings once the job is over";
}

TEST(MapReduceCoordinator, Startup_NoAssignmentBeforeStartupOverhead_5_2) {
  Config cfg = modelled_config();
  cfg.startup = 5 * kSecond;
  auto job = hand_job(cfg, 1, {{1}}, 1);
  Coordinator c = make_coordinator(job);
  tick(c, 0);
  COut out = deliver(c, 1, Register{0}, 0);
  EXPECT_TRUE(sent<AssignMap>(out).empty());
  EXPECT_LE(c.next_deadline(), 5 * kSecond);
  out = deliver(c, 1, Pong{1, {}}, 4 * kSecond);
  EXPECT_TRUE(sent<AssignMap>(out).empty());
  out = tick(c, 5 * kSecond);
  EXPECT_EQ(sent<AssignMap>(out).size(), 1u);
  EXPECT_EQ(sent<AssignReduce>(out).size(), 1u);
}

TEST(MapReduceCoordinator, Ping_SkipsWorkersHeardRecentlyAndDeclaresSilentOnesDead_3_3) {
  auto job = hand_job(modelled_config(), 3, {{1}}, 1);
  Coordinator c = make_coordinator(job);
  boot_and_register(c, {1, 2}, 0);
  deliver(c, 2, Pong{1, {}}, 500 * kMillisecond);
  COut out = tick(c, kSecond);
  std::set<NodeId> pinged;
  for (const auto& [to, p] : sent<Ping>(out)) pinged.insert(to);
  EXPECT_EQ(pinged, (std::set<NodeId>{1, 3})) << "w2 was heard within the last interval";
  deliver(c, 2, Pong{1, {}}, 2 * kSecond);
  out = tick(c, 3 * kSecond);
  auto dead = events(out, "worker_dead");
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["worker"], "w1");
  EXPECT_FALSE(c.alive(1));
  EXPECT_TRUE(c.alive(2));
  EXPECT_FALSE(c.alive(3)) << "never heard from: not alive, and not declared dead either";
  // The lost map goes to w2 at once.
  EXPECT_EQ(outcomes(out), (std::vector<std::string>{"map 0 lost", "reduce 0 lost"}));
  EXPECT_EQ(attempt_of(out, TaskKind::Map, 0, 2), 1);
}

// ------------------------------------------------------------------------------------------
// Coordinator: worker failure (§3.3)

TEST(MapReduceCoordinator, WorkerDeath_ResetsInProgressAndCompletedMapsNotCompletedReduces_3_3) {
  auto job = hand_job(modelled_config(), 3, {{1}, {2}, {3}, {1}}, 2);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2, 3}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  const int m1 = attempt_of(out, TaskKind::Map, 1, 2);
  const int m2 = attempt_of(out, TaskKind::Map, 2, 3);
  const int r0 = attempt_of(out, TaskKind::Reduce, 0, 1);
  const int r1 = attempt_of(out, TaskKind::Reduce, 1, 2);
  out = deliver(c, 1, MapDone{1, 0, m0, 1000, 1000}, 1 * kMillisecond);
  const int m3 = attempt_of(out, TaskKind::Map, 3, 1);
  deliver(c, 2, MapDone{1, 1, m1, 1000, 1000}, 2 * kMillisecond);
  deliver(c, 3, MapDone{1, 2, m2, 1000, 1000}, 3 * kMillisecond);
  deliver(c, 1, ReduceDone{1, 0, r0, 10}, 10 * kMillisecond);
  ASSERT_EQ(c.reduce_tasks()[0].state, TaskState::Completed);
  ASSERT_EQ(c.map_tasks()[0].state, TaskState::Completed);
  ASSERT_EQ(c.map_tasks()[3].state, TaskState::InProgress);
  (void)m3;

  // w2 and w3 stay in touch; w1 goes silent after its ReduceDone.
  deliver(c, 2, Pong{1, {}}, 2 * kSecond);
  deliver(c, 3, Pong{1, {}}, 2 * kSecond);
  out = tick(c, 3 * kSecond + 10 * kMillisecond);
  EXPECT_EQ(events(out, "worker_dead").size(), 1u);
  EXPECT_EQ(outcomes(out), (std::vector<std::string>{"map 3 lost", "map 0 reset"}));
  EXPECT_EQ(c.reduce_tasks()[0].state, TaskState::Completed)
      << "a completed reduce's output is in the global file system";
  // Both maps run again at once, on the free workers.
  const int again0 = attempt_of(out, TaskKind::Map, 0, 2);
  attempt_of(out, TaskKind::Map, 3, 3);
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::InProgress);

  // The re-executed map's new location reaches the reducer still running (§3.3: "any reduce
  // worker that has not already read the data from worker A will read the data from worker B").
  out = deliver(c, 2, MapDone{1, 0, again0, 1000, 1000}, 3500 * kMillisecond);
  auto locs = sent<MapLocations>(out);
  ASSERT_EQ(locs.size(), 1u);
  EXPECT_EQ(locs[0].first, 2);
  EXPECT_EQ(locs[0].second.reduce, 1);
  EXPECT_EQ(locs[0].second.attempt, r1);
  EXPECT_EQ(locs[0].second.maps[0].worker, 2);
  EXPECT_EQ(locs[0].second.maps[0].attempt, again0);
}

TEST(MapReduceCoordinator, RegisterWithNewIncarnation_ResetsTheWorkersTasks_3_3) {
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  out = deliver(c, 1, MapDone{1, 0, m0, 1000, 1000}, kMillisecond);
  attempt_of(out, TaskKind::Map, 1, 1);  // w2 is not there: w1 reads split 1 remotely
  out = deliver(c, 1, Register{0}, 2 * kMillisecond);
  EXPECT_TRUE(events(out, "worker_dead").empty()) << "the same incarnation repeating itself";
  EXPECT_TRUE(outcomes(out).empty());

  // w1 restarted (incarnation 1) before the coordinator noticed: everything on it is gone.
  out = deliver(c, 1, Register{1}, 3 * kMillisecond);
  EXPECT_EQ(events(out, "worker_dead").size(), 1u);
  EXPECT_EQ(outcomes(out),
            (std::vector<std::string>{"map 1 lost", "reduce 0 lost", "map 0 reset"}));
  ASSERT_EQ(events(out, "worker_registered").size(), 1u);
  EXPECT_EQ(events(out, "worker_registered")[0]["incarnation"], 1);
  // ... and it is given work again at once.
  EXPECT_EQ(sent<AssignMap>(out).size(), 1u);
  EXPECT_EQ(sent<AssignReduce>(out).size(), 1u);
}

TEST(MapReduceCoordinator, MessagesFromAnOlderEpochAndUnknownAttemptsAreIgnored) {
  auto job = hand_job(modelled_config(), 1, {{1}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  out = deliver(c, 1, MapDone{0, 0, m0, 1000, 1000}, kMillisecond);
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::InProgress) << "epoch 0 is not ours";
  out = deliver(c, 1, MapDone{1, 0, m0 + 17, 1000, 1000}, kMillisecond);
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::InProgress) << "an attempt we never started";
  EXPECT_TRUE(out.events.empty());
}

TEST(MapReduceCoordinator, Resync_AfterASilenceTheWorkerGetsItsAssignmentsAgain) {
  // A worker cut off for longer than two ping intervals (but less than worker_timeout) may
  // have lost messages both ways: its running assignments are sent again, reducers with every
  // completed location.
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  const int r0 = attempt_of(out, TaskKind::Reduce, 0, 1);
  const int m1 = attempt_of(out, TaskKind::Map, 1, 2);
  deliver(c, 2, MapDone{1, 1, m1, 1000, 1000}, 10 * kMillisecond);  // its MapLocations is lost
  // w1 is cut off: it misses the pings of 1 s and 2 s; w2 answers the ping of 2 s only (its
  // MapDone at 10 ms spared it the first round).
  tick(c, kSecond);
  tick(c, 2 * kSecond);
  out = deliver(c, 2, Pong{1, {}}, 2 * kSecond + kMillisecond);
  EXPECT_TRUE(out.sends.empty()) << "w2 missed no ping";
  out = deliver(c, 1, Pong{1, {}}, 2500 * kMillisecond);
  auto maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps[0].second.attempt, m0);
  auto reduces = sent<AssignReduce>(out);
  ASSERT_EQ(reduces.size(), 1u);
  EXPECT_EQ(reduces[0].second.attempt, r0);
  ASSERT_EQ(reduces[0].second.maps.size(), 1u);
  EXPECT_EQ(reduces[0].second.maps[0].map, 1);
  EXPECT_TRUE(events(out, "task_assigned").empty()) << "the same attempts, not new ones";
}

TEST(MapReduceCoordinator, AggregatedShuffle_NoLocationsInMessages) {
  Config cfg = modelled_config();
  cfg.shuffle = Shuffle::Aggregated;
  auto job = hand_job(cfg, 2, {{1}}, 2);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  out = deliver(c, 1, MapDone{1, 0, m0, 1000, 1000}, kMillisecond);
  EXPECT_TRUE(sent<MapLocations>(out).empty()) << "the simulator moves the shuffle";
  out = deliver(c, 2, Register{0}, 2 * kMillisecond);
  auto reduces = sent<AssignReduce>(out);
  ASSERT_EQ(reduces.size(), 1u);
  EXPECT_TRUE(reduces[0].second.maps.empty());
}

// ------------------------------------------------------------------------------------------
// Coordinator: locality (§3.4)

TEST(MapReduceCoordinator, Locality_LocalThenRackThenRemote_3_4) {
  Config cfg = modelled_config();
  cfg.map_slots = 3;
  // w1, w2 in rack 0; w3, w4 in rack 1. Split 0 on w3 only, split 1 on w2, split 2 on w1.
  auto job = hand_job(cfg, 4, {{3}, {2}, {1}}, 1, {0, 0, 1, 1});
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1}, 0);
  auto assigned = events(out, "task_assigned");
  std::vector<std::string> order;
  for (const auto& e : assigned) {
    if (e["task"] == "map")
      order.push_back(std::to_string(e["id"].get<int>()) + " " + e["locality"].get<std::string>());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"2 local", "1 rack", "0 remote"}));
  auto maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].second.source, 1);
  EXPECT_EQ(maps[1].second.source, 2);
  EXPECT_EQ(maps[2].second.source, 3);

  // Without locality scheduling maps go in id order; the source is still named.
  cfg.locality = false;
  auto job2 = hand_job(cfg, 4, {{3}, {2}, {1}}, 1, {0, 0, 1, 1});
  Coordinator c2 = make_coordinator(job2);
  out = boot_and_register(c2, {1}, 0);
  maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0].second.task, 0);
  EXPECT_EQ(maps[1].second.task, 1);
  EXPECT_EQ(maps[2].second.task, 2);
}

TEST(MapReduceCoordinator, Locality_SourcePrefersAnAliveReplica) {
  // Split 0 on w2 (rack 0) and w3 (rack 1); w1 is in rack 0.
  auto job = hand_job(modelled_config(), 3, {{2, 3}}, 1, {0, 0, 1});
  Coordinator c = make_coordinator(job);
  tick(c, 0);
  COut out = deliver(c, 1, Register{0}, 0);
  auto maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps[0].second.source, 2) << "no replica holder alive: the first replica";
  Config cfg = modelled_config();
  cfg.map_slots = 1;
  auto job3 = hand_job(cfg, 3, {{2, 3}, {2, 3}}, 1, {0, 0, 1});
  Coordinator c3 = make_coordinator(job3);
  tick(c3, 0);
  out = deliver(c3, 3, Register{0}, 0);  // w3 takes split 0 (local)
  out = deliver(c3, 1, Register{0}, 0);  // w1 gets split 1: w2 (same rack) is dead, w3 alive
  maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps[0].second.source, 3);
  EXPECT_EQ(events(out, "task_assigned")[0]["locality"], "remote");
}

// ------------------------------------------------------------------------------------------
// Coordinator: backup tasks (§3.6)

TEST(MapReduceCoordinator, Backups_NotBeforeThresholdNorWhileIdleTasksRemain_3_6) {
  Config cfg = modelled_config();
  cfg.backup_tasks = true;
  cfg.backup_threshold = 0.9;
  auto job = hand_job(cfg, 2, {{1}, {1}, {1}, {1}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2}, 0);
  int a0 = attempt_of(out, TaskKind::Map, 0, 1);
  int a1 = attempt_of(out, TaskKind::Map, 1, 2);
  out = deliver(c, 1, MapDone{1, 0, a0, 1000, 1000}, kMillisecond);
  int a2 = attempt_of(out, TaskKind::Map, 2, 1);
  out = deliver(c, 2, MapDone{1, 1, a1, 1000, 1000}, kMillisecond);
  attempt_of(out, TaskKind::Map, 3, 2);
  out = deliver(c, 1, MapDone{1, 2, a2, 1000, 1000}, kMillisecond);
  // 3 of 4 complete, none idle, w1 free: 0.75 < 0.9, no backup yet.
  EXPECT_TRUE(sent<AssignMap>(out).empty());
  EXPECT_TRUE(events(out, "backup_phase").empty());
}

TEST(MapReduceCoordinator, Backups_OnePerStragglerAndFirstCompletionWins_3_6) {
  Config cfg = modelled_config();
  cfg.backup_tasks = true;
  cfg.backup_threshold = 0.5;
  auto job = hand_job(cfg, 2, {{1}, {1}, {1}, {1}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2}, 0);
  int a0 = attempt_of(out, TaskKind::Map, 0, 1);
  int a1 = attempt_of(out, TaskKind::Map, 1, 2);
  out = deliver(c, 1, MapDone{1, 0, a0, 1000, 1000}, kMillisecond);
  EXPECT_TRUE(events(out, "backup_phase").empty()) << "idle tasks remain";
  int a2 = attempt_of(out, TaskKind::Map, 2, 1);
  out = deliver(c, 2, MapDone{1, 1, a1, 1000, 1000}, 2 * kMillisecond);
  const int a3 = attempt_of(out, TaskKind::Map, 3, 2);
  EXPECT_TRUE(events(out, "backup_phase").empty()) << "no free slot for a backup";
  out = deliver(c, 1, MapDone{1, 2, a2, 1000, 1000}, 3 * kMillisecond);
  // 3 of 4 done, no idle map, w1 free: map 3 (running on w2) gets one backup on w1.
  auto maps = sent<AssignMap>(out);
  ASSERT_EQ(maps.size(), 1u);
  EXPECT_EQ(maps[0].first, 1);
  EXPECT_EQ(maps[0].second.task, 3);
  EXPECT_TRUE(maps[0].second.backup);
  EXPECT_NE(maps[0].second.attempt, a3);
  const int backup = maps[0].second.attempt;
  ASSERT_EQ(events(out, "backup_phase").size(), 1u);
  EXPECT_EQ(events(out, "backup_phase")[0]["task"], "map");
  EXPECT_EQ(c.map_tasks()[3].attempts.size(), 2u);

  // Nothing more: one backup per task, and the phase event only once. (The Pong lists the
  // original execution: a worker that does not list it would get its assignment again.)
  out = deliver(c, 2, Pong{1, {TaskRef{TaskKind::Map, 3, a3}}}, 4 * kMillisecond);
  EXPECT_TRUE(sent<AssignMap>(out).empty());

  // The backup finishes first: it wins, the original is aborted (§3.6).
  out = deliver(c, 1, MapDone{1, 3, backup, 1000, 1000}, 5 * kMillisecond);
  EXPECT_EQ(c.map_tasks()[3].committed_attempt, backup);
  EXPECT_EQ(outcomes(out), (std::vector<std::string>{"map 3 committed", "map 3 aborted"}));
  auto aborts = sent<AbortTask>(out);
  ASSERT_EQ(aborts.size(), 1u);
  EXPECT_EQ(aborts[0].first, 2);
  EXPECT_EQ(aborts[0].second.attempt, a3);
  EXPECT_EQ(c.running_on(2, TaskKind::Map), 0) << "the aborted attempt's slot is free";
  // The original's completion arrives anyway: a duplicate, ignored.
  out = deliver(c, 2, MapDone{1, 3, a3, 1000, 1000}, 6 * kMillisecond);
  EXPECT_EQ(outcomes(out), (std::vector<std::string>{"map 3 duplicate"}));
  EXPECT_EQ(c.map_tasks()[3].committed_attempt, backup);
  EXPECT_TRUE(sent<MapLocations>(out).empty());
}

TEST(MapReduceCoordinator, Backups_ReducePhaseToo_3_6) {
  Config cfg = modelled_config();
  cfg.backup_tasks = true;
  cfg.backup_threshold = 0.5;
  auto job = hand_job(cfg, 3, {{1}}, 2);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2, 3}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  const int r0 = attempt_of(out, TaskKind::Reduce, 0, 1);
  const int r1 = attempt_of(out, TaskKind::Reduce, 1, 2);
  deliver(c, 1, MapDone{1, 0, m0, 1000, 1000}, kMillisecond);
  out = deliver(c, 1, ReduceDone{1, 0, r0, 5}, 2 * kMillisecond);
  // Reduce 1 straggles on w2: w1 and w3 are free; the backup goes to the lowest id.
  auto reduces = sent<AssignReduce>(out);
  ASSERT_EQ(reduces.size(), 1u);
  EXPECT_EQ(reduces[0].first, 1);
  EXPECT_TRUE(reduces[0].second.backup);
  ASSERT_EQ(reduces[0].second.maps.size(), 1u) << "a backup reducer gets every map location";
  EXPECT_EQ(events(out, "backup_phase")[0]["task"], "reduce");
  out = deliver(c, 2, ReduceDone{1, 1, r1, 5}, 3 * kMillisecond);
  EXPECT_TRUE(c.done());
  EXPECT_EQ(sent<AbortTask>(out).size(), 1u);
}

// ------------------------------------------------------------------------------------------
// Coordinator: restarts (§3.3 "Master Failure")

TEST(MapReduceCoordinator, RestartWithoutCheckpoint_FailsTheJob_3_3) {
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  CoordinatorStorage storage;
  storage.epoch = 1;
  Coordinator c = make_coordinator(job, storage, 10 * kSecond);
  COut out = tick(c, 10 * kSecond);
  auto failed = events(out, "job_failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0]["reason"].get<std::string>().find("resubmitted"), std::string::npos);
  EXPECT_TRUE(events(out, "job_started").empty());
  EXPECT_TRUE(c.failed());
  for (const auto& op : out.persist) apply(storage, op);
  EXPECT_EQ(storage.epoch, 2u);
  EXPECT_TRUE(storage.job_over);
  EXPECT_EQ(c.next_deadline(), kNever);
  out = deliver(c, 1, Register{0}, 11 * kSecond);
  EXPECT_TRUE(out.sends.empty());

  // A third boot finds the job over and stays idle, without a second job_failed.
  Coordinator again = make_coordinator(job, storage, 20 * kSecond);
  out = tick(again, 20 * kSecond);
  EXPECT_TRUE(out.events.empty());
  EXPECT_EQ(again.next_deadline(), kNever);
}

TEST(MapReduceCoordinator, RestartWithCheckpoint_ResumesAndKeepsCompletedReduces_3_3) {
  Config cfg = modelled_config();
  cfg.coordinator_checkpoint = true;
  cfg.checkpoint_interval = kSecond;
  auto job = hand_job(cfg, 2, {{1}, {2}, {1}}, 2);

  // First incarnation: map 0 and reduce 0 complete, then a checkpoint.
  CoordinatorStorage storage;
  Coordinator first = make_coordinator(job, storage, 0);
  COut out = boot_and_register(first, {1, 2}, 0);
  for (const auto& op : out.persist) apply(storage, op);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  const int r0 = attempt_of(out, TaskKind::Reduce, 0, 1);
  deliver(first, 1, MapDone{1, 0, m0, 1000, 1000}, 100 * kMillisecond);
  deliver(first, 1, ReduceDone{1, 0, r0, 10}, 200 * kMillisecond);
  deliver(first, 2, Pong{1, {}}, 900 * kMillisecond);
  out = tick(first, kSecond);
  auto cps = events(out, "checkpoint");
  ASSERT_EQ(cps.size(), 1u);
  EXPECT_EQ(cps[0]["maps_completed"], 1);
  EXPECT_EQ(cps[0]["reduces_completed"], 1);
  for (const auto& op : out.persist) apply(storage, op);
  ASSERT_TRUE(storage.has_checkpoint);

  // The coordinator crashes and restarts at 5 s.
  Coordinator c = make_coordinator(job, storage, 5 * kSecond);
  out = tick(c, 5 * kSecond);
  EXPECT_TRUE(events(out, "job_failed").empty());
  EXPECT_TRUE(events(out, "job_started").empty());
  EXPECT_EQ(c.current_term(), 2u);
  EXPECT_EQ(sent<Ping>(out).size(), 2u) << "a restarted coordinator looks for its workers";
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::Completed);
  EXPECT_EQ(c.reduce_tasks()[0].state, TaskState::Completed);
  EXPECT_EQ(c.map_tasks()[1].state, TaskState::Idle) << "in progress at the crash: idle again";

  // Workers answer with the new epoch: work resumes; reduce 0 is not run again.
  out = deliver(c, 1, Pong{2, {}}, 5 * kSecond + kMillisecond);
  out.sends.clear();
  COut more = deliver(c, 2, Pong{2, {}}, 5 * kSecond + kMillisecond);
  std::set<int> reduces_assigned;
  int new_attempt = -1;
  for (const COut* o : {&out, &more}) {
    for (const auto& [to, m] : sent<AssignReduce>(*o)) reduces_assigned.insert(m.task);
    for (const auto& [to, m] : sent<AssignMap>(*o)) new_attempt = m.attempt;
  }
  EXPECT_EQ(reduces_assigned.count(0), 0u);
  EXPECT_GE(new_attempt, 100000) << "attempt numbers of the new incarnation do not collide";
  EXPECT_EQ(c.reduce_tasks()[1].state, TaskState::InProgress);
}

TEST(MapReduceCoordinator, RestartWithCheckpoint_SilentWorkerLosesItsRestoredMaps_3_3) {
  Config cfg = modelled_config();
  cfg.coordinator_checkpoint = true;
  auto job = hand_job(cfg, 2, {{1}, {2}}, 1);
  CoordinatorStorage storage;
  storage.epoch = 1;
  storage.has_checkpoint = true;
  storage.completed_maps = {MapLocation{0, 1, 3}};
  Coordinator c = make_coordinator(job, storage, 10 * kSecond);
  tick(c, 10 * kSecond);
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::Completed);
  deliver(c, 2, Pong{2, {}}, 10 * kSecond);
  deliver(c, 2, Pong{2, {}}, 12 * kSecond);
  COut out = tick(c, 13 * kSecond);
  EXPECT_EQ(outcomes(out), (std::vector<std::string>{"map 0 reset"}));
  EXPECT_EQ(c.map_tasks()[0].state, TaskState::Idle);
}

// ------------------------------------------------------------------------------------------
// Coordinator at paper scale (§3.5: O(M + R) scheduling decisions)

TEST(MapReduceCoordinator, Scale_15000Maps4000Reduces1800Workers_InitialWave) {
  Config cfg = modelled_config();
  cfg.split_size = 64'000'000;
  cfg.input_size = 15000ull * 64'000'000ull;
  cfg.reduce_tasks = 4000;
  cfg.backup_tasks = true;
  std::vector<NodeId> workers;
  std::vector<int> racks(1801, 0);
  for (NodeId w = 1; w <= 1800; ++w) {
    workers.push_back(w);
    racks[static_cast<std::size_t>(w)] = (w - 1) / 45;
  }
  auto job = std::make_shared<Job>(plan_job(cfg, {}, workers, 0, racks, Rng(3).fork("placement")));
  ASSERT_EQ(job->map_tasks(), 15000);
  const auto start = std::chrono::steady_clock::now();
  Coordinator c = make_coordinator(job);
  tick(c, 0);
  std::size_t maps = 0, reduces = 0, local = 0;
  for (NodeId w : workers) {
    COut out;
    c.step(Envelope<Message>{w, kCoord, Register{0}}, 0, out);
    maps += sent<AssignMap>(out).size();
    reduces += sent<AssignReduce>(out).size();
    for (const auto& e : events(out, "task_assigned"))
      local += e.contains("locality") && e["locality"] == "local";
  }
  c.check_invariants();
  EXPECT_EQ(maps, 1800u);
  EXPECT_EQ(reduces, 1800u) << "one reduce at a time per machine (§5.3): the first wave";
  EXPECT_GT(local, 1500u) << "most maps read a local replica (§3.4)";
  // Complete a wave of maps: each completion hands the worker its next map.
  std::size_t next = 0;
  for (int m = 0; m < 15000 && next < 1800; ++m) {
    const auto& t = c.map_tasks()[static_cast<std::size_t>(m)];
    if (t.state != TaskState::InProgress) continue;
    COut out;
    c.step(Envelope<Message>{t.attempts.back().worker, kCoord,
                             MapDone{1, m, t.attempts.back().attempt, 64'000'000, 64'000'000}},
           kSecond, out);
    next += sent<AssignMap>(out).size();
  }
  c.check_invariants();
  EXPECT_EQ(next, 1800u);
  EXPECT_EQ(c.completed(TaskKind::Map), 1800);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("wall_s", std::to_string(wall_s));
}

// ------------------------------------------------------------------------------------------
// Worker (§3.1 steps 3-6)

Worker make_worker(NodeId id, std::shared_ptr<Job> job, const App* app = nullptr,
                   std::uint32_t incarnation = 0, Time now = 0, std::uint64_t seed = 11) {
  return Worker(id, std::move(job), app, Rng(seed).fork("w" + std::to_string(id)), incarnation,
                now);
}

WOut wdeliver(Worker& w, NodeId from, Message m, Time now) {
  WOut out;
  w.step(Envelope<Message>{from, w.id(), std::move(m)}, now, out);
  w.check_invariants();
  return out;
}

WOut wtick(Worker& w, Time now) {
  WOut out;
  w.tick(now, out);
  w.check_invariants();
  return out;
}

WOut wdone(Worker& w, JobId job, Time now) {
  WOut out;
  w.job_done(job, now, out);
  w.check_invariants();
  return out;
}

TEST(MapReduceWorker, Register_AtBootAndUntilTheCoordinatorAnswers) {
  auto job = hand_job(modelled_config(), 2, {{1}}, 1);
  Worker w = make_worker(1, job, nullptr, 4, 2 * kSecond);
  EXPECT_EQ(w.next_deadline(), 2 * kSecond);
  WOut out = wtick(w, 2 * kSecond);
  auto regs = sent<Register>(out);
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].first, kCoord);
  EXPECT_EQ(regs[0].second.incarnation, 4u);
  out = wtick(w, 3 * kSecond);
  EXPECT_EQ(sent<Register>(out).size(), 1u) << "again every ping_interval";
  out = wdeliver(w, kCoord, Ping{1}, 3500 * kMillisecond);
  ASSERT_EQ(sent<Pong>(out).size(), 1u);
  EXPECT_EQ(sent<Pong>(out)[0].second.epoch, 1u);
  EXPECT_EQ(w.next_deadline(), kNever);
}

TEST(MapReduceWorker, MapWithLocalSplit_ReadComputeWriteReport_3_1) {
  Config cfg = modelled_config();
  cfg.intermediate_ratio = 0.5;
  auto job = hand_job(cfg, 2, {{1}}, 3);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignMap{1, 0, 7, 1, false}, kSecond);
  ASSERT_EQ(out.disk.size(), 1u);
  EXPECT_FALSE(out.disk[0].write);
  EXPECT_EQ(out.disk[0].bytes, 1000u);
  out = wdone(w, out.disk[0].id, 2 * kSecond);
  auto transfers = events(out, "transfer");
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0]["what"], "input");
  EXPECT_EQ(transfers[0]["local"], true);
  EXPECT_DOUBLE_EQ(transfers[0]["start_s"].get<double>(), 1.0);
  ASSERT_EQ(out.compute.size(), 1u);
  EXPECT_DOUBLE_EQ(out.compute[0].flops, 10'000);
  out = wdone(w, out.compute[0].id, 3 * kSecond);
  ASSERT_EQ(out.disk.size(), 1u);
  EXPECT_TRUE(out.disk[0].write);
  EXPECT_EQ(out.disk[0].bytes, 3 * job->modelled_partition_bytes(0));
  EXPECT_EQ(job->modelled_partition_bytes(0), 166u);
  out = wdone(w, out.disk[0].id, 4 * kSecond);
  auto done = sent<MapDone>(out);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].second.task, 0);
  EXPECT_EQ(done[0].second.attempt, 7);
  EXPECT_EQ(done[0].second.epoch, 1u);
  EXPECT_EQ(done[0].second.input_bytes, 1000u);
  EXPECT_EQ(done[0].second.intermediate_bytes, 498u);
  EXPECT_TRUE(w.holds_output(0, 7));
  EXPECT_EQ(w.running_maps(), 0u);
}

TEST(MapReduceWorker, MapWithRemoteSplit_RetriesTheNextReplica_3_4) {
  auto job = hand_job(modelled_config(), 3, {{2, 3}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignMap{1, 0, 0, 2, false}, 0);
  auto reads = sent<ReadSplit>(out);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].first, 2);
  EXPECT_EQ(w.next_deadline(), 2 * kSecond);
  out = wtick(w, 2 * kSecond);
  reads = sent<ReadSplit>(out);
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].first, 3) << "no answer from w2: the next replica";
  out = wdeliver(w, 3, SplitData{0, 0, 1000}, 2500 * kMillisecond);
  auto transfers = events(out, "transfer");
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0]["local"], false);
  EXPECT_DOUBLE_EQ(transfers[0]["start_s"].get<double>(), 2.0);
  EXPECT_EQ(out.compute.size(), 1u);
  // A late answer from w2 changes nothing.
  out = wdeliver(w, 2, SplitData{0, 0, 1000}, 2600 * kMillisecond);
  EXPECT_TRUE(out.empty());
}

TEST(MapReduceWorker, ServesSplitsAndFetches_FoundAndMissing_3_1) {
  auto job = hand_job(modelled_config(), 3, {{2}, {2}}, 2);
  Worker w = make_worker(2, job);
  // It serves a split read from its disk.
  WOut out = wdeliver(w, 1, ReadSplit{1, 4}, 0);
  ASSERT_EQ(out.disk.size(), 1u);
  out = wdone(w, out.disk[0].id, kMillisecond);
  auto data = sent<SplitData>(out);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].first, 1);
  EXPECT_EQ(data[0].second.bytes, 1000u);
  EXPECT_EQ(out.sends[0].size_bytes, 1064u);

  // It runs map 0 (attempt 5), then serves reducer 1's fetch of maps 0 and 1.
  out = wdeliver(w, kCoord, AssignMap{1, 0, 5, 2, false}, 0);
  out = wdone(w, out.disk[0].id, 0);
  out = wdone(w, out.compute[0].id, 0);
  out = wdone(w, out.disk[0].id, 0);
  ASSERT_TRUE(w.holds_output(0, 5));
  out = wdeliver(w, 3, Fetch{1, 9, {{0, 2, 5}, {1, 2, 0}}}, kSecond);
  ASSERT_EQ(out.disk.size(), 1u);
  EXPECT_EQ(out.disk[0].bytes, job->modelled_partition_bytes(0));
  EXPECT_TRUE(out.sends.empty()) << "the reply leaves after the disk read";
  out = wdone(w, out.disk[0].id, 2 * kSecond);
  auto replies = sent<FetchReply>(out);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].first, 3);
  ASSERT_EQ(replies[0].second.found.size(), 1u);
  EXPECT_EQ(replies[0].second.found[0].map, 0);
  ASSERT_EQ(replies[0].second.missing.size(), 1u);
  EXPECT_EQ(replies[0].second.missing[0].map, 1);
  EXPECT_EQ(replies[0].second.bytes, job->modelled_partition_bytes(0));
  // Nothing held: the answer is immediate.
  out = wdeliver(w, 3, Fetch{1, 9, {{1, 2, 0}}}, 3 * kSecond);
  EXPECT_TRUE(out.disk.empty());
  ASSERT_EQ(sent<FetchReply>(out).size(), 1u);
  EXPECT_TRUE(sent<FetchReply>(out)[0].second.found.empty());
}

TEST(MapReduceWorker, ReduceFetchesBatchedPerSourceAndWaitsForMissingOutputs_3_1) {
  auto job = hand_job(modelled_config(), 3, {{2}, {2}, {3}, {2}}, 1);
  Worker w = make_worker(1, job);
  WOut out =
      wdeliver(w, kCoord, AssignReduce{1, 0, 3, false, {{0, 2, 0}, {1, 2, 0}, {2, 3, 0}}, {}}, 0);
  auto fetches = sent<Fetch>(out);
  ASSERT_EQ(fetches.size(), 2u) << "one fetch per source worker";
  EXPECT_EQ(fetches[0].first, 2);
  EXPECT_EQ(fetches[0].second.maps.size(), 2u);
  EXPECT_EQ(fetches[1].first, 3);
  EXPECT_EQ(fetches[1].second.maps.size(), 1u);
  const std::uint64_t part = job->modelled_partition_bytes(0);

  // w2 lost map 1 (it restarted): found 0, missing 1. Map 1 waits for a new location.
  FetchReply reply{0, 3, {{0, 2, 0}}, {{1, 2, 0}}, part, {}};
  out = wdeliver(w, 2, reply, 100 * kMillisecond);
  EXPECT_TRUE(sent<Fetch>(out).empty());
  auto transfers = events(out, "transfer");
  ASSERT_EQ(transfers.size(), 1u);
  EXPECT_EQ(transfers[0]["what"], "shuffle");
  EXPECT_EQ(transfers[0]["bytes"], part);
  EXPECT_DOUBLE_EQ(transfers[0]["start_s"].get<double>(), 0.0);

  // Map 1 was re-run on w3, map 3 completes on w2.
  out = wdeliver(w, kCoord, MapLocations{1, 0, 3, {{1, 3, 1}}}, 200 * kMillisecond);
  EXPECT_TRUE(sent<Fetch>(out).empty()) << "a fetch to w3 is in flight: the next one waits";
  out = wdeliver(w, kCoord, MapLocations{1, 0, 3, {{3, 2, 0}}}, 200 * kMillisecond);
  fetches = sent<Fetch>(out);
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].first, 2);
  EXPECT_EQ(fetches[0].second.maps[0].map, 3);
  out = wdeliver(w, 3, FetchReply{0, 3, {{2, 3, 0}}, {}, part, {}}, 300 * kMillisecond);
  fetches = sent<Fetch>(out);
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].first, 3);
  EXPECT_EQ(fetches[0].second.maps[0].map, 1);
  EXPECT_EQ(fetches[0].second.maps[0].attempt, 1);
  out = wdeliver(w, 2, FetchReply{0, 3, {{3, 2, 0}}, {}, part, {}}, 400 * kMillisecond);
  EXPECT_TRUE(out.compute.empty());
  // The fetch of map 1 from w3 times out and is sent again.
  out = wtick(w, 300 * kMillisecond + 2 * kSecond);
  ASSERT_EQ(sent<Fetch>(out).size(), 1u);
  out = wdeliver(w, 3, FetchReply{0, 3, {{1, 3, 1}}, {}, part, {}}, 2500 * kMillisecond);
  ASSERT_EQ(out.compute.size(), 1u) << "every map output is in: sort and reduce";
  EXPECT_DOUBLE_EQ(out.compute[0].flops, 20.0 * 4 * static_cast<double>(part));
  out = wdone(w, out.compute[0].id, 3 * kSecond);
  ASSERT_EQ(out.persist.size(), 1u);
  const auto& temp = std::get<WriteTemp>(out.persist[0]);
  EXPECT_EQ(temp.bytes, 4 * part);
  ASSERT_EQ(out.disk.size(), 1u);
  EXPECT_TRUE(sent<ReduceDone>(out).empty()) << "not before the output is written";
  out = wdone(w, out.disk[0].id, 4 * kSecond);
  ASSERT_EQ(out.persist.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<RenameOutput>(out.persist[0]));
  auto done = sent<ReduceDone>(out);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].second.output_bytes, 4 * part);
  EXPECT_EQ(events(out, "transfer")[0]["what"], "output");
  EXPECT_EQ(w.running_reduces(), 0u);
}

TEST(MapReduceWorker, ReduceOutputReplicas_AckedOrReplaced_5_3) {
  Config cfg = modelled_config();
  cfg.output_replicas = 2;
  auto job = hand_job(cfg, 4, {{2}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignReduce{1, 0, 0, false, {{0, 2, 0}}, {2}}, 0);
  const std::uint64_t part = job->modelled_partition_bytes(0);
  out = wdeliver(w, 2, FetchReply{0, 0, {{0, 2, 0}}, {}, part, {}}, kMillisecond);
  out = wdone(w, out.compute[0].id, 10 * kMillisecond);
  auto writes = sent<ReplicaWrite>(out);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].first, 2);
  EXPECT_EQ(writes[0].second.bytes, part);
  const JobId local = out.disk[0].id;
  out = wdone(w, local, 20 * kMillisecond);
  EXPECT_TRUE(sent<ReduceDone>(out).empty()) << "waits for the replica";
  out = wtick(w, 10 * kMillisecond + 2 * kSecond);
  writes = sent<ReplicaWrite>(out);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].first, 3) << "w2 did not answer: the next worker not used yet";
  out = wdeliver(w, 3, ReplicaAck{0, 0}, 2100 * kMillisecond);
  ASSERT_EQ(sent<ReduceDone>(out).size(), 1u);
  EXPECT_EQ(events(out, "transfer")[0]["bytes"], 2 * part);

  // The replica side: a disk write, then the ack.
  Worker r = make_worker(3, job);
  out = wdeliver(r, 1, ReplicaWrite{0, 0, 500}, 0);
  ASSERT_EQ(out.disk.size(), 1u);
  EXPECT_TRUE(out.disk[0].write);
  out = wdone(r, out.disk[0].id, kMillisecond);
  ASSERT_EQ(sent<ReplicaAck>(out).size(), 1u);
}

TEST(MapReduceWorker, MapLocationsBeforeItsAssignReduceAreKept) {
  auto job = hand_job(modelled_config(), 3, {{2}, {3}}, 1);
  Worker w = make_worker(1, job);
  // The small MapLocations overtook the large AssignReduce.
  WOut out = wdeliver(w, kCoord, MapLocations{1, 0, 4, {{1, 3, 0}}}, 0);
  EXPECT_TRUE(out.sends.empty());
  out = wdeliver(w, kCoord, AssignReduce{1, 0, 4, false, {{0, 2, 0}}, {}}, kMillisecond);
  EXPECT_EQ(sent<Fetch>(out).size(), 2u);
}

TEST(MapReduceWorker, NewerEpochForgetsTasksOlderEpochIgnored_3_3) {
  auto job = hand_job(modelled_config(), 2, {{1}}, 1);
  Worker w = make_worker(1, job);
  wdeliver(w, kCoord, AssignMap{1, 0, 0, 1, false}, 0);
  EXPECT_EQ(w.running_maps(), 1u);
  WOut out = wdeliver(w, kCoord, Ping{2}, kSecond);
  EXPECT_EQ(w.running_maps(), 0u) << "the new coordinator knows nothing of the old tasks";
  EXPECT_EQ(sent<Pong>(out)[0].second.epoch, 2u);
  out = wdeliver(w, kCoord, AssignMap{1, 0, 1, 1, false}, kSecond);
  EXPECT_TRUE(out.empty()) << "an older coordinator's message";
  EXPECT_EQ(w.current_term(), 2u);
}

TEST(MapReduceWorker, AbortTask_DropsTheAttemptAndIgnoresItsJobs_3_6) {
  auto job = hand_job(modelled_config(), 2, {{1}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignMap{1, 0, 0, 1, false}, 0);
  const JobId read = out.disk[0].id;
  wdeliver(w, kCoord, AbortTask{1, TaskKind::Map, 0, 0}, kMillisecond);
  EXPECT_EQ(w.running_maps(), 0u);
  out = wdone(w, read, 2 * kMillisecond);
  EXPECT_TRUE(out.empty());
}

TEST(MapReduceWorker, RepeatedAssignments_ReReportCompletedWorkAndMergeLocations) {
  auto job = hand_job(modelled_config(), 3, {{1}, {3}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignMap{1, 0, 2, 1, false}, 0);
  out = wdone(w, out.disk[0].id, 0);
  out = wdone(w, out.compute[0].id, 0);
  out = wdone(w, out.disk[0].id, 0);
  ASSERT_EQ(sent<MapDone>(out).size(), 1u);
  out = wdeliver(w, kCoord, AssignMap{1, 0, 2, 1, false}, kSecond);
  ASSERT_EQ(sent<MapDone>(out).size(), 1u) << "the MapDone may have been lost: sent again";
  EXPECT_TRUE(out.disk.empty());

  out = wdeliver(w, kCoord, AssignReduce{1, 0, 5, false, {{1, 3, 0}}, {}}, kSecond);
  ASSERT_EQ(sent<Fetch>(out).size(), 1u);
  out = wdeliver(w, kCoord, AssignReduce{1, 0, 5, false, {{0, 1, 2}, {1, 3, 0}}, {}}, 2 * kSecond);
  auto fetches = sent<Fetch>(out);
  ASSERT_EQ(fetches.size(), 0u) << "map 0 is ours: served from the local disk, no message";
  ASSERT_EQ(out.disk.size(), 1u);
  out = wdone(w, out.disk[0].id, 2 * kSecond);
  const std::uint64_t part = job->modelled_partition_bytes(0);
  out = wdeliver(w, 3, FetchReply{0, 5, {{1, 3, 0}}, {}, part, {}}, 2 * kSecond);
  out = wdone(w, out.compute[0].id, 3 * kSecond);
  out = wdone(w, out.disk[0].id, 3 * kSecond);
  ASSERT_EQ(sent<ReduceDone>(out).size(), 1u);
  out = wdeliver(w, kCoord, AssignReduce{1, 0, 5, false, {}, {}}, 4 * kSecond);
  auto again = sent<ReduceDone>(out);
  ASSERT_EQ(again.size(), 1u) << "committed: the ReduceDone is sent again";
  EXPECT_EQ(again[0].second.output_bytes, 2 * part);
  EXPECT_TRUE(out.persist.empty()) << "and nothing is written twice";
}

TEST(MapReduceWorker, AggregatedShuffle_NoFetchesWaitsForShuffleDone) {
  Config cfg = modelled_config();
  cfg.shuffle = Shuffle::Aggregated;
  auto job = hand_job(cfg, 3, {{2}, {3}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignReduce{1, 0, 0, false, {}, {}}, 0);
  EXPECT_TRUE(out.sends.empty());
  out = wdeliver(w, 1, ShuffleDone{0, 0, 777}, 5 * kSecond);
  ASSERT_EQ(out.compute.size(), 1u);
  EXPECT_DOUBLE_EQ(out.compute[0].flops, 20.0 * 777);
}

TEST(MapReduceWorker, CrashTest_CrashDrawMakesTheWorkerInert) {
  Config cfg = modelled_config();
  cfg.crash_test_crash_p = 1.0;
  auto job = hand_job(cfg, 2, {{1}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignMap{1, 0, 0, 1, false}, 0);
  out = wdone(w, out.disk[0].id, kMillisecond);
  auto crash = events(out, "crash_self");
  ASSERT_EQ(crash.size(), 1u);
  EXPECT_EQ(crash[0]["task"], "map");
  EXPECT_TRUE(w.crashed_itself());
  EXPECT_TRUE(out.compute.empty());
  EXPECT_EQ(w.next_deadline(), kNever);
  EXPECT_TRUE(wdeliver(w, kCoord, Ping{1}, 2 * kMillisecond).empty());
  EXPECT_TRUE(wtick(w, 10 * kSecond).empty());
}

TEST(MapReduceWorker, CrashTest_DelayDrawPostponesTheCall) {
  Config cfg = modelled_config();
  cfg.crash_test_delay_p = 1.0;
  cfg.crash_test_delay = {2 * kSecond, 2 * kSecond};
  auto job = hand_job(cfg, 2, {{1}}, 1);
  Worker w = make_worker(1, job);
  WOut out = wdeliver(w, kCoord, AssignMap{1, 0, 0, 1, false}, 0);
  out = wdone(w, out.disk[0].id, kSecond);
  auto delayed = events(out, "call_delayed");
  ASSERT_EQ(delayed.size(), 1u);
  EXPECT_DOUBLE_EQ(delayed[0]["delay_s"].get<double>(), 2.0);
  EXPECT_TRUE(out.compute.empty());
  EXPECT_EQ(w.next_deadline(), 3 * kSecond);
  out = wtick(w, 3 * kSecond);
  EXPECT_EQ(out.compute.size(), 1u);
}

// ------------------------------------------------------------------------------------------
// Whole jobs in the in-memory harness

std::vector<InputFile> sample_files() {
  std::vector<InputFile> files;
  const char* words[] = {"the", "quick", "brown",  "fox",    "jumps",  "over",  "lazy",
                         "dog", "map",   "reduce", "worker", "master", "split", "shuffle"};
  for (int f = 0; f < 3; ++f) {
    std::string text;
    Rng rng(static_cast<std::uint64_t>(f + 1));
    for (int line = 0; line < 200; ++line) {
      const int n = static_cast<int>(rng.between(1, 9));
      for (int i = 0; i < n; ++i) {
        text += words[rng.below(14)];
        text += i + 1 < n ? " " : "\n";
      }
    }
    files.push_back({"file" + std::to_string(f) + ".txt", text});
  }
  return files;
}

testing::MrOptions real_options() {
  testing::MrOptions o;
  o.config = modelled_config();
  o.config.payload = Payload::Real;
  o.config.app = "wordcount";
  o.config.split_size = 1500;
  o.config.reduce_tasks = 3;
  o.config.input_replicas = 2;
  o.files = sample_files();
  o.workers = 4;
  return o;
}

void expect_matches_sequential(testing::MrCluster& cluster) {
  const auto expected =
      run_sequential(*cluster.app(), cluster.job(), cluster.job().config.combiner);
  ASSERT_EQ(cluster.store().finals().size(), expected.size());
  for (std::size_t r = 0; r < expected.size(); ++r) {
    EXPECT_EQ(cluster.store().finals().at(static_cast<int>(r)).content, expected[r])
        << "reduce " << r;
  }
}

TEST(MapReduceCluster, SmallModelledJob_RunsToJobDone) {
  testing::MrOptions o;
  o.config = modelled_config();
  o.config.input_size = 10'000;
  o.config.reduce_tasks = 3;
  o.config.input_replicas = 2;
  o.workers = 3;
  testing::MrCluster cluster(o);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 60 * kSecond));
  EXPECT_EQ(cluster.events("job_started").size(), 1u);
  EXPECT_EQ(cluster.events("job_done").size(), 1u);
  EXPECT_EQ(cluster.store().finals().size(), 3u);
  std::uint64_t output = 0;
  for (const auto& [r, f] : cluster.store().finals()) output += f.bytes;
  // Every map's R partitions are fetched once: output = input (ratios 1), up to rounding.
  EXPECT_EQ(output, 10u * 3u * cluster.job().modelled_partition_bytes(0));
  std::size_t inputs = 0;
  for (const auto& e : cluster.events("transfer")) inputs += e.event.fields["what"] == "input";
  EXPECT_EQ(inputs, 10u);
}

TEST(MapReduceCluster, RealWordCount_OutputEqualsSequentialRun) {
  testing::MrCluster cluster(real_options());
  ASSERT_GT(cluster.job().map_tasks(), 5);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 60 * kSecond));
  expect_matches_sequential(cluster);
  EXPECT_EQ(cluster.store().temporaries(), 0u);
}

TEST(MapReduceCluster, WorkerCrashMidJob_MapsReExecutedOutputStillCorrect_3_3) {
  testing::MrOptions o = real_options();
  o.flops_per_s = 1e5;  // slow enough that the crash lands mid-job
  testing::MrCluster cluster(o);
  cluster.run_until(400 * kMillisecond);
  ASSERT_FALSE(cluster.job_done());
  cluster.crash(2);
  cluster.run_until(cluster.now() + 5 * kSecond);
  cluster.restart(2);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 300 * kSecond));
  expect_matches_sequential(cluster);
  EXPECT_EQ(cluster.events("worker_dead").size(), 1u);
  bool lost_or_reset = false;
  for (const auto& e : cluster.events("task_ended")) {
    const auto outcome = e.event.fields["outcome"].get<std::string>();
    lost_or_reset |= outcome == "lost" || outcome == "reset";
  }
  EXPECT_TRUE(lost_or_reset);
}

TEST(MapReduceCluster, ShortPartition_LostMessagesAreRecovered) {
  testing::MrOptions o = real_options();
  o.flops_per_s = 1e5;
  o.config.worker_timeout = 5 * kSecond;
  testing::MrCluster cluster(o);
  std::uint64_t dropped = 0;
  const Time from = 300 * kMillisecond, to = from + 2500 * kMillisecond;
  cluster.set_filter([&](const testing::MrCluster::Env& env) {
    const bool cut = (env.from == 2 || env.to == 2) && env.from != env.to &&
                     cluster.now() >= from && cluster.now() < to;
    dropped += cut;
    return !cut;
  });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 300 * kSecond));
  EXPECT_GT(dropped, 0u);
  EXPECT_TRUE(cluster.events("worker_dead").empty()) << "shorter than worker_timeout";
  expect_matches_sequential(cluster);
}

TEST(MapReduceCluster, CrashTest_JobCompletesWithCorrectOutput) {
  // The 6.824 crash test: workers crash in the middle of map and reduce calls and restart.
  testing::MrOptions o = real_options();
  o.config.crash_test_crash_p = 0.15;
  o.config.crash_test_delay_p = 0.2;
  o.config.crash_test_delay = {0, 2 * kSecond};
  o.config.crash_test_restart = kSecond;
  o.seed = 5;
  testing::MrCluster cluster(o);
  ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 600 * kSecond));
  expect_matches_sequential(cluster);
  EXPECT_FALSE(cluster.events("crash_self").empty());
}

TEST(MapReduceCluster, Straggler_BackupTasksShortenTheJob_3_6) {
  auto run = [](bool backups) {
    testing::MrOptions o;
    o.config = modelled_config();
    o.config.input_size = 40'000;
    o.config.reduce_tasks = 4;
    o.config.backup_tasks = backups;
    o.config.backup_threshold = 0.75;
    o.config.map_flops_per_byte = 1000;
    o.workers = 4;
    o.flops_per_s = 1e6;
    testing::MrCluster cluster(o);
    cluster.set_slowdown(4, 30.0);  // a machine with a bad disk and a slow CPU
    EXPECT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 3600 * kSecond));
    return cluster.events("job_done").at(0).event.fields["job_time_s"].get<double>();
  };
  const double with = run(true);
  const double without = run(false);
  RecordProperty("job_time_s_with_backups", std::to_string(with));
  RecordProperty("job_time_s_without_backups", std::to_string(without));
  EXPECT_LT(with * 2, without) << "with backups " << with << " s, without " << without << " s";
}

TEST(MapReduceCluster, CoordinatorCrash_WithCheckpointResumes_WithoutFails_3_3) {
  for (bool checkpoint : {false, true}) {
    testing::MrOptions o = real_options();
    o.flops_per_s = 1e5;
    o.config.coordinator_checkpoint = checkpoint;
    o.config.checkpoint_interval = 200 * kMillisecond;
    testing::MrCluster cluster(o);
    cluster.run_until(700 * kMillisecond);
    ASSERT_FALSE(cluster.job_done());
    cluster.crash(0);
    cluster.run_until(cluster.now() + 2 * kSecond);
    cluster.restart(0);
    if (!checkpoint) {
      cluster.run_until(cluster.now() + kSecond);
      EXPECT_EQ(cluster.events("job_failed").size(), 1u);
      EXPECT_TRUE(cluster.coordinator()->failed());
      continue;
    }
    ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 300 * kSecond));
    EXPECT_TRUE(cluster.events("job_failed").empty());
    expect_matches_sequential(cluster);
  }
}

// A completion report lost between two pings (a short partition the pings did not notice):
// the next Pong does not list the execution, so the coordinator sends the assignment again and
// the worker reports it again (swarm seed 33 with partitions stalled without this).
TEST(MapReduceCoordinator, PongWithoutARunningExecutionGetsItsAssignmentAgain) {
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  boot_and_register(c, {1, 2});
  // Whatever runs on worker 1 now: a Pong that does not list it means it was lost.
  std::vector<TaskRef> running;
  for (const auto& t : c.map_tasks())
    for (const auto& a : t.attempts)
      if (a.running && a.worker == 1) running.push_back(TaskRef{TaskKind::Map, t.id, a.attempt});
  for (const auto& t : c.reduce_tasks())
    for (const auto& a : t.attempts)
      if (a.running && a.worker == 1) running.push_back(TaskRef{TaskKind::Reduce, t.id, a.attempt});
  ASSERT_FALSE(running.empty());
  COut out = deliver(c, 1, Pong{1, running}, kMillisecond);
  EXPECT_TRUE(sent<AssignMap>(out).empty());
  EXPECT_TRUE(sent<AssignReduce>(out).empty());
  out = deliver(c, 1, Pong{1, {}}, 2 * kMillisecond);
  EXPECT_EQ(sent<AssignMap>(out).size() + sent<AssignReduce>(out).size(), running.size());
}

/// What a worker runs, as the coordinator believes: the running list of its Pong, every reduce
/// reporting `locations_through`.
std::vector<TaskRef> running_refs(const Coordinator& c, NodeId worker,
                                  std::uint64_t locations_through) {
  std::vector<TaskRef> running;
  for (const auto& t : c.map_tasks())
    for (const auto& a : t.attempts)
      if (a.running && a.worker == worker)
        running.push_back(TaskRef{TaskKind::Map, t.id, a.attempt, kNoLocationsNeeded});
  for (const auto& t : c.reduce_tasks())
    for (const auto& a : t.attempts)
      if (a.running && a.worker == worker)
        running.push_back(TaskRef{TaskKind::Reduce, t.id, a.attempt, locations_through});
  return running;
}

TEST(MapReduceCoordinator, PongOfAReduceShortOfLocationsGetsTheMissingOnesAgain_3_1) {
  // §3.1 step 4: the master forwards map locations to the reduce workers. A forwarding lost
  // in a partition between two answered pings left the reducer waiting forever: its Pong now
  // says how far it has every numbered location, and the coordinator sends the rest.
  auto job = hand_job(modelled_config(), 2, {{1}, {2}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2});
  ASSERT_GE(attempt_of(out, TaskKind::Reduce, 0, 1), 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  const int m1 = attempt_of(out, TaskKind::Map, 1, 2);
  out = deliver(c, 1, MapDone{1, 0, m0, 1000, 1000}, 10 * kMillisecond);
  auto forwarded = sent<MapLocations>(out);
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].second.after, 0u);
  EXPECT_EQ(forwarded[0].second.through, 1u);  // lost on the way to w1
  out = deliver(c, 2, MapDone{1, 1, m1, 1000, 1000}, 20 * kMillisecond);
  forwarded = sent<MapLocations>(out);
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(forwarded[0].second.through, 2u);  // arrives: w1 has a gap at 1

  out = deliver(c, 1, Pong{1, running_refs(c, 1, 0)}, 30 * kMillisecond);
  EXPECT_TRUE(sent<AssignReduce>(out).empty()) << "the reduce runs: only locations are missing";
  auto again = sent<MapLocations>(out);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].first, 1);
  EXPECT_EQ(again[0].second.after, 0u);
  EXPECT_EQ(again[0].second.through, 2u);
  ASSERT_EQ(again[0].second.maps.size(), 2u);
  EXPECT_EQ(again[0].second.maps[0].map, 0);
  EXPECT_EQ(again[0].second.maps[0].worker, 1);
  EXPECT_EQ(again[0].second.maps[1].map, 1);
  EXPECT_EQ(out.sends[0].size_bytes, 64u + 2 * 16u) << "16 bytes per location";
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 2)}, 40 * kMillisecond);
  EXPECT_TRUE(out.sends.empty()) << "a reducer with every location gets nothing";

  // w2 restarted: map 1's output (location 2) is gone. A reducer that missed location 2 is
  // told there is nothing to fetch there (an empty catch-up), never sent the dead location.
  deliver(c, 2, Register{1}, 50 * kMillisecond);
  ASSERT_EQ(c.map_tasks()[1].state, TaskState::InProgress) << "re-executed at once on w2";
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 1)}, 60 * kMillisecond);
  again = sent<MapLocations>(out);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].second.after, 1u);
  EXPECT_EQ(again[0].second.through, 2u);
  EXPECT_TRUE(again[0].second.maps.empty());
  // Its re-execution is numbered 3: a reducer that missed it gets the new location only.
  const auto& re = c.map_tasks()[1].attempts.back();
  ASSERT_TRUE(re.running);
  deliver(c, re.worker, MapDone{1, 1, re.attempt, 1000, 1000}, 70 * kMillisecond);
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 2)}, 80 * kMillisecond);
  again = sent<MapLocations>(out);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].second.through, 3u);
  ASSERT_EQ(again[0].second.maps.size(), 1u);
  EXPECT_EQ(again[0].second.maps[0].map, 1);
  EXPECT_EQ(again[0].second.maps[0].attempt, re.attempt);
  // An execution the coordinator does not run there (aborted, lost) is sent nothing.
  out = deliver(c, 1, Pong{1, {TaskRef{TaskKind::Reduce, 0, 99, 0}}}, 90 * kMillisecond);
  EXPECT_TRUE(sent<MapLocations>(out).empty());
}

TEST(MapReduceCoordinator, PongOfAnotherIncarnation_IsARegistration_3_3) {
  // w1 restarted and its Register was lost; a repeated assignment reached the new incarnation,
  // which then stopped registering. Its Pong is the first sign of the restart: everything the
  // coordinator placed on it is gone (§3.3), as after a Register.
  auto job = hand_job(modelled_config(), 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1}, 0);
  const int m0 = attempt_of(out, TaskKind::Map, 0, 1);
  deliver(c, 1, MapDone{1, 0, m0, 1000, 1000}, kMillisecond);
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 1), 0}, 2 * kMillisecond);
  EXPECT_TRUE(out.events.empty()) << "the registered incarnation";
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 1), 1}, 3 * kMillisecond);
  EXPECT_EQ(events(out, "worker_dead").size(), 1u);
  EXPECT_EQ(outcomes(out),
            (std::vector<std::string>{"map 1 lost", "reduce 0 lost", "map 0 reset"}));
  ASSERT_EQ(events(out, "worker_registered").size(), 1u);
  EXPECT_EQ(events(out, "worker_registered")[0]["incarnation"], 1);
  EXPECT_EQ(sent<AssignMap>(out).size(), 1u) << "and it is given work again at once";
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 0), 1}, 4 * kMillisecond);
  EXPECT_TRUE(events(out, "worker_dead").empty()) << "registered now";
}

TEST(MapReduceCoordinator, AggregatedShuffle_NoLocationsSentAgainEither) {
  Config cfg = modelled_config();
  cfg.shuffle = Shuffle::Aggregated;
  auto job = hand_job(cfg, 2, {{1}, {2}}, 1);
  Coordinator c = make_coordinator(job);
  COut out = boot_and_register(c, {1, 2});
  deliver(c, 2, MapDone{1, 1, attempt_of(out, TaskKind::Map, 1, 2), 1000, 1000}, kMillisecond);
  out = deliver(c, 1, Pong{1, running_refs(c, 1, 0)}, 2 * kMillisecond);
  EXPECT_TRUE(out.sends.empty()) << "the simulator moves the shuffle";
}

TEST(MapReduceWorker, LostMapLocations_PongReportsTheGapAndTheCatchUpClosesIt_3_1) {
  auto job = hand_job(modelled_config(), 3, {{2}, {2}, {3}}, 1);
  Worker w = make_worker(1, job);
  auto through = [&](Time now) {
    WOut pong = wdeliver(w, kCoord, Ping{1}, now);
    const auto pongs = sent<Pong>(pong);
    EXPECT_EQ(pongs.size(), 1u);
    EXPECT_EQ(pongs[0].second.running.size(), 1u);
    return pongs[0].second.running.at(0).locations_through;
  };
  // Assigned when location 1 (map 0 on w2) was the last numbered one.
  WOut out = wdeliver(w, kCoord, AssignReduce{1, 0, 4, false, {{0, 2, 0}}, {}, 1}, 0);
  ASSERT_EQ(sent<Fetch>(out).size(), 1u);
  EXPECT_EQ(through(kMillisecond), 1u);
  // Location 2 (map 1 on w2, attempt 0) is lost; location 3 (map 2 on w3) arrives.
  out = wdeliver(w, kCoord, MapLocations{1, 0, 4, {{2, 3, 0}}, 2, 3}, 2 * kMillisecond);
  ASSERT_EQ(sent<Fetch>(out).size(), 1u);
  EXPECT_EQ(sent<Fetch>(out)[0].first, 3);
  EXPECT_EQ(through(3 * kMillisecond), 1u) << "a gap at 2: not past it";
  const std::uint64_t part = job->modelled_partition_bytes(0);
  wdeliver(w, 2, FetchReply{0, 4, {{0, 2, 0}}, {}, part, {}}, 4 * kMillisecond);

  // The catch-up, after w2 restarted and map 1 was re-run on w3 (attempt 1): the current
  // locations numbered after 1. Map 1 waits for the fetch already in flight to w3.
  MapLocations catch_up{1, 0, 4, {{1, 3, 1}, {2, 3, 0}}, 1, 3};
  out = wdeliver(w, kCoord, catch_up, 5 * kMillisecond);
  EXPECT_TRUE(sent<Fetch>(out).empty());
  EXPECT_EQ(through(6 * kMillisecond), 3u);
  // The lost forwarding arrives after all (it was only late): its stale location of map 1
  // loses to the re-execution's, and a duplicate catch-up changes nothing.
  out = wdeliver(w, kCoord, MapLocations{1, 0, 4, {{1, 2, 0}}, 1, 2}, 7 * kMillisecond);
  EXPECT_TRUE(out.sends.empty()) << "no fetch from w2, whose output is gone";
  out = wdeliver(w, kCoord, catch_up, 8 * kMillisecond);
  EXPECT_TRUE(out.sends.empty());
  EXPECT_EQ(through(9 * kMillisecond), 3u);

  out = wdeliver(w, 3, FetchReply{0, 4, {{2, 3, 0}}, {}, part, {}}, 10 * kMillisecond);
  auto fetches = sent<Fetch>(out);
  ASSERT_EQ(fetches.size(), 1u);
  EXPECT_EQ(fetches[0].first, 3);
  ASSERT_EQ(fetches[0].second.maps.size(), 1u);
  EXPECT_EQ(fetches[0].second.maps[0].map, 1);
  EXPECT_EQ(fetches[0].second.maps[0].attempt, 1);
  out = wdeliver(w, 3, FetchReply{0, 4, {{1, 3, 1}}, {}, part, {}}, 11 * kMillisecond);
  ASSERT_EQ(out.compute.size(), 1u) << "every map output is in";
  EXPECT_EQ(through(12 * kMillisecond), kNoLocationsNeeded) << "past its shuffle";
}

TEST(MapReduceWorker, MapLocationsBeforeItsAssignReduceCountTowardItsLocations) {
  auto job = hand_job(modelled_config(), 3, {{2}, {3}, {3}}, 1);
  Worker w = make_worker(1, job);
  // Location 3 overtook the AssignReduce, which carries locations 1 and 2.
  wdeliver(w, kCoord, MapLocations{1, 0, 4, {{2, 3, 0}}, 2, 3}, 0);
  wdeliver(w, kCoord, AssignReduce{1, 0, 4, false, {{0, 2, 0}, {1, 3, 0}}, {}, 2}, kMillisecond);
  WOut out = wdeliver(w, kCoord, Ping{1}, 2 * kMillisecond);
  ASSERT_EQ(sent<Pong>(out).size(), 1u);
  ASSERT_EQ(sent<Pong>(out)[0].second.running.size(), 1u);
  EXPECT_EQ(sent<Pong>(out)[0].second.running[0].locations_through, 3u);
}

TEST(MapReduceCluster, LostMapLocations_EveryForwardingDropped_JobStillCompletes_3_1) {
  // Every first forwarding of a location is lost: reducers learn locations only from their
  // assignment and from the catch-ups their Pongs ask for.
  testing::MrOptions o = real_options();
  o.flops_per_s = 1e5;
  testing::MrCluster cluster(o);
  std::uint64_t dropped = 0;
  cluster.set_filter([&](const testing::MrCluster::Env& env) {
    const auto* m = std::get_if<MapLocations>(&env.msg);
    const bool drop = m != nullptr && m->through == m->after + 1;
    dropped += drop;
    return !drop;
  });
  ASSERT_TRUE(cluster.run_until([&] { return cluster.job_done(); }, 300 * kSecond));
  EXPECT_GT(dropped, 0u);
  EXPECT_TRUE(cluster.events("worker_dead").empty());
  expect_matches_sequential(cluster);
}

}  // namespace
}  // namespace faultline::mapreduce
