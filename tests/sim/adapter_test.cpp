// The SimGrid adapter: Transport timing and faults, incarnations, crash/restart in every kind
// of wait (DESIGN.md, "SimGrid 3.32 traps"), stable storage, helper jobs, network models.
// Every TEST runs in its own process (one simulation per process).
#include <gtest/gtest.h>

#include <simgrid/s4u/Engine.hpp>

#include "tests/sim/probe_world.hpp"

namespace faultline::testing {
namespace {

struct Fixture {
  explicit Fixture(int nodes = 2, std::string model = "exact", ClusterSpec cluster = probe_cluster(2))
      : engine(model),
        spec([&] {
          if (static_cast<int>(cluster.server_names.size()) != nodes) cluster = probe_cluster(nodes);
          return cluster;
        }()),
        ctx(spec, probe_nodes(spec), 1, {10.0}, spec.message_cost_flops),
        world(ctx, observed) {}
  sim::SimEngine engine;
  ClusterSpec spec;
  sim::RunContext ctx;
  Observed observed;
  ProbeWorld world;
};

TEST(Transport, ExactModelDeliversAfterTwiceTheLinkLatency) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] { f.world.transport().send(0, 1, Probe{7}, 100); sleep_until_ms(50); });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 1u);
  // 1 ms up + 1 ms down, plus 100 bytes at 125 MB/s (0.8 us).
  EXPECT_NEAR(to_ms(f.observed.arrivals[0].at), 2.0008, 0.001);
}

TEST(Transport, TcpModelInflatesLatencyThirteenfold) {
  Fixture f(2, "tcp");
  f.world.start();
  drive(f.ctx, [&] { f.world.transport().send(0, 1, Probe{7}, 100); sleep_until_ms(100); });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 1u);
  EXPECT_GT(to_ms(f.observed.arrivals[0].at), 20.0);  // LV08: x13.01 latency (DESIGN.md)
}

TEST(Transport, BurstToOneNodeIsNotSerialised) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    for (int i = 0; i < 10; ++i) f.world.transport().send(0, 1, Probe{i}, 100);
    sleep_until_ms(50);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 10u);
  // Permanent receiver: all ten flow at once and share the link, so all arrive by ~2 ms.
  EXPECT_LT(to_ms(f.observed.arrivals.back().at), 2.1);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(f.observed.arrivals[static_cast<std::size_t>(i)].seq, i);
}

TEST(Transport, PartitionDropsAtSendAndInFlight) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.world.transport().send(0, 1, Probe{1}, 100);          // in flight when the block starts
    sleep_until_ms(1);
    const auto block = f.ctx.network.add_blocks({{0, 1}});
    f.world.transport().send(0, 1, Probe{2}, 100);          // blocked at send
    f.world.transport().send(1, 0, Probe{3}, 100);          // one-way: the other direction flows
    sleep_until_ms(10);
    f.ctx.network.remove_blocks(block);
    f.world.transport().send(0, 1, Probe{4}, 100);
    sleep_until_ms(20);
  });
  f.engine.run();
  std::vector<std::int64_t> seen;
  for (auto& a : f.observed.arrivals) seen.push_back(a.seq);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{3, 4}));
  EXPECT_EQ(f.ctx.record.messages_dropped, 2);
}

TEST(Transport, DelayHoldsMessagesAndReordersThem) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.ctx.network.mutable_settings().global.delay = DurationRange{0, 30 * kMillisecond};
    for (int i = 0; i < 20; ++i) f.world.transport().send(0, 1, Probe{i}, 100);
    sleep_until_ms(100);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 20u);
  bool reordered = false;
  for (std::size_t i = 1; i < f.observed.arrivals.size(); ++i)
    if (f.observed.arrivals[i].seq < f.observed.arrivals[i - 1].seq) reordered = true;
  EXPECT_TRUE(reordered);
  for (auto& a : f.observed.arrivals) EXPECT_LE(to_ms(a.at), 32.1);
}

TEST(Transport, DropAndDuplicateFollowTheirProbabilities) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.ctx.network.mutable_settings().global.drop = 0.5;
    f.ctx.network.mutable_settings().global.duplicate = 0.5;
    for (int i = 0; i < 400; ++i) f.world.transport().send(0, 1, Probe{i}, 100);
    sleep_until_ms(100);
  });
  f.engine.run();
  // 400 sends: ~200 dropped; of the ~200 kept, ~100 arrive twice => ~300 arrivals.
  EXPECT_GT(f.ctx.record.messages_dropped, 150);
  EXPECT_LT(f.ctx.record.messages_dropped, 250);
  EXPECT_GT(f.observed.arrivals.size(), 240u);
  EXPECT_LT(f.observed.arrivals.size(), 360u);
}

TEST(Crash, MessagesToAnEarlierIncarnationAreDropped) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.world.transport().send(0, 1, Probe{1}, 100);  // arrives at 2 ms: n2 is down then
    sleep_until_ms(0.5);
    f.world.node(1).crash();
    sleep_until_ms(1.0);
    f.world.transport().send(0, 1, Probe{2}, 100);  // sent to the dead incarnation
    sleep_until_ms(5);
    f.world.node(1).restart();
    f.world.transport().send(0, 1, Probe{3}, 100);  // to the new incarnation
    sleep_until_ms(20);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 1u);
  EXPECT_EQ(f.observed.arrivals[0].seq, 3);
  EXPECT_EQ(f.ctx.slot(1).incarnation, 1u);
}

TEST(Crash, KillDuringMailboxWaitWithTimeout) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.world.core(1).deadline_ = 100 * kMillisecond;  // n2 waits on its mailbox with a timeout
    sleep_until_ms(10);
    f.world.node(1).crash();
    sleep_until_ms(200);
    f.world.node(1).restart();
    f.world.transport().send(0, 1, Probe{9}, 100);
    sleep_until_ms(250);
  });
  f.engine.run();
  EXPECT_TRUE(f.observed.ticks.empty());  // the timer died with the crash
  ASSERT_EQ(f.observed.arrivals.size(), 1u);
}

TEST(Crash, KillDuringStableStorageSync) {
  ClusterSpec c = probe_cluster(2);
  c.disk = DiskSpec{30e6, 30e6, 50 * kMillisecond};
  Fixture f(2, "exact", c);
  f.world.start();
  drive(f.ctx, [&] {
    auto& core = f.world.core(1);
    core.deadline_ = 10 * kMillisecond;
    core.persist_on_tick_ = true;
    core.pending_sends_ = {{0, 42}};  // must NOT leave: the crash comes before the sync ends
    sleep_until_ms(30);               // n2 is sleeping through its 50 ms fsync
    f.world.node(1).crash();
    sleep_until_ms(100);
    f.world.node(1).restart();
    sleep_until_ms(150);
  });
  f.engine.run();
  EXPECT_TRUE(f.observed.arrivals.empty());  // persist before send: nothing was sent
  EXPECT_EQ(f.world.runtime(1).storage().writes, 1);  // the write itself reached the disk
  EXPECT_EQ(f.world.core(1).recovered_writes(), 1);   // and the new incarnation recovered it
}

TEST(Crash, KillDuringMessageHandlingCpuCost) {
  ClusterSpec c = probe_cluster(2);
  c.message_cost_flops = 1e8;  // 100 ms per message at 1 Gf
  Fixture f(2, "exact", c);
  f.world.start();
  drive(f.ctx, [&] {
    f.world.transport().send(0, 1, Probe{1}, 100);
    sleep_until_ms(50);  // n2 is executing the handling cost
    f.world.node(1).crash();
    sleep_until_ms(80);
    f.world.node(1).restart();
    sleep_until_ms(300);
  });
  f.engine.run();
  EXPECT_TRUE(f.observed.arrivals.empty());
}

TEST(Crash, KillWhileHelperJobsRunComputeAndDisk) {
  ClusterSpec c = probe_cluster(2);
  c.disk = DiskSpec{30e6, 30e6, 0};
  Fixture f(2, "exact", c);
  f.world.start();
  drive(f.ctx, [&] {
    auto& core = f.world.core(1);
    core.deadline_ = 1 * kMillisecond;
    core.job_flops_ = 1e9;          // 1 s of CPU
    core.disk_bytes_ = 30'000'000;  // 1 s of disk
    sleep_until_ms(100);
    f.world.node(1).crash();        // jobs in flight die with the node
    sleep_until_ms(200);
    f.world.node(1).restart();
    sleep_until_ms(1500);
  });
  f.engine.run();
  EXPECT_TRUE(f.observed.jobs_done.empty());
}

TEST(Jobs, ComputeJobReportsCompletionAndSlowCpuDividesSpeed) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.world.core(0).deadline_ = 0;
    f.world.core(0).job_flops_ = 1e8;  // 100 ms at 1 Gf
    f.ctx.platform.set_cpu_factor(1, 10.0);
    f.world.core(1).deadline_ = 0;
    f.world.core(1).job_flops_ = 1e8;  // 1 s at 0.1 Gf
    sleep_until_ms(1500);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.jobs_done.size(), 2u);
  EXPECT_NEAR(to_ms(f.observed.jobs_done[0].second), 100.0, 0.5);
  EXPECT_NEAR(to_ms(f.observed.jobs_done[1].second), 1000.0, 0.5);
}

TEST(Jobs, DiskJobPaysTheAccessTimeOncePerRequestAndASlowDiskOnlyTransfersSlower) {
  ClusterSpec c = probe_cluster(2);
  c.disk = DiskSpec{30e6, 30e6};
  c.disk->access_time = 10 * kMillisecond;
  Fixture f(2, "exact", c);
  f.ctx.platform.set_disk_factor(1, 10.0);
  f.world.start();
  drive(f.ctx, [&] {
    // n0: 3 MB in 10 reads: 100 ms of transfer + 10 accesses of 10 ms.
    f.world.core(0).deadline_ = 0;
    f.world.core(0).disk_bytes_ = 3'000'000;
    f.world.core(0).disk_write_ = false;
    f.world.core(0).disk_ops_ = 10;
    // n1, a bad disk 10x slower (§3.6): 1 s of transfer, the accesses unchanged.
    f.world.core(1).deadline_ = 0;
    f.world.core(1).disk_bytes_ = 3'000'000;
    f.world.core(1).disk_write_ = false;
    f.world.core(1).disk_ops_ = 10;
    sleep_until_ms(2000);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.jobs_done.size(), 2u);
  EXPECT_NEAR(to_ms(f.observed.jobs_done[0].second), 200.0, 0.5);
  EXPECT_NEAR(to_ms(f.observed.jobs_done[1].second), 1100.0, 0.5);
}

TEST(Straggler, AddedLatencyAppliesToLaterMessages) {
  Fixture f;
  f.world.start();
  drive(f.ctx, [&] {
    f.ctx.platform.add_latency(1, 5 * kMillisecond);
    f.world.transport().send(0, 1, Probe{1}, 100);
    sleep_until_ms(50);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 1u);
  EXPECT_NEAR(to_ms(f.observed.arrivals[0].at), 7.0, 0.01);
}

TEST(Crash, EndOfRunKillsNodesBlockedInEveryKindOfWait) {
  ClusterSpec c = probe_cluster(3);
  c.disk = DiskSpec{30e6, 30e6, 500 * kMillisecond};
  c.message_cost_flops = 1e9;
  Fixture f(3, "exact", c);
  f.world.start();
  drive(f.ctx, [&] {
    f.world.core(0).deadline_ = kSecond;         // mailbox wait with timeout
    f.world.core(1).deadline_ = 0;               // fsync sleep
    f.world.core(1).persist_on_tick_ = true;
    f.world.transport().send(0, 2, Probe{1}, 100);  // n3 executing a message's CPU cost
    f.world.core(0).job_flops_ = 0;
    sleep_until_ms(100);
  });  // the driver returns: SimGrid kills every daemonized node actor mid-wait
  f.engine.run();
  SUCCEED();
}

TEST(Platform, RacksShareTheUplinkAcrossRacksButNotWithinARack) {
  ClusterSpec c = probe_cluster(4);
  c.topology = Topology::Racks;
  c.racks = RacksSpec{2, 2, 1e6, 1e9};  // 1 MB/s rack uplinks, 1 GB/s core
  Fixture f(4, "exact", c);
  f.world.start();
  drive(f.ctx, [&] {
    f.world.transport().send(0, 2, Probe{1}, 1'000'000);  // rack1 -> rack2
    f.world.transport().send(1, 3, Probe{2}, 1'000'000);  // rack1 -> rack2: shares rack1's uplink
    f.world.transport().send(0, 1, Probe{3}, 1'000'000);  // within rack1: host links only
    sleep_until_ms(5000);
  });
  f.engine.run();
  ASSERT_EQ(f.observed.arrivals.size(), 3u);
  EXPECT_EQ(f.observed.arrivals[0].seq, 3);
  EXPECT_LT(to_ms(f.observed.arrivals[0].at), 20.0);  // 1 MB at 125 MB/s + 2 ms
  // Two 1 MB flows through one 1 MB/s uplink: about 2 s each.
  EXPECT_NEAR(to_seconds(f.observed.arrivals[1].at), 2.0, 0.05);
  EXPECT_NEAR(to_seconds(f.observed.arrivals[2].at), 2.0, 0.05);
}

}  // namespace
}  // namespace faultline::testing
