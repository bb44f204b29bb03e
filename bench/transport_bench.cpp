// Benchmark (a): Transport overhead. The same ping-pong pattern (node pairs x round trips,
// 100-byte messages) through faultline's Transport + NodeRuntime and through raw SimGrid
// mailboxes (permanent receiver, detached put, blocking get). Each mode runs in a forked child
// (SimGrid allows one simulation per process); the parent prints wall times and the ratio.
// Target (issue 2): ratio <= 1.25.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <simgrid/s4u.hpp>

#include "sim/engine.hpp"
#include "sim/node_runtime.hpp"
#include "sim/world.hpp"

namespace fl = faultline;
namespace sg4 = simgrid::s4u;

namespace {

struct Ball {
  int round = 0;
};

/// Pure ping-pong core: the initiator serves at start; each side returns the ball until
/// `rounds` round trips are done.
class PingPong {
 public:
  using Message = Ball;
  using PersistOp = int;
  using Out = fl::Effects<Ball, int>;
  PingPong(fl::NodeId self, fl::NodeId peer, bool initiator, int rounds, int& finished)
      : self_(self), peer_(peer), serve_(initiator), rounds_(rounds), finished_(finished) {}
  void step(const fl::Envelope<Ball>& in, fl::Time, Out& out) {
    if (in.msg.round < rounds_ || !serve_done_)
      out.send(peer_, Ball{in.msg.round + (serve_done_ ? 1 : 0)}, 100);
    else
      ++finished_;  // the initiator got its last ball back
  }
  void tick(fl::Time, Out& out) {
    serve_ = false;
    serve_done_ = true;
    out.send(peer_, Ball{1}, 100);
  }
  fl::Time next_deadline() const { return serve_ ? 0 : fl::kNever; }
  void job_done(fl::JobId, fl::Time, Out&) {}
  void check_invariants() const {}
  std::string_view role_name() const { return "pingpong"; }
  std::uint64_t current_term() const { return 0; }

 private:
  fl::NodeId self_, peer_;
  bool serve_;
  bool serve_done_ = false;
  int rounds_;
  int& finished_;
};

fl::ClusterSpec cluster(int nodes) {
  fl::ClusterSpec c;
  for (int i = 0; i < nodes; ++i) c.server_names.push_back("h" + std::to_string(i));
  c.message_cost_flops = 0;
  return c;
}

std::vector<fl::NodeInfo> table(const fl::ClusterSpec& c) {
  std::vector<fl::NodeInfo> nodes;
  for (const auto& n : c.server_names) nodes.push_back({static_cast<fl::NodeId>(nodes.size()), n, fl::NodeKind::Server});
  return nodes;
}

class PingWorld final : public fl::sim::World {
 public:
  PingWorld(fl::sim::RunContext& ctx, int pairs, int rounds) : transport_(ctx, [](const Ball&) { return "ball"; }) {
    for (int i = 0; i < 2 * pairs; ++i) {
      const fl::NodeId id = i, peer = i ^ 1;
      const bool initiator = (i % 2) == 0;
      nodes_.push_back(std::make_unique<fl::sim::NodeRuntime<PingPong>>(
          ctx, transport_, id, "node/" + std::to_string(i),
          [=, this](const std::monostate&, fl::Rng, fl::Time) {
            return std::make_unique<PingPong>(id, peer, initiator, rounds, finished_);
          }));
    }
  }
  void start() override {
    for (auto& n : nodes_) n->start();
  }
  void finish() override {}
  void collect_violations() override {}
  int finished_ = 0;

 private:
  fl::sim::Transport<Ball> transport_;
};

double run_faultline(int pairs, int rounds) {
  fl::sim::SimEngine engine("exact");
  const auto spec = cluster(2 * pairs);
  fl::sim::RunContext ctx(spec, table(spec), 1, {}, 0);
  PingWorld world(ctx, pairs, rounds);
  world.start();
  // Node actors are daemons; this watcher ends the run once every pair is done.
  sg4::Actor::create("watcher", ctx.platform.host(0), [&world, pairs] {
    while (world.finished_ < pairs) sg4::this_actor::sleep_for(0.05);
  });
  const auto t0 = std::chrono::steady_clock::now();
  engine.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::int64_t sent = 0;
  for (auto& [k, n] : ctx.record.messages_sent) sent += n;
  std::fprintf(stderr, "  faultline: %lld messages, simulated %.3f s\n", static_cast<long long>(sent),
               sg4::Engine::get_clock());
  return wall;
}

double run_raw(int pairs, int rounds) {
  fl::sim::SimEngine engine("exact");
  const auto spec = cluster(2 * pairs);
  fl::sim::Platform platform(spec, table(spec), {});
  std::vector<sg4::Mailbox*> boxes;
  for (int i = 0; i < 2 * pairs; ++i) boxes.push_back(sg4::Mailbox::by_name("raw" + std::to_string(i)));
  for (int i = 0; i < 2 * pairs; ++i) {
    auto* mine = boxes[static_cast<std::size_t>(i)];
    auto* peer = boxes[static_cast<std::size_t>(i ^ 1)];
    const bool initiator = (i % 2) == 0;
    auto actor = sg4::Actor::create("raw" + std::to_string(i), platform.host(i), [=] {
      if (initiator) peer->put_init(new Ball{1}, 100)->detach([](void* p) { delete static_cast<Ball*>(p); });
      for (;;) {
        auto* ball = mine->get<Ball>();
        const int round = ball->round;
        delete ball;
        if (round >= rounds) {
          if (!initiator) peer->put_init(new Ball{round}, 100)->detach([](void* p) { delete static_cast<Ball*>(p); });
          return;
        }
        peer->put_init(new Ball{initiator ? round + 1 : round}, 100)->detach([](void* p) { delete static_cast<Ball*>(p); });
      }
    });
    mine->set_receiver(actor);
  }
  const auto t0 = std::chrono::steady_clock::now();
  engine.run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "  raw simgrid: simulated %.3f s\n", sg4::Engine::get_clock());
  return wall;
}

/// Runs `mode` in a forked child and returns its wall time (the child writes it to a pipe).
double in_child(bool faultline_mode, int pairs, int rounds) {
  int fds[2];
  std::fflush(stdout);
  if (pipe(fds) != 0) std::abort();
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    const double wall = faultline_mode ? run_faultline(pairs, rounds) : run_raw(pairs, rounds);
    if (write(fds[1], &wall, sizeof wall) != static_cast<ssize_t>(sizeof wall)) _exit(1);
    _exit(0);
  }
  close(fds[1]);
  double wall = -1;
  if (read(fds[0], &wall, sizeof wall) != static_cast<ssize_t>(sizeof wall)) wall = -1;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return wall;
}

}  // namespace

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? std::atoi(argv[1]) : 100;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 1000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  std::printf("transport benchmark: %d node pairs x %d round trips, 100-byte messages, %d repeats (median)\n",
              pairs, rounds, repeats);
  std::vector<double> ours, raw;
  for (int r = 0; r < repeats; ++r) {
    raw.push_back(in_child(false, pairs, rounds));
    ours.push_back(in_child(true, pairs, rounds));
  }
  std::sort(ours.begin(), ours.end());
  std::sort(raw.begin(), raw.end());
  const double a = ours[ours.size() / 2], b = raw[raw.size() / 2];
  std::printf("raw SimGrid mailboxes : %.3f s wall\n", b);
  std::printf("faultline Transport   : %.3f s wall\n", a);
  std::printf("ratio                 : %.3f (target <= 1.25)\n", a / b);
  return 0;
}
