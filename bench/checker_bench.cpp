// Benchmark: the linearizability checker (reports/linearizability). Each case runs in a forked
// child so that peak memory (ru_maxrss) does not accumulate across cases; the parent prints ops,
// wall time, the child's peak RSS and its growth during the check (the memo, interned values and
// search state), the verdict and the number of configurations explored.
//
//   checker_bench                       the generated cases
//   checker_bench --dump DIR            also write them to DIR as history.jsonl files (to time
//                                       `faultline check` on the same histories)
//   checker_bench [--model M] [--initial JSON] [--timeout S] PATH...
//                                       also these history files (a directory: its *.edn and
//                                       *.jsonl files); needs reports/history_io.hpp. Without
//                                       --model, a path containing "multi-register" is checked
//                                       as multi-register with {"x": 0, "y": 0}, anything else as
//                                       cas-register with 0 (Knossos' data/ conventions).
//
// Generated (seeded, deterministic), by running the sequential model with random overlapping
// intervals (each op takes effect at a random point of its interval; an info op at a random
// point up to 2 s later, or never), so linearizable: (1) a 50-client kv history of 2000 ops over
// 8 keys with 3% info ops, and the same with its last get corrupted; (2) a 20-client single-key
// kv history of 2000 ops with 5% info ops (long appended strings, appends and puts landing late:
// the hard case for a search); (3) 10-client single-key cas-register histories of 1000 ops with
// 5% info ops (three seeds; failed cas ops dropped, as Jepsen records them), and one with its
// last read corrupted.
// Target (issue 3): every case < 1 s and < 1 GB.
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "reports/linearizability.hpp"

#if __has_include("reports/history_io.hpp")
#include "reports/history_io.hpp"
#define CHECKER_BENCH_HAVE_READER 1
#endif

namespace lin = faultline::lin;
using json = nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Generation: run the sequential model, each op taking effect at a random point of its interval.

struct GenSpec {
  bool kv = false;
  int clients = 10;
  int ops = 1000;
  int keys = 1;
  double info_p = 0.05;
  int values = 5;  // register values 0..values-1
  std::uint64_t seed = 1;
};

lin::History generate(const GenSpec& spec) {
  std::mt19937_64 rng(spec.seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::exponential_distribution<double> latency(1.0 / 0.004);  // mean 4 ms
  std::exponential_distribution<double> think(1.0 / 0.001);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  struct G {
    lin::Op op;
    double start, lin, end;
    bool effect = true;
  };
  std::vector<G> ops;
  std::vector<double> clock(static_cast<std::size_t>(spec.clients), 0.0);
  std::vector<std::int64_t> pid(static_cast<std::size_t>(spec.clients));
  for (int c = 0; c < spec.clients; ++c) pid[static_cast<std::size_t>(c)] = c;
  std::int64_t next_pid = spec.clients;
  int counter = 0;
  for (int i = 0; i < spec.ops; ++i) {
    // The client that is free first issues the next op (a closed loop).
    const auto c =
        static_cast<std::size_t>(std::min_element(clock.begin(), clock.end()) - clock.begin());
    G x;
    x.start = clock[c] + think(rng);
    x.end = x.start + 0.0005 + latency(rng);
    x.lin = x.start + (x.end - x.start) * u(rng);
    x.op.process = pid[c];
    const double r = u(rng);
    if (spec.kv) {
      x.op.key = fmt::format("k{}", pick(spec.keys));
      if (r < 0.45) {
        x.op.f = "get";
      } else if (r < 0.7) {
        x.op.f = "put";
        x.op.value = fmt::format("v{}", ++counter);
      } else if (r < 0.9) {
        x.op.f = "append";
        x.op.value = fmt::format("a{}", ++counter);
      } else {
        x.op.f = "cas";
        x.op.value = json::array({"", fmt::format("c{}", ++counter)});  // filled in below
      }
    } else {
      if (r < 0.5) {
        x.op.f = "read";
      } else if (r < 0.75) {
        x.op.f = "write";
        x.op.value = pick(spec.values);
      } else {
        x.op.f = "cas";
        x.op.value = json::array({pick(spec.values), pick(spec.values)});
      }
    }
    if (u(rng) < spec.info_p) {
      x.op.status = lin::Op::Status::Info;
      x.end = x.start + 1.0;           // the client gives up after 1 s
      x.lin = x.start + 2.0 * u(rng);  // takes effect while pending, later, ...
      x.effect = pick(3) != 0;         // ... or never
      pid[c] = next_pid++;
    }
    clock[c] = x.end;
    ops.push_back(std::move(x));
  }
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ops[a].lin < ops[b].lin; });
  json reg = 0;
  std::map<std::string, std::string> kv;
  for (auto i : order) {
    G& x = ops[i];
    if (spec.kv && x.op.f == "cas" && pick(2)) x.op.value[0] = kv[*x.op.key];  // mostly matching
    if (!x.effect) continue;
    if (spec.kv) {
      std::string& s = kv[*x.op.key];
      if (x.op.f == "get") x.op.output = s;
      if (x.op.f == "put") s = x.op.value.get<std::string>();
      if (x.op.f == "append") s += x.op.value.get<std::string>();
      if (x.op.f == "cas") {
        const bool m = s == x.op.value[0].get<std::string>();
        if (m) s = x.op.value[1].get<std::string>();
        x.op.cas_result = m;
      }
    } else {
      if (x.op.f == "read") x.op.output = reg;
      if (x.op.f == "write") reg = x.op.value;
      if (x.op.f == "cas") {
        const bool m = reg == x.op.value[0];
        if (m) reg = x.op.value[1];
        // Jepsen records a cas whose compare failed as :fail (it is dropped); keep it as an ok
        // with result false only in the kv history.
        x.op.cas_result = m;
      }
    }
  }
  std::vector<G> kept;
  for (auto& x : ops) {
    if (x.op.status == lin::Op::Status::Info) x.op.cas_result.reset(), x.op.output = nullptr;
    if (!spec.kv && x.op.f == "cas" && x.op.status == lin::Op::Status::Ok &&
        x.op.cas_result == false)
      continue;  // a failed cas: not in the history
    kept.push_back(std::move(x));
  }
  struct Ev {
    double t;
    std::size_t op;
    bool ret;
  };
  std::vector<Ev> evs;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    evs.push_back({kept[i].start, i, false});
    if (kept[i].op.status == lin::Op::Status::Ok) evs.push_back({kept[i].end, i, true});
  }
  std::stable_sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  for (std::size_t k = 0; k < evs.size(); ++k) {
    lin::Op& op = kept[evs[k].op].op;
    if (evs[k].ret) {
      op.complete_index = k;
      op.complete_time = evs[k].t;
    } else {
      op.invoke_index = op.complete_index = k;
      op.invoke_line = k + 1;
      op.invoke_time = evs[k].t;
    }
  }
  lin::History h;
  for (auto& x : kept) h.ops.push_back(std::move(x.op));
  std::sort(h.ops.begin(), h.ops.end(),
            [](const lin::Op& a, const lin::Op& b) { return a.invoke_index < b.invoke_index; });
  return h;
}

/// The history as history.jsonl (SCENARIOS.md, "History format"): lines in file order.
void write_jsonl(const lin::History& h, const std::string& path) {
  std::vector<std::pair<std::size_t, json>> lines;
  for (const auto& op : h.ops) {
    json inv = {{"process", op.process}, {"type", "invoke"}, {"f", op.f}};
    if (op.key) inv["key"] = *op.key;
    inv["value"] = op.value;
    inv["time"] = op.invoke_time;
    lines.push_back({op.invoke_index, inv});
    if (op.status != lin::Op::Status::Ok) continue;  // never completed: info
    json done = inv;
    done["type"] = "ok";
    if (op.f == "get" || op.f == "read") done["value"] = op.output;
    if (op.cas_result) done["result"] = *op.cas_result;
    done["time"] = op.complete_time;
    lines.push_back({op.complete_index, done});
  }
  std::sort(lines.begin(), lines.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) {
    fmt::print(stderr, "cannot write {}\n", path);
    return;
  }
  for (const auto& [pos, line] : lines) fmt::print(f, "{}\n", line.dump());
  std::fclose(f);
}

/// Corrupts the last ok get of the history (a value nobody wrote).
void corrupt_last_get(lin::History& h) {
  for (auto it = h.ops.rbegin(); it != h.ops.rend(); ++it)
    if (it->status == lin::Op::Status::Ok && (it->f == "get" || it->f == "read")) {
      it->output = it->f == "get" ? json("never-written") : json(-1);
      return;
    }
}

// ---------------------------------------------------------------------------------------------
// Measurement in a forked child

struct Measured {
  double wall_s = -1;
  long peak_kb = 0;
  long growth_kb = 0;
  int verdict = -1;
  std::uint64_t states = 0;
  std::size_t partitions = 0;
  char reason[160] = {};
};

long maxrss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

Measured measure(const std::function<lin::History()>& load, const lin::Options& options,
                 std::size_t& ops) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    Measured m;
    std::size_t n = 0;
    try {
      const lin::History h = load();
      n = h.ops.size();
      const long before = maxrss_kb();
      const auto t0 = std::chrono::steady_clock::now();
      const lin::Result r = lin::check(h, options);
      m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      m.peak_kb = maxrss_kb();
      m.growth_kb = m.peak_kb - before;
      m.verdict = static_cast<int>(r.verdict);
      m.states = r.states_explored;
      m.partitions = r.partitions;
      std::snprintf(m.reason, sizeof m.reason, "%s", r.reason.c_str());
    } catch (const std::exception& e) {
      std::snprintf(m.reason, sizeof m.reason, "error: %s", e.what());
    }
    const bool written = write(fds[1], &n, sizeof n) == static_cast<ssize_t>(sizeof n) &&
                         write(fds[1], &m, sizeof m) == static_cast<ssize_t>(sizeof m);
    _exit(written ? 0 : 1);
  }
  close(fds[1]);
  Measured m;
  ops = 0;
  const bool ok = read(fds[0], &ops, sizeof ops) == static_cast<ssize_t>(sizeof ops) &&
                  read(fds[0], &m, sizeof m) == static_cast<ssize_t>(sizeof m);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (!ok) std::snprintf(m.reason, sizeof m.reason, "child died (status %d)", status);
  return m;
}

struct Totals {
  int cases = 0, over_time = 0, over_memory = 0;
  double worst_s = 0;
  long worst_kb = 0;
};

std::string g_dump_dir;  // --dump

void report(const std::string& name, const std::function<lin::History()>& load,
            const lin::Options& options, Totals& totals, const char* expect = nullptr,
            const char* dump_as = nullptr) {
  if (dump_as && !g_dump_dir.empty()) write_jsonl(load(), g_dump_dir + "/" + dump_as + ".jsonl");
  std::size_t ops = 0;
  const Measured m = measure(load, options, ops);
  const char* verdict =
      m.verdict < 0 ? "error" : lin::to_string(static_cast<lin::Verdict>(m.verdict));
  std::string note;
  if (m.reason[0]) note = fmt::format(" ({})", m.reason);
  if (expect && m.verdict >= 0 && std::string(verdict) != expect)
    note += fmt::format("  EXPECTED {}", expect);
  fmt::print("{:<48} {:>6} {:>9.3f} s {:>8.1f} MB {:>8.1f} MB  {:<17} {:>10}{}\n", name, ops,
             m.wall_s, static_cast<double>(m.peak_kb) / 1000.0 * 1.024,
             static_cast<double>(m.growth_kb) / 1000.0 * 1.024, verdict, m.states, note);
  std::fflush(stdout);
  ++totals.cases;
  totals.worst_s = std::max(totals.worst_s, m.wall_s);
  totals.worst_kb = std::max(totals.worst_kb, m.peak_kb);
  if (m.wall_s >= 1.0 || m.wall_s < 0) ++totals.over_time;
  if (static_cast<double>(m.peak_kb) * 1024.0 >= 1e9) ++totals.over_memory;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<lin::Model> model;
  std::optional<json> initial;
  double timeout = 60;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "{} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") {
      model = lin::model_from_string(value());
      if (!model) {
        fmt::print(stderr, "unknown model (register, cas-register, kv, multi-register)\n");
        return 2;
      }
    } else if (a == "--initial") {
      initial = json::parse(value());
    } else if (a == "--timeout") {
      timeout = std::stod(value());
    } else if (a == "--dump") {
      g_dump_dir = value();
      std::filesystem::create_directories(g_dump_dir);
    } else if (a == "-h" || a == "--help") {
      fmt::print(
          "usage: checker_bench [--dump DIR] [--model M] [--initial JSON] [--timeout S] "
          "[PATH...]\n");
      return 0;
    } else {
      paths.push_back(a);
    }
  }

  fmt::print("{:<48} {:>6} {:>11} {:>11} {:>11}  {:<17} {:>10}\n", "case", "ops", "wall",
             "peak RSS", "RSS growth", "verdict", "states");
  Totals totals;

  lin::Options kv;
  kv.model = lin::Model::Kv;
  kv.timeout_s = timeout;
  GenSpec kv_spec;
  kv_spec.kv = true;
  kv_spec.clients = 50;
  kv_spec.ops = 2000;
  kv_spec.keys = 8;
  kv_spec.info_p = 0.03;
  kv_spec.seed = 11;
  report(
      "kv: 50 clients, 2000 ops, 8 keys, 3% info", [&] { return generate(kv_spec); }, kv, totals,
      "linearizable", "kv-50c-2000");
  report(
      "kv: same, last get corrupted",
      [&] {
        lin::History h = generate(kv_spec);
        corrupt_last_get(h);
        return h;
      },
      kv, totals, "not linearizable", "kv-50c-2000-bad");
  GenSpec kv1 = kv_spec;
  kv1.keys = 1;
  kv1.clients = 20;
  kv1.info_p = 0.05;
  for (std::uint64_t seed : {1, 2}) {
    kv1.seed = seed;
    report(
        fmt::format("kv: 20 clients, 2000 ops, 1 key, 5% info #{}", seed),
        [&] { return generate(kv1); }, kv, totals, "linearizable",
        seed == 1 ? "kv-20c-1key" : nullptr);
  }

  lin::Options cas;
  cas.model = lin::Model::CasRegister;
  cas.initial = 0;
  cas.timeout_s = timeout;
  GenSpec cas_spec;
  cas_spec.clients = 10;
  cas_spec.ops = 1000;
  cas_spec.info_p = 0.05;
  for (std::uint64_t seed : {1, 2, 3}) {
    cas_spec.seed = seed;
    report(
        fmt::format("cas-register: 10 clients, 1000 ops, 5% info #{}", seed),
        [&] { return generate(cas_spec); }, cas, totals, "linearizable",
        seed == 1 ? "cas-10c-1000" : nullptr);
  }
  report(
      "cas-register: #3, last read corrupted",
      [&] {
        lin::History h = generate(cas_spec);
        corrupt_last_get(h);
        return h;
      },
      cas, totals, "not linearizable", "cas-10c-1000-bad");

  if (!paths.empty()) {
#ifdef CHECKER_BENCH_HAVE_READER
    std::vector<std::string> files;
    for (const auto& p : paths) {
      if (std::filesystem::is_directory(p)) {
        std::vector<std::string> in_dir;
        for (const auto& e : std::filesystem::recursive_directory_iterator(p))
          if (e.is_regular_file() &&
              (e.path().extension() == ".edn" || e.path().extension() == ".jsonl"))
            in_dir.push_back(e.path().string());
        std::sort(in_dir.begin(), in_dir.end());
        files.insert(files.end(), in_dir.begin(), in_dir.end());
      } else {
        files.push_back(p);
      }
    }
    for (const auto& f : files) {
      lin::Options o;
      const bool multi = f.find("multi-register") != std::string::npos;
      o.model = model.value_or(multi ? lin::Model::MultiRegister : lin::Model::CasRegister);
      o.initial = initial.value_or(multi ? json{{"x", 0}, {"y", 0}} : json(0));
      o.timeout_s = timeout;
      const char* expect = nullptr;
      if (f.find("/good/") != std::string::npos) expect = "linearizable";
      if (f.find("/bad/") != std::string::npos) expect = "not linearizable";
      std::string name = std::filesystem::path(f).parent_path().filename().string() + "/" +
                         std::filesystem::path(f).filename().string();
      report(
          name, [f, o] { return lin::read_history_file(f, o.model); }, o, totals, expect);
    }
#else
    fmt::print("(history files skipped: reports/history_io.hpp was not available at build time)\n");
#endif
  }

  fmt::print(
      "\n{} cases; slowest {:.3f} s, largest peak RSS {:.1f} MB; over 1 s: {}, over 1 GB: {}\n",
      totals.cases, totals.worst_s, static_cast<double>(totals.worst_kb) * 1.024 / 1000.0,
      totals.over_time, totals.over_memory);
  fmt::print("target: < 1 s and < 1 GB per case\n");
  return 0;
}
