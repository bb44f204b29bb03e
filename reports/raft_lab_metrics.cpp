#include "reports/raft_lab_metrics.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "reports/stats.hpp"

namespace faultline::reports {
namespace {

constexpr Duration kBucket = RunRecord::kMessageBucket;
constexpr std::size_t kWindowBuckets = static_cast<std::size_t>(kSecond / kBucket);

bool is_client_kind(const std::string& kind) { return kind.rfind("client_", 0) == 0; }

/// Per-bucket totals of the server-to-server kinds and of the client kinds.
struct Traffic {
  std::vector<std::int64_t> servers, clients;
};

Traffic traffic(const RunRecord& record) {
  Traffic t;
  for (const auto& [kind, buckets] : record.messages_sent_per_bucket) {
    auto& into = is_client_kind(kind) ? t.clients : t.servers;
    if (into.size() < buckets.size()) into.resize(buckets.size(), 0);
    for (std::size_t i = 0; i < buckets.size(); ++i) into[i] += buckets[i];
  }
  return t;
}

/// prefix[i] = sum of v[0..i), over `n` buckets (v is zero past its end).
std::vector<std::int64_t> prefix_sums(const std::vector<std::int64_t>& v, std::size_t n) {
  std::vector<std::int64_t> prefix(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + (i < v.size() ? v[i] : 0);
  return prefix;
}

nlohmann::json or_null(const std::optional<std::int64_t>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

void add_raft_lab_metrics(const RunRecord& record, nlohmann::json& metrics) {
  std::int64_t total = 0;
  for (const auto& [kind, n] : record.messages_sent)
    if (!is_client_kind(kind)) total += n;
  metrics["rpcs"]["total"] = total;

  std::optional<Time> first_leader;
  for (const auto& e : record.events)
    if (e.kind == "became_leader") {
      first_leader = e.time;
      break;
    }

  // RPC counts and rates from the 10 ms send buckets.
  const Traffic t = traffic(record);
  const std::size_t complete = static_cast<std::size_t>(std::max<Time>(0, record.end_time) / kBucket);
  const std::size_t n = std::max({complete, t.servers.size(), t.clients.size()});
  const auto servers = prefix_sums(t.servers, n);
  const auto clients = prefix_sums(t.clients, n);
  std::optional<std::int64_t> to_first_leader, per_s_max, idle_per_s_max;
  if (first_leader) {
    to_first_leader = servers[std::min(n, static_cast<std::size_t>(*first_leader / kBucket) + 1)];
    std::vector<Time> fault_times;
    for (const auto& f : record.faults) fault_times.push_back(f.time);
    std::sort(fault_times.begin(), fault_times.end());
    // Windows [s, s + 1 s) in buckets: from the first bucket that starts at or after the first
    // leader, to the last one that ends by the end of the run.
    for (std::size_t s = static_cast<std::size_t>((*first_leader + kBucket - 1) / kBucket);
         s + kWindowBuckets <= complete; ++s) {
      const std::int64_t sent = servers[s + kWindowBuckets] - servers[s];
      per_s_max = std::max(per_s_max.value_or(0), sent);
      const Time from = static_cast<Time>(s) * kBucket, to = from + kSecond;
      const auto fault = std::lower_bound(fault_times.begin(), fault_times.end(), from);
      const bool quiet = fault == fault_times.end() || *fault >= to;
      if (quiet && clients[s + kWindowBuckets] == clients[s])
        idle_per_s_max = std::max(idle_per_s_max.value_or(0), sent);
    }
  }
  metrics["rpcs_to_first_leader"] = or_null(to_first_leader);
  metrics["rpcs_per_s_max"] = or_null(per_s_max);
  metrics["idle_rpcs_per_s_max"] = or_null(idle_per_s_max);

  // Agreement: each server's commit_index as it evolves (0 again after a restart), and how long
  // after each heal the cluster's highest commit_index advances.
  struct Server {
    bool up = true;
    std::uint64_t commit_index = 0;
  };
  std::vector<std::optional<Server>> server(record.nodes.size());
  for (const auto& node : record.nodes)
    if (node.kind == NodeKind::Server) server[static_cast<std::size_t>(node.id)] = Server{};
  std::uint64_t highest = 0;
  std::vector<Time> heals;  // heals waiting for the highest commit_index to advance
  std::vector<double> after_heal_ms;
  for (const auto& e : record.events) {
    if (e.kind == "fault") {
      const std::string kind = e.fields.value("fault", "");
      const auto target = e.fields.find("target");
      if ((kind == "heal" || kind == "nemesis-end") && target != e.fields.end() && !target->is_null())
        heals.push_back(e.time);
      continue;
    }
    if (e.node < 0 || static_cast<std::size_t>(e.node) >= server.size()) continue;
    auto& s = server[static_cast<std::size_t>(e.node)];
    if (!s) continue;
    if (e.kind == "crash") {
      s->up = false;
    } else if (e.kind == "restart") {
      *s = Server{};
    } else if (e.kind == "committed") {
      s->commit_index = e.fields.value("index", std::uint64_t{0});
      if (s->commit_index > highest) {
        highest = s->commit_index;
        for (const Time heal : heals) after_heal_ms.push_back(to_ms(e.time - heal));
        heals.clear();
      }
    }
  }
  std::optional<std::int64_t> commit_min;
  for (const auto& s : server)
    if (s && s->up)
      commit_min = std::min(commit_min.value_or(static_cast<std::int64_t>(s->commit_index)),
                            static_cast<std::int64_t>(s->commit_index));
  metrics["commit_index_min"] = or_null(commit_min);
  metrics["commit_after_heal_ms"] = to_json(summarize(after_heal_ms));
}

}  // namespace faultline::reports
