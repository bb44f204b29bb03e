#include "cli/scenario_loader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "cli/registry.hpp"
#include "common/suggest.hpp"
#include "cli/yaml_tree.hpp"
#include "common/units.hpp"

namespace faultline {
namespace {

using yaml::Node;

// Far above any scenario we know of (the racks example has 1800 hosts); keeps a typo such as
// `nodes: 50000000` from allocating gigabytes of names.
constexpr std::int64_t kMaxServers = 100'000;
constexpr std::int64_t kMaxClients = 100'000;
constexpr std::uintmax_t kMaxFileBytes = 16u << 20;

const std::vector<std::string> kTopLevelKeys = {"name",     "description", "protocol", "seed",
                                                "duration", "cluster",     "params",   "workload",
                                                "faults",   "checks",      "expect",   "stop_when",
                                                "checks_budget"};
const std::vector<std::string> kClusterKeys = {"nodes",         "names", "topology",     "latency",
                                               "bandwidth",     "speed", "message_cost", "disk",
                                               "network_model", "racks",  "processing"};
const std::vector<std::string> kDiskKeys = {"read", "write", "sync_latency", "access_time"};
const std::vector<std::string> kRacksKeys = {"racks", "hosts_per_rack", "uplink", "core"};
const std::vector<std::string> kWorkloadKeys = {
    "clients", "ops", "rate", "mix", "keys", "rpc_timeout", "client_timeout", "start"};
const std::vector<std::string> kFaultKindNames = {"crash", "restart", "partition", "isolate",
                                                  "cut",   "heal",    "slow",      "network",
                                                  "elect", "heartbeat", "nemesis"};
const std::vector<std::string> kCutKeys = {"from", "to"};
const std::vector<std::string> kSlowKeys = {"node", "cpu", "disk", "latency"};
const std::vector<std::string> kNetworkKeys = {"from",  "to",         "drop", "duplicate",
                                               "delay", "long_delay", "kinds"};
const std::vector<std::string> kLongDelayKeys = {"p", "delay"};
const std::vector<std::string> kNemesisKeys = {"faults", "every", "until", "targets"};
const std::vector<std::string> kNemesisFaults = {"crash", "restart", "partition"};
const std::vector<std::string> kTopologies = {"star", "racks", "two-switch"};
const std::vector<std::string> kNetworkModels = {"exact", "tcp"};
const std::vector<std::string> kGenericRoles = {"random", "crashed", "all"};
const std::vector<std::string> kOps = {"==", "!=", "<=", ">=", "<", ">"};

[[noreturn]] void fail(const SourceLoc& loc, std::string message, std::string suggestion = {}) {
  throw ScenarioError(loc, std::move(message), std::move(suggestion));
}

[[noreturn]] void fail(const Node& node, std::string message, std::string suggestion = {}) {
  fail(node.loc, std::move(message), std::move(suggestion));
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string place(const std::string& path) {
  return path.empty() ? "at the top level" : "in " + path;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string lower_dashed(std::string_view s) {
  std::string out;
  for (char c : s) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '-') ? l : '-';
  }
  return out;
}

bool matches_charset(std::string_view s, std::string_view extra) {
  if (s.empty()) return false;
  for (char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
    if (extra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

/// "n12" -> 12 for `prefix` 'n'; nullopt when `s` is not prefix+digits.
std::optional<std::int64_t> numbered(std::string_view s, char prefix) {
  if (s.size() < 2 || s[0] != prefix) return std::nullopt;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data() + 1, s.data() + s.size(), n);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return n;
}

/// N of "random-N" (N may be out of range); nullopt when `s` is not random-digits.
std::optional<std::int64_t> random_n(std::string_view s) {
  constexpr std::string_view kPrefix = "random-";
  if (s.size() <= kPrefix.size() || s.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = s.substr(kPrefix.size());
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec == std::errc::result_out_of_range) return std::numeric_limits<std::int64_t>::max();
  return n;
}

/// ("worker", 200) for "worker-200" when `worker` is one of `roles` (N may be out of range).
std::optional<std::pair<std::string, std::int64_t>> role_n(std::string_view s,
                                                           const std::vector<std::string>& roles) {
  const auto dash = s.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == s.size()) return std::nullopt;
  const std::string role(s.substr(0, dash));
  if (std::find(roles.begin(), roles.end(), role) == roles.end()) return std::nullopt;
  std::string_view digits = s.substr(dash + 1);
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec == std::errc::result_out_of_range) n = std::numeric_limits<std::int64_t>::max();
  return std::make_pair(role, n);
}

/// Every key of `map` must be in `valid`; otherwise an error with did-you-mean.
void check_keys(const Node& map, const std::vector<std::string>& valid, const std::string& path) {
  for (const auto& [key, value] : map.entries) {
    if (contains(valid, key.scalar)) continue;
    std::string suggestion = did_you_mean(key.scalar, valid);
    if (suggestion.empty())
      suggestion = valid.empty() ? "no keys are allowed here" : "valid keys: " + join(valid);
    fail(key, fmt::format("unknown key '{}' {}", key.scalar, place(path)), suggestion);
  }
}

const Node& require(const Node& map, std::string_view key, const std::string& path,
                    std::string hint = {}) {
  const Node* value = map.find(key);
  if (value == nullptr) {
    fail(map, fmt::format("missing required key '{}' {}", key, place(path)), std::move(hint));
  }
  return *value;
}

/// An optional section: absent or written empty (`params:`) -> nullptr.
const Node* section(const Node& map, std::string_view key) {
  const Node* value = map.find(key);
  return value == nullptr || value->is_null() ? nullptr : value;
}

void expect_map(const Node& node, const std::string& path, std::string_view what = "a mapping") {
  if (!node.is_map())
    fail(node, fmt::format("{}: expected {}, got {}", path, what, node.describe()));
}

const std::string& text(const Node& node, const std::string& path, std::string_view what) {
  if (!node.is_scalar()) {
    fail(node, fmt::format("{}: expected {}, got {}", path, what, node.describe()));
  }
  return node.scalar;
}

std::string did_you_mean_text(const std::string& suggestion) {
  return suggestion.empty() ? std::string() : "did you mean '" + suggestion + "'?";
}

std::int64_t integer(const Node& node, const std::string& path, std::int64_t min,
                     std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
  const std::string expected = max == std::numeric_limits<std::int64_t>::max()
                                   ? fmt::format("an integer >= {}", min)
                                   : fmt::format("an integer from {} to {}", min, max);
  const std::string& s = text(node, path, expected);
  std::int64_t value = 0;
  const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec == std::errc::result_out_of_range && ptr == end) {
    fail(node, fmt::format("{}: {} is out of range: expected {}", path, s, expected));
  }
  if (ec != std::errc() || ptr != end || begin == end) {
    fail(node, fmt::format("{}: expected {}, got '{}'", path, expected, s));
  }
  if (value < min || value > max) {
    fail(node, fmt::format("{}: expected {}, got {}", path, expected, s));
  }
  return value;
}

double real(const Node& node, const std::string& path, std::optional<double> min,
            std::optional<double> max, std::string_view what = "a number") {
  std::string expected(what);
  if (min && max)
    expected += fmt::format(" from {} to {}", *min, *max);
  else if (min)
    expected += fmt::format(" >= {}", *min);
  else if (max)
    expected += fmt::format(" <= {}", *max);
  const std::string& s = text(node, path, expected);
  double value = 0;
  const char* begin = s.data() + (!s.empty() && s[0] == '+' ? 1 : 0);
  const char* end = s.data() + s.size();
  const bool numeric = begin != end && (std::isdigit(static_cast<unsigned char>(*begin)) ||
                                        *begin == '-' || *begin == '.');
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (!numeric || ec != std::errc() || ptr != end || !std::isfinite(value)) {
    fail(node, fmt::format("{}: expected {}, got '{}'", path, expected, s));
  }
  if ((min && value < *min) || (max && value > *max)) {
    fail(node, fmt::format("{}: expected {}, got {}", path, expected, s));
  }
  return value;
}

bool flag(const Node& node, const std::string& path) {
  const std::string& s = text(node, path, "true or false");
  if (s == "true" || s == "True" || s == "TRUE" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "FALSE" || s == "no" || s == "off") return false;
  fail(node, fmt::format("{}: expected true or false, got '{}'", path, s));
}

enum class Sign { NonNegative, Positive };

/// `whole_run`: a time within the run (duration, at, for, until, start), for the unit guessed
/// when a bare number is written.
Duration duration(const Node& node, const std::string& path, Sign sign, bool whole_run) {
  const std::string bound = sign == Sign::Positive ? "> 0" : ">= 0";
  const std::string& s = text(node, path, "a duration such as '100ms'");
  const std::size_t first = s.find_first_not_of(" \t");
  if (first != std::string::npos && s[first] == '-') {
    fail(node, fmt::format("{}: expected a duration {}, got '{}'", path, bound, s));
  }
  auto parsed = units::parse_duration(s);
  if (!parsed.ok()) {
    if (!parsed.suggestion.empty()) {  // a bare number: guess the unit for this kind of value
      const std::string guess = units::guess_duration(s, whole_run);
      fail(node, fmt::format("{}: expected a duration with a unit, e.g. '{}'", path, guess),
           did_you_mean_text(guess));
    }
    fail(node, fmt::format("{}: {}", path, parsed.error()));
  }
  if (sign == Sign::Positive && parsed.value() <= 0) {
    fail(node, fmt::format("{}: expected a duration {}, got '{}'", path, bound, s));
  }
  return parsed.value();
}

/// `[lo, hi]` or a single duration (lo == hi).
DurationRange range(const Node& node, const std::string& path, Sign sign, bool whole_run) {
  if (node.is_scalar()) {
    const Duration d = duration(node, path, sign, whole_run);
    return DurationRange{d, d};
  }
  if (!node.is_sequence() || node.items.size() != 2) {
    const std::string got =
        node.is_sequence() ? fmt::format("a list of {} items", node.items.size()) : node.describe();
    fail(node, fmt::format("{}: expected a duration or a range [lo, hi] such as [150ms, 300ms], "
                           "got {}",
                           path, got));
  }
  DurationRange r;
  r.lo = duration(node.items[0], path, sign, whole_run);
  r.hi = duration(node.items[1], path, sign, whole_run);
  if (r.lo > r.hi) {
    fail(node,
         fmt::format("{}: the range [{}, {}] has lo > hi", path, node.items[0].scalar,
                     node.items[1].scalar),
         fmt::format("did you mean '[{}, {}]'?", node.items[1].scalar, node.items[0].scalar));
  }
  return r;
}

double probability(const Node& node, const std::string& path) {
  const std::string& s = text(node, path, "a probability such as 0.1 or 10%");
  auto parsed = units::parse_probability(s);
  if (!parsed.ok()) {
    fail(node, fmt::format("{}: {}", path, parsed.error()), did_you_mean_text(parsed.suggestion));
  }
  return parsed.value();
}

double bandwidth(const Node& node, const std::string& path) {
  const std::string& s = text(node, path, "a bandwidth such as '1Gbps' or '125MB/s'");
  auto parsed = units::parse_bandwidth(s);
  if (!parsed.ok()) {
    fail(node, fmt::format("{}: {}", path, parsed.error()), did_you_mean_text(parsed.suggestion));
  }
  if (parsed.value() <= 0)
    fail(node, fmt::format("{}: expected a bandwidth > 0, got '{}'", path, s));
  return parsed.value();
}

double speed(const Node& node, const std::string& path) {
  const std::string& s = text(node, path, "a speed such as '2Gf'");
  auto parsed = units::parse_speed(s);
  if (!parsed.ok()) fail(node, fmt::format("{}: {}", path, parsed.error()));
  if (parsed.value() <= 0) fail(node, fmt::format("{}: expected a speed > 0, got '{}'", path, s));
  return parsed.value();
}

/// One of `choices`, with did-you-mean.
std::string choice(const Node& node, const std::string& path,
                   const std::vector<std::string>& choices) {
  const std::string& s = text(node, path, "one of " + join(choices));
  if (contains(choices, s)) return s;
  std::string suggestion = did_you_mean(s, choices);
  if (suggestion.empty()) suggestion = "expected one of " + join(choices);
  fail(node, fmt::format("{}: unknown value '{}'", path, s), suggestion);
}

const char* topology_name(Topology t) {
  switch (t) {
    case Topology::Star:
      return "star";
    case Topology::Racks:
      return "racks";
    case Topology::TwoSwitch:
      return "two-switch";
  }
  return "?";
}

/// The items of a "one string or a list of strings" node.
std::vector<const Node*> string_items(const Node& node) {
  std::vector<const Node*> items;
  if (node.is_sequence()) {
    for (const auto& item : node.items) items.push_back(&item);
  } else {
    items.push_back(&node);
  }
  return items;
}

class Loader {
 public:
  explicit Loader(std::string file) { scenario_.file = std::move(file); }

  Scenario load(const Node& root) {
    check_keys(root, kTopLevelKeys, "");
    const std::vector<std::pair<std::string, std::string>> required = {
        {"name", "a short id such as 'name: raft-leader-crash'"},
        {"description", "what a reader should watch for"},
        {"protocol", "implemented: " + implemented_protocols()},
        {"duration", "the simulated time limit, e.g. 'duration: 10s'"},
        {"cluster", "e.g. 'cluster: {nodes: 5}'"},
    };
    for (const auto& [key, hint] : required) require(root, key, "", hint);

    parse_name(*root.find("name"));
    parse_description(*root.find("description"));
    parse_protocol(*root.find("protocol"));
    if (const Node* seed = root.find("seed")) {
      scenario_.seed = parse_seed(*seed);
    }
    scenario_.duration = duration(*root.find("duration"), "duration", Sign::Positive, true);
    parse_cluster(*root.find("cluster"));
    if (scenario_.protocol == "mapreduce") check_mapreduce_shape(root);
    parse_workload(section(root, "workload"));
    check_server_names_against_clients();
    parse_params(section(root, "params"));
    if (scenario_.protocol == "mapreduce") resolve_mapreduce_input(root, section(root, "params"));
    parse_faults(section(root, "faults"));
    parse_checks(root.find("checks"));
    if (const Node* budget = root.find("checks_budget")) {
      scenario_.checks_budget = duration(*budget, "checks_budget", Sign::Positive, false);
    }
    if (const Node* expect = section(root, "expect")) {
      const auto items = string_items(*expect);
      for (std::size_t i = 0; i < items.size(); ++i) {
        const std::string path = expect->is_sequence() ? fmt::format("expect.{}", i) : "expect";
        scenario_.expect.push_back(parse_expectation(*items[i], path));
      }
    }
    if (const Node* stop_when = root.find("stop_when")) {
      scenario_.stop_when = parse_expectation(*stop_when, "stop_when");
    }
    build_effective();
    return std::move(scenario_);
  }

 private:
  static std::string implemented_protocols() {
    std::vector<std::string> names;
    for (const auto& p : protocols())
      if (p.implemented) names.push_back(p.name);
    return join(names);
  }

  void parse_name(const Node& node) {
    const std::string& s = text(node, "name", "a name such as 'raft-leader-crash'");
    if (!matches_charset(s, "-")) {
      std::string fixed = lower_dashed(s);
      fail(node,
           fmt::format("name: '{}' is not a valid name: use lowercase letters, digits and '-' "
                       "([a-z0-9-]+)",
                       s),
           fixed.empty() ? std::string() : did_you_mean_text(fixed));
    }
    scenario_.name = s;
  }

  void parse_description(const Node& node) {
    const std::string& s = text(node, "description", "a description of what to watch for");
    if (s.find_first_not_of(" \t\r\n") == std::string::npos) {
      fail(node, "description: expected a non-empty description of what a reader should watch for");
    }
    scenario_.description = s;
  }

  void parse_protocol(const Node& node) {
    std::vector<std::string> names;
    for (const auto& p : protocols()) names.push_back(p.name);
    const std::string& s = text(node, "protocol", "a protocol name such as 'raft'");
    protocol_ = find_protocol(s);
    if (protocol_ == nullptr) {
      std::string suggestion = did_you_mean(s, names);
      if (suggestion.empty()) suggestion = "known protocols: " + join(names);
      fail(node, fmt::format("unknown protocol '{}'", s), suggestion);
    }
    if (!protocol_->implemented) {
      fail(node, fmt::format("protocol '{}' is not implemented yet", s),
           "implemented: " + implemented_protocols());
    }
    scenario_.protocol = s;
  }

  static std::uint64_t parse_seed(const Node& node) {
    const std::string& s = text(node, "seed", "an integer >= 0");
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec == std::errc::result_out_of_range) {
      fail(node, fmt::format("seed: {} is out of range: expected an integer from 0 to {}", s,
                             std::numeric_limits<std::uint64_t>::max()));
    }
    if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) {
      fail(node, fmt::format("seed: expected an integer >= 0, got '{}'", s));
    }
    return value;
  }

  // ---- cluster -------------------------------------------------------------------------------

  void parse_cluster(const Node& node) {
    expect_map(node, "cluster", "a mapping such as {nodes: 5}");
    check_keys(node, kClusterKeys, "cluster");
    ClusterSpec& c = scenario_.cluster;
    const Node* nodes = node.find("nodes");
    const Node* names = node.find("names");
    if (nodes == nullptr && names == nullptr) {
      fail(node, "missing required key 'nodes' in cluster",
           "the number of servers, e.g. 'nodes: 5', or their names, e.g. 'names: [a, b, c]'");
    }
    if (names != nullptr) parse_server_names(*names);
    if (nodes != nullptr) {
      const std::int64_t n = integer(*nodes, "cluster.nodes", 1, kMaxServers);
      if (names != nullptr && static_cast<std::size_t>(n) != c.server_names.size()) {
        fail(*nodes,
             fmt::format("cluster.nodes is {} but cluster.names lists {} servers", n,
                         c.server_names.size()),
             "give only one of them");
      }
      if (names == nullptr) {
        default_names_ = true;
        for (std::int64_t i = 1; i <= n; ++i) c.server_names.push_back(fmt::format("n{}", i));
      }
    }

    if (const Node* topology = node.find("topology")) {
      const std::string t = choice(*topology, "cluster.topology", kTopologies);
      if (t == "two-switch") {
        fail(*topology, "cluster.topology: 'two-switch' is not implemented yet",
             "implemented: star, racks");
      }
      c.topology = t == "racks" ? Topology::Racks : Topology::Star;
    }
    const Node* racks = node.find("racks");
    if (c.topology == Topology::Racks) {
      if (racks == nullptr) {
        fail(node, "missing required key 'racks' in cluster (topology racks)",
             "e.g. 'racks: {racks: 4, hosts_per_rack: 8, uplink: 10Gbps, core: 40Gbps}'");
      }
      c.racks = parse_racks(*racks);
    } else if (racks != nullptr) {
      fail(*node.find_key("racks"), "cluster.racks is only used with 'topology: racks'",
           "add 'topology: racks' or remove 'racks'");
    }
    if (const Node* v = node.find("latency"))
      c.latency = duration(*v, "cluster.latency", Sign::NonNegative, false);
    if (const Node* v = node.find("bandwidth"))
      c.bandwidth_bytes_s = bandwidth(*v, "cluster.bandwidth");
    if (const Node* v = node.find("speed")) c.speed_flops = speed(*v, "cluster.speed");
    if (const Node* v = node.find("message_cost")) {
      const std::string& s = text(*v, "cluster.message_cost", "an amount of work such as '10Kf'");
      auto parsed = units::parse_speed(s);  // the same units (f, Kf, Mf, ...), an amount here
      if (!parsed.ok()) fail(*v, fmt::format("cluster.message_cost: {}", parsed.error()));
      c.message_cost_flops = parsed.value();
    }
    if (const Node* v = node.find("disk")) {
      expect_map(*v, "cluster.disk", "a mapping such as {read: 30MB/s, write: 30MB/s}");
      check_keys(*v, kDiskKeys, "cluster.disk");
      DiskSpec disk;
      if (const Node* r = v->find("read")) disk.read_bytes_s = bandwidth(*r, "cluster.disk.read");
      if (const Node* w = v->find("write"))
        disk.write_bytes_s = bandwidth(*w, "cluster.disk.write");
      if (const Node* s = v->find("sync_latency"))
        disk.sync_latency = range(*s, "cluster.disk.sync_latency", Sign::NonNegative, false);
      if (const Node* a = v->find("access_time"))
        disk.access_time = duration(*a, "cluster.disk.access_time", Sign::NonNegative, false);
      c.disk = disk;
    }
    if (const Node* v = node.find("network_model"))
      c.network_model = choice(*v, "cluster.network_model", kNetworkModels);
    if (const Node* v = node.find("processing"))
      c.processing = range(*v, "cluster.processing", Sign::NonNegative, false);
  }

  void parse_server_names(const Node& node) {
    if (!node.is_sequence() || node.items.empty()) {
      fail(node, fmt::format("cluster.names: expected a non-empty list of server names such as "
                             "[a, b, c], got {}",
                             node.describe()));
    }
    if (static_cast<std::int64_t>(node.items.size()) > kMaxServers) {
      fail(node, fmt::format("cluster.names: at most {} servers", kMaxServers));
    }
    std::map<std::string, SourceLoc> seen;
    for (const auto& item : node.items) {
      const std::string& name = text(item, "cluster.names", "a server name such as 'a'");
      if (!matches_charset(name, "_-")) {
        fail(item, fmt::format("cluster.names: '{}' is not a valid server name: use lowercase "
                               "letters, digits, '_' and '-' ([a-z0-9_-]+)",
                               name));
      }
      if (is_role_word(name)) {
        fail(item,
             fmt::format("cluster.names: '{}' is a role word: a server cannot be called "
                         "that (targets would be ambiguous)",
                         name),
             "choose another name");
      }
      auto [it, inserted] = seen.emplace(name, item.loc);
      if (!inserted) {
        fail(item, fmt::format("cluster.names: '{}' is listed twice (first at {}:{})", name,
                               it->second.line, it->second.column));
      }
      scenario_.cluster.server_names.push_back(name);
      name_nodes_.push_back(&item);
    }
  }

  bool is_role_word(const std::string& s) const {
    return contains(protocol_->roles, s) || contains(kGenericRoles, s) || random_n(s).has_value() ||
           role_n(s, protocol_->roles).has_value();
  }

  RacksSpec parse_racks(const Node& node) {
    expect_map(node, "cluster.racks",
               "a mapping such as {racks: 4, hosts_per_rack: 8, uplink: 10Gbps, core: 40Gbps}");
    check_keys(node, kRacksKeys, "cluster.racks");
    RacksSpec r;
    r.racks = static_cast<int>(
        integer(require(node, "racks", "cluster.racks"), "cluster.racks.racks", 1, kMaxServers));
    r.hosts_per_rack = static_cast<int>(integer(require(node, "hosts_per_rack", "cluster.racks"),
                                                "cluster.racks.hosts_per_rack", 1, kMaxServers));
    r.uplink_bytes_s = bandwidth(require(node, "uplink", "cluster.racks"), "cluster.racks.uplink");
    r.core_bytes_s = bandwidth(require(node, "core", "cluster.racks"), "cluster.racks.core");
    const std::int64_t hosts = static_cast<std::int64_t>(r.racks) * r.hosts_per_rack;
    const std::size_t servers = scenario_.cluster.server_names.size();
    if (hosts < static_cast<std::int64_t>(servers)) {
      fail(node,
           fmt::format("cluster.racks: {} racks x {} hosts = {} hosts, fewer than the {} "
                       "servers",
                       r.racks, r.hosts_per_rack, hosts, servers),
           "add racks or hosts_per_rack");
    }
    return r;
  }

  // ---- workload ------------------------------------------------------------------------------

  void parse_workload(const Node* node) {
    WorkloadSpec& w = scenario_.workload;
    const auto& ops_allowed = protocol_->workload_ops;
    if (contains(ops_allowed, "get") && contains(ops_allowed, "put")) {
      w.mix = {{"get", 0.5}, {"put", 0.5}};
    } else if (!ops_allowed.empty()) {
      w.mix = {{ops_allowed.front(), 1.0}};
    }
    if (node != nullptr) {
      expect_map(*node, "workload", "a mapping such as {clients: 3, ops: 500}");
      check_keys(*node, kWorkloadKeys, "workload");
      if (const Node* v = node->find("clients"))
        w.clients = static_cast<int>(integer(*v, "workload.clients", 0, kMaxClients));
      const Node* ops = node->find("ops");
      const Node* rate = node->find("rate");
      if (ops != nullptr && rate != nullptr) {
        // Locate the error at whichever of the two comes second in the file.
        const Node* second = node->find_key("rate");
        const Node* first = node->find_key("ops");
        if (second->loc.line < first->loc.line ||
            (second->loc.line == first->loc.line && second->loc.column < first->loc.column))
          std::swap(first, second);
        fail(*second,
             "workload: give either 'ops' (operations per client, closed loop) or 'rate' "
             "(operations per second, open loop), not both");
      }
      if (ops != nullptr) w.ops = integer(*ops, "workload.ops", 1);
      if (rate != nullptr) {
        const std::string& s = text(*rate, "workload.rate", "a rate such as '200/s'");
        auto parsed = units::parse_rate(s);
        if (!parsed.ok()) {
          fail(*rate, "workload.rate: " + parsed.error(), did_you_mean_text(parsed.suggestion));
        }
        if (parsed.value() <= 0)
          fail(*rate, fmt::format("workload.rate: expected a rate > 0, got '{}'", s));
        w.rate_per_s = parsed.value();
      }
      if (w.clients > 0 && ops == nullptr && rate == nullptr) {
        fail(*node, "missing required key 'ops' or 'rate' in workload",
             "'ops: 500' (operations per client) or 'rate: 200/s' (open loop)");
      }
      if (const Node* mix = node->find("mix")) parse_mix(*mix);
      if (const Node* v = node->find("keys"))
        w.keys = static_cast<int>(integer(*v, "workload.keys", 1, 1'000'000'000));
      if (const Node* v = node->find("rpc_timeout"))
        w.rpc_timeout = duration(*v, "workload.rpc_timeout", Sign::Positive, false);
      if (const Node* v = node->find("client_timeout"))
        w.client_timeout = duration(*v, "workload.client_timeout", Sign::Positive, false);
      if (const Node* v = node->find("start")) {
        w.start = duration(*v, "workload.start", Sign::NonNegative, true);
        if (w.start > scenario_.duration) {
          fail(*v, fmt::format("workload.start {} is after the end of the run (duration {})",
                               units::format_duration(w.start),
                               units::format_duration(scenario_.duration)));
        }
      }
    }
    for (int i = 1; i <= w.clients; ++i) clients_.push_back(fmt::format("c{}", i));
  }

  void parse_mix(const Node& node) {
    expect_map(node, "workload.mix",
               "a mapping of operation to weight such as {get: 0.5, put: 0.5}");
    check_keys(node, protocol_->workload_ops, "workload.mix");
    if (node.entries.empty()) {
      fail(node, "workload.mix: expected at least one operation",
           "valid operations: " + join(protocol_->workload_ops));
    }
    std::vector<std::pair<std::string, double>> mix;
    double sum = 0;
    for (const auto& [key, value] : node.entries) {
      const double weight =
          real(value, "workload.mix." + key.scalar, 0.0, std::nullopt, "a weight");
      mix.emplace_back(key.scalar, weight);
      sum += weight;
    }
    if (!(sum > 0))
      fail(node, "workload.mix: the weights sum to 0: expected at least one weight > 0");
    scenario_.workload.mix = std::move(mix);
  }

  void check_server_names_against_clients() {
    for (const Node* item : name_nodes_) {
      if (contains(clients_, item->scalar)) {
        fail(*item,
             fmt::format("cluster.names: '{}' is also the name of a client (clients are c1..c{})",
                         item->scalar, clients_.size()),
             "choose another server name");
      }
    }
  }

  // ---- mapreduce -----------------------------------------------------------------------------

  /// A coordinator and at least one worker; no client workload (the job's input is the data).
  void check_mapreduce_shape(const Node& root) const {
    const Node& cluster = *root.find("cluster");
    const std::size_t servers = scenario_.cluster.server_names.size();
    if (servers < 2) {
      const Node* at = cluster.find("nodes") != nullptr ? cluster.find("nodes") : cluster.find("names");
      fail(*at,
           fmt::format("cluster.nodes: mapreduce needs at least 2 servers (the first runs the "
                       "coordinator, the others are workers), got {}",
                       servers),
           "e.g. 'nodes: 4': a coordinator and 3 workers");
    }
    if (const Node* workload = root.find_key("workload"); workload != nullptr && section(root, "workload")) {
      const Node& body = *section(root, "workload");
      const Node* clients = body.is_map() ? body.find_key("clients") : nullptr;
      fail(clients != nullptr ? *clients : *workload,
           "workload: mapreduce has no clients: the job reads params.input (real mode) or "
           "params.input_size (modelled mode)",
           "remove 'workload' and give the input under params");
    }
  }

  /// Real mode: params.input names files relative to the scenario file's directory; each must
  /// exist and be readable now (a missing file is bad input, exit 2).
  void resolve_mapreduce_input(const Node& root, const Node* params) {
    const bool real = !scenario_.params.has("payload") || scenario_.params.text("payload") == "real";
    // The aggregated shuffle moves sizes between racks, never key/value pairs: with real
    // payloads the reducers would get no data.
    if (real && scenario_.params.has("shuffle") && scenario_.params.text("shuffle") == "aggregated") {
      const Node* shuffle = params != nullptr ? params->find("shuffle") : nullptr;
      const Node* at = shuffle != nullptr ? shuffle : params != nullptr ? params : root.find("protocol");
      fail(*at, "params.shuffle: 'aggregated' needs 'payload: modelled' (it moves sizes, not key/value pairs)",
           "use 'shuffle: per-fetch' with real input, or 'payload: modelled' with 'input_size'");
    }
    if (!scenario_.params.has("input")) return;
    const auto& names = scenario_.params.list("input");
    const Node* input = params != nullptr ? params->find("input") : nullptr;
    if (real && names.empty()) {
      const Node* at = input != nullptr ? input : params != nullptr ? params : root.find("protocol");
      fail(*at, "params.input: real mode needs at least one input file",
           "e.g. 'input: [../../data/mapreduce/texts/harbour.txt]' (paths relative to the "
           "scenario file), or 'payload: modelled' with 'input_size'");
    }
    const std::filesystem::path base = std::filesystem::path(scenario_.file).parent_path();
    std::vector<const Node*> items;
    if (input != nullptr) items = string_items(*input);
    for (std::size_t i = 0; i < names.size(); ++i) {
      const std::filesystem::path written(names[i]);
      const std::string resolved =
          (written.is_absolute() ? written : base / written).lexically_normal().string();
      std::string problem;
      std::error_code ec;
      if (!std::filesystem::exists(resolved, ec)) {
        problem = "no such file";
      } else if (std::filesystem::is_directory(resolved, ec)) {
        problem = "it is a directory";
      } else {
        std::ifstream in(resolved, std::ios::binary);
        if (!in) problem = std::strerror(errno);
      }
      if (!problem.empty()) {
        const Node* at = i < items.size() ? items[i] : (input != nullptr ? input : params);
        const std::string message =
            fmt::format("params.input: cannot read '{}' (resolved to '{}'): {}", names[i], resolved,
                        problem);
        const std::string hint = "input paths are relative to the scenario file's directory";
        if (at != nullptr) fail(*at, message, hint);
        fail(SourceLoc{scenario_.file, 1, 1}, message, hint);
      }
      scenario_.input_paths.push_back(resolved);
    }
  }

  // ---- params --------------------------------------------------------------------------------

  void parse_params(const Node* node) {
    std::vector<std::string> valid;
    for (const auto& spec : protocol_->params) valid.push_back(spec.name);
    if (node != nullptr) {
      expect_map(*node, "params", "a mapping of parameter to value");
      if (valid.empty() && !node->entries.empty()) {
        fail(node->entries.front().first,
             fmt::format("unknown key '{}' in params", node->entries.front().first.scalar),
             fmt::format("{} has no params", protocol_->name));
      }
      check_keys(*node, valid, "params");
    }
    for (const auto& spec : protocol_->params) {
      const std::string path = "params." + spec.name;
      const Node* value = node != nullptr ? node->find(spec.name) : nullptr;
      Node fallback;
      if (value == nullptr) {
        // The default goes through the same code path as a written value.
        fallback = yaml::parse(spec.default_yaml, "<default of " + path + ">");
        value = &fallback;
      }
      scenario_.params.set(spec.name, param_value(spec, *value, path));
    }
  }

  static void check_bounds(const Node& node, const std::string& path, const ParamSpec& spec,
                           double value, const std::function<std::string(double)>& show) {
    if (spec.min && value < *spec.min) {
      if (spec.type == ParamType::Duration || spec.type == ParamType::DurationRange) {
        if (*spec.min == 1.0)
          fail(node, fmt::format("{}: expected a duration > 0, got '{}'", path, node.scalar));
      }
      fail(node, fmt::format("{}: expected a value >= {}, got {}", path, show(*spec.min),
                             node.is_scalar() ? "'" + node.scalar + "'" : node.describe()));
    }
    if (spec.max && value > *spec.max) {
      fail(node, fmt::format("{}: expected a value <= {}, got {}", path, show(*spec.max),
                             node.is_scalar() ? "'" + node.scalar + "'" : node.describe()));
    }
  }

  static ParamValue param_value(const ParamSpec& spec, const Node& node, const std::string& path) {
    auto show_duration = [](double ns) { return units::format_duration(std::llround(ns)); };
    auto show_number = [](double v) { return fmt::format("{}", v); };
    switch (spec.type) {
      case ParamType::Duration: {
        const Duration d = duration(node, path, Sign::NonNegative, false);
        check_bounds(node, path, spec, static_cast<double>(d), show_duration);
        return ParamValue(std::in_place_index<kParamDurationIndex>, d);
      }
      case ParamType::DurationRange: {
        const DurationRange r = range(node, path, Sign::NonNegative, false);
        const Node& lo_node = node.is_sequence() ? node.items[0] : node;
        const Node& hi_node = node.is_sequence() ? node.items[1] : node;
        check_bounds(lo_node, path, spec, static_cast<double>(r.lo), show_duration);
        check_bounds(hi_node, path, spec, static_cast<double>(r.hi), show_duration);
        return r;
      }
      case ParamType::Integer: {
        const auto lo = spec.min ? static_cast<std::int64_t>(std::ceil(*spec.min))
                                 : std::numeric_limits<std::int64_t>::min();
        const auto hi = spec.max ? static_cast<std::int64_t>(std::floor(*spec.max))
                                 : std::numeric_limits<std::int64_t>::max();
        return ParamValue(std::in_place_index<kParamIntegerIndex>, integer(node, path, lo, hi));
      }
      case ParamType::Real:
        return real(node, path, spec.min, spec.max);
      case ParamType::Probability: {
        const double p = probability(node, path);
        check_bounds(node, path, spec, p, show_number);
        return p;
      }
      case ParamType::Bool:
        return flag(node, path);
      case ParamType::String: {
        if (!spec.choices.empty()) return choice(node, path, spec.choices);
        return text(node, path, "a string");
      }
      case ParamType::StringList: {
        if (!node.is_sequence() && !node.is_scalar()) {
          fail(node, fmt::format("{}: expected a list of strings, got {}", path, node.describe()));
        }
        std::vector<std::string> list;
        for (const Node* item : string_items(node)) {
          list.push_back(spec.choices.empty() ? text(*item, path, "a string")
                                              : choice(*item, path, spec.choices));
        }
        return list;
      }
      case ParamType::Size: {
        const std::string& s = text(node, path, "a size such as '64MB'");
        auto parsed = units::parse_size(s);
        if (!parsed.ok()) {
          fail(node, fmt::format("{}: {}", path, parsed.error()),
               did_you_mean_text(parsed.suggestion));
        }
        check_bounds(node, path, spec, static_cast<double>(parsed.value()),
                     [](double v) { return units::format_size(static_cast<std::uint64_t>(v)); });
        return parsed.value();
      }
      case ParamType::Bandwidth: {
        const double b = bandwidth(node, path);
        check_bounds(node, path, spec, b, [](double v) { return units::format_bandwidth(v); });
        return b;
      }
    }
    fail(node, fmt::format("{}: unsupported parameter type", path));
  }

  // ---- targets -------------------------------------------------------------------------------

  /// Servers, and clients where `allow_clients`; roles are always allowed.
  void check_target_item(const Node& item, const std::string& path, bool allow_clients) const {
    const std::string& s = text(item, path, "a node name or a role such as 'leader'");
    const auto& servers = scenario_.cluster.server_names;
    if (contains(servers, s)) return;
    if (contains(clients_, s)) {
      if (allow_clients) return;
      fail(item, fmt::format("{}: '{}' is a client: {}", path, s,
                             path.find("nemesis") != std::string::npos
                                 ? "the nemesis acts on servers only"
                                 : "only a server can be elected"));
    }
    if (contains(protocol_->roles, s) || contains(kGenericRoles, s)) return;
    if (auto n = random_n(s)) {
      if (*n < 1)
        fail(item, fmt::format("{}: '{}' selects no server", path, s), "did you mean 'random-1'?");
      if (*n > static_cast<std::int64_t>(servers.size())) {
        fail(item,
             fmt::format("{}: '{}' asks for {} servers but the cluster has {}", path, s, *n,
                         servers.size()),
             fmt::format("at most 'random-{}'", servers.size()));
      }
      return;
    }
    if (auto counted = role_n(s, protocol_->roles)) {
      const auto& [role, n] = *counted;
      if (n < 1)
        fail(item, fmt::format("{}: '{}' selects no server", path, s),
             fmt::format("did you mean '{}-1'?", role));
      if (n > static_cast<std::int64_t>(servers.size())) {
        fail(item,
             fmt::format("{}: '{}' asks for {} servers but the cluster has {}", path, s, n,
                         servers.size()),
             fmt::format("at most '{}-{}'", role, servers.size()));
      }
      return;
    }
    std::string suggestion;
    if (auto n = numbered(s, 'n'); n && default_names_) {
      suggestion = fmt::format("the servers are n1..n{}", servers.size());
    } else if (auto c = numbered(s, 'c')) {
      suggestion = clients_.empty() ? "there are no clients: workload.clients is 0"
                                    : fmt::format("the clients are c1..c{}", clients_.size());
    } else {
      std::vector<std::string> candidates = servers;
      if (allow_clients) candidates.insert(candidates.end(), clients_.begin(), clients_.end());
      candidates.insert(candidates.end(), protocol_->roles.begin(), protocol_->roles.end());
      candidates.insert(candidates.end(), kGenericRoles.begin(), kGenericRoles.end());
      suggestion = did_you_mean(s, candidates);
    }
    if (suggestion.empty()) {
      std::vector<std::string> roles = protocol_->roles;
      for (const auto& r : protocol_->roles) roles.push_back(r + "-N");
      roles.insert(roles.end(), {"random", "random-N", "crashed", "all"});
      suggestion =
          fmt::format("expected a server name ({}) or a role: {}", server_range(), join(roles));
    }
    fail(item, fmt::format("{}: unknown node or role '{}'", path, s), suggestion);
  }

  std::string server_range() const {
    const auto& servers = scenario_.cluster.server_names;
    if (default_names_) return fmt::format("n1..n{}", servers.size());
    if (servers.size() <= 6) return join(servers);
    return fmt::format("{}, {}, ..., {}", servers[0], servers[1], servers.back());
  }

  TargetSpec target(const Node& node, const std::string& path, bool allow_clients) const {
    if (!node.is_scalar() && !node.is_sequence()) {
      fail(node, fmt::format("{}: expected a node name, a role or a list of them, got {}", path,
                             node.describe()));
    }
    if (node.is_sequence() && node.items.empty()) {
      fail(node,
           fmt::format("{}: expected at least one node name or role, got an empty list", path));
    }
    TargetSpec t;
    t.loc = node.loc;
    for (const Node* item : string_items(node)) {
      check_target_item(*item, path, allow_clients);
      t.items.push_back(item->scalar);
    }
    return t;
  }

  // ---- faults --------------------------------------------------------------------------------

  void parse_faults(const Node* node) {
    if (node == nullptr) return;
    if (!node->is_sequence()) {
      fail(*node, fmt::format("faults: expected a list of faults (each '- at: 2s' and one fault "
                              "such as 'crash: leader'), got {}",
                              node->describe()));
    }
    std::vector<std::string> fault_keys = {"at", "for"};
    fault_keys.insert(fault_keys.end(), kFaultKindNames.begin(), kFaultKindNames.end());
    for (std::size_t i = 0; i < node->items.size(); ++i) {
      const Node& item = node->items[i];
      const std::string path = fmt::format("faults.{}", i);
      expect_map(item, path, "a fault such as {at: 2s, crash: leader}");
      check_keys(item, fault_keys, path);
      scenario_.faults.push_back(parse_fault(item, path, static_cast<int>(i)));
      fault_specs_.push_back(scenario_.faults.back().spec);
    }
    std::stable_sort(scenario_.faults.begin(), scenario_.faults.end(),
                     [](const FaultSpec& a, const FaultSpec& b) { return a.at.lo < b.at.lo; });
  }

  FaultSpec parse_fault(const Node& item, const std::string& path, int index) {
    FaultSpec f;
    f.index = index;
    f.loc = item.loc;
    f.spec = yaml::to_json(item);

    const Node* kind_key = nullptr;
    for (const auto& [key, value] : item.entries) {
      if (!contains(kFaultKindNames, key.scalar)) continue;
      if (kind_key != nullptr) {
        fail(key,
             fmt::format("{}: one fault per item, but this one has both '{}' and '{}'", path,
                         kind_key->scalar, key.scalar),
             "write them as two items with the same 'at'");
      }
      kind_key = &key;
    }
    if (kind_key == nullptr) {
      fail(item,
           fmt::format("{}: expected one fault ({}) beside 'at'", path, join(kFaultKindNames)));
    }
    const Node& at = require(item, "at", path, "when the fault fires, e.g. 'at: 2s'");
    f.at = range(at, path + ".at", Sign::NonNegative, true);
    if (f.at.hi > scenario_.duration) {
      const std::string when = f.at.lo == f.at.hi
                                   ? units::format_duration(f.at.hi)
                                   : fmt::format("[{}, {}]", units::format_duration(f.at.lo),
                                                 units::format_duration(f.at.hi));
      fail(at,
           fmt::format("fault at {} is after the end of the run (duration {})", when,
                       units::format_duration(scenario_.duration)),
           "move it earlier or raise 'duration'");
    }

    const std::string kind = kind_key->scalar;
    const Node& body = *item.find(kind);
    const std::string body_path = child(path, kind);
    f.kind = static_cast<FaultKind>(
        std::find(kFaultKindNames.begin(), kFaultKindNames.end(), kind) - kFaultKindNames.begin());
    switch (f.kind) {
      case FaultKind::Crash:
      case FaultKind::Restart:
      case FaultKind::Isolate:
      case FaultKind::Heal:
        f.target = target(body, body_path, true);
        break;
      case FaultKind::Elect:
      case FaultKind::Heartbeat:
        f.target = target(body, body_path, false);
        break;
      case FaultKind::Partition:
        f.groups = parse_partition(body, body_path);
        break;
      case FaultKind::Cut: {
        expect_map(body, body_path, "a mapping such as {from: n1, to: n2}");
        check_keys(body, kCutKeys, body_path);
        f.cut_from = target(require(body, "from", body_path), child(body_path, "from"), true);
        f.cut_to = target(require(body, "to", body_path), child(body_path, "to"), true);
        break;
      }
      case FaultKind::Slow:
        f.slow = parse_slow(body, body_path);
        break;
      case FaultKind::Network:
        f.network = parse_network(body, body_path);
        break;
      case FaultKind::Nemesis:
        f.nemesis = parse_nemesis(body, body_path, f.at);
        break;
    }

    if (const Node* for_node = item.find("for")) {
      const Node& for_key = *item.find_key("for");
      std::string why;
      switch (f.kind) {
        case FaultKind::Heal:
          why = "heal undoes nothing";
          break;
        case FaultKind::Restart:
          why = "restart undoes nothing (crash with 'for:' restarts)";
          break;
        case FaultKind::Elect:
          why = "elect undoes nothing";
          break;
        case FaultKind::Heartbeat:
          why = "heartbeat undoes nothing";
          break;
        case FaultKind::Nemesis:
          why = "nemesis undoes its faults itself at 'until'";
          break;
        case FaultKind::Network:
          if (f.network.reliable) why = "'network: reliable' undoes nothing";
          break;
        default:
          break;
      }
      if (!why.empty()) {
        fail(for_key, fmt::format("{}: 'for' cannot be used with {}: {}", path, kind, why),
             "remove 'for'");
      }
      f.for_duration = duration(*for_node, path + ".for", Sign::Positive, true);
    }
    return f;
  }

  std::vector<TargetSpec> parse_partition(const Node& node, const std::string& path) const {
    if (!node.is_sequence() || node.items.size() < 2) {
      const std::string got = node.is_sequence()
                                  ? fmt::format("a list of {} group", node.items.size())
                                  : node.describe();
      fail(node, fmt::format("{}: expected a list of at least 2 groups such as [[n1, n2], [n3, "
                             "n4, n5]], got {}",
                             path, got));
    }
    std::vector<TargetSpec> groups;
    struct Seen {
      std::size_t group;
      SourceLoc loc;
    };
    std::map<std::string, Seen> seen;
    for (std::size_t g = 0; g < node.items.size(); ++g) {
      const Node& group = node.items[g];
      groups.push_back(target(group, path, true));
      for (const Node* item : string_items(group)) {
        const std::string& name = item->scalar;
        if (!contains(scenario_.cluster.server_names, name) && !contains(clients_, name)) continue;
        auto [it, inserted] = seen.emplace(name, Seen{g, item->loc});
        if (!inserted && it->second.group != g) {
          fail(*item,
               fmt::format("{}: node '{}' is in two groups: group {} (at {}:{}) and group {}", path,
                           name, it->second.group + 1, it->second.loc.line, it->second.loc.column,
                           g + 1),
               "a node belongs to one group only");
        }
      }
    }
    return groups;
  }

  SlowSpec parse_slow(const Node& node, const std::string& path) const {
    expect_map(node, path, "a mapping such as {node: n3, cpu: 10}");
    check_keys(node, kSlowKeys, path);
    SlowSpec s;
    s.node = target(require(node, "node", path, "the node to slow down, e.g. 'node: n3'"),
                    child(path, "node"), true);
    if (!node.find("cpu") && !node.find("disk") && !node.find("latency")) {
      fail(node, fmt::format("{}: expected at least one of cpu, disk, latency", path),
           "e.g. {node: n3, cpu: 10} divides n3's CPU speed by 10");
    }
    if (const Node* v = node.find("cpu"))
      s.cpu = real(*v, child(path, "cpu"), 1.0, std::nullopt, "a factor");
    if (const Node* v = node.find("disk"))
      s.disk = real(*v, child(path, "disk"), 1.0, std::nullopt, "a factor");
    if (const Node* v = node.find("latency"))
      s.latency = duration(*v, child(path, "latency"), Sign::NonNegative, false);
    return s;
  }

  NetworkSpec parse_network(const Node& node, const std::string& path) const {
    NetworkSpec n;
    if (node.is_scalar()) {
      if (node.scalar == "reliable") {
        n.reliable = true;
        return n;
      }
      fail(node,
           fmt::format("{}: expected 'reliable' or a mapping such as {{drop: 10%}}, got {}", path,
                       node.describe()),
           did_you_mean(node.scalar, {"reliable"}));
    }
    expect_map(node, path, "'reliable' or a mapping such as {drop: 10%}");
    check_keys(node, kNetworkKeys, path);
    if (!node.find("drop") && !node.find("duplicate") && !node.find("delay") &&
        !node.find("long_delay")) {
      fail(node,
           fmt::format("{}: expected at least one of drop, duplicate, delay, long_delay", path),
           "'network: reliable' restores a reliable network");
    }
    if (const Node* v = node.find("from")) n.from = target(*v, child(path, "from"), true);
    if (const Node* v = node.find("to")) n.to = target(*v, child(path, "to"), true);
    if (const Node* v = node.find("drop")) n.drop = probability(*v, child(path, "drop"));
    if (const Node* v = node.find("duplicate"))
      n.duplicate = probability(*v, child(path, "duplicate"));
    if (const Node* v = node.find("delay"))
      n.delay = range(*v, child(path, "delay"), Sign::NonNegative, false);
    if (const Node* v = node.find("long_delay")) {
      const std::string ld = child(path, "long_delay");
      expect_map(*v, ld, "a mapping such as {p: 66%, delay: [200ms, 2200ms]}");
      check_keys(*v, kLongDelayKeys, ld);
      LongDelay l;
      l.p = probability(require(*v, "p", ld, "the fraction of messages delayed, e.g. 'p: 10%'"),
                        child(ld, "p"));
      l.delay = range(require(*v, "delay", ld, "e.g. 'delay: [200ms, 2200ms]'"), child(ld, "delay"),
                      Sign::NonNegative, false);
      n.long_delay = l;
    }
    if (const Node* v = node.find("kinds")) {
      const std::string kinds_path = child(path, "kinds");
      if (protocol_->message_kinds.empty()) {
        fail(*v, fmt::format("{}: protocol '{}' does not name its message kinds", kinds_path,
                             protocol_->name),
             "remove 'kinds'");
      }
      if (v->is_sequence() && v->items.empty()) {
        fail(*v, fmt::format("{}: expected at least one of {}", kinds_path,
                             join(protocol_->message_kinds)));
      }
      for (const Node* item : string_items(*v)) {
        std::string k = choice(*item, kinds_path, protocol_->message_kinds);
        if (contains(n.kinds, k)) fail(*item, fmt::format("{}: '{}' is listed twice", kinds_path, k));
        n.kinds.push_back(std::move(k));
      }
    }
    return n;
  }

  NemesisSpec parse_nemesis(const Node& node, const std::string& path, DurationRange at) const {
    expect_map(node, path,
               "a mapping such as {faults: [crash, partition], every: [700ms, 1s], until: 20s}");
    check_keys(node, kNemesisKeys, path);
    NemesisSpec n;
    const std::string faults_path = child(path, "faults");
    const Node& faults = require(node, "faults", path, "e.g. 'faults: [crash, partition]'");
    if (!faults.is_sequence() && !faults.is_scalar()) {
      fail(faults, fmt::format("{}: expected a list such as [crash, partition], got {}",
                               faults_path, faults.describe()));
    }
    if (faults.is_sequence() && faults.items.empty()) {
      fail(faults,
           fmt::format("{}: expected at least one of {}", faults_path, join(kNemesisFaults)));
    }
    for (const Node* item : string_items(faults)) {
      std::string f = choice(*item, faults_path, kNemesisFaults);
      if (contains(n.faults, f)) {
        fail(*item, fmt::format("{}: '{}' is listed twice", faults_path, f));
      }
      n.faults.push_back(std::move(f));
    }
    const Node& every = require(node, "every", path, "e.g. 'every: [700ms, 1s]'");
    n.every = range(every, child(path, "every"), Sign::Positive, false);
    const Node& until =
        require(node, "until", path, "when the nemesis stops and undoes its faults");
    n.until = duration(until, child(path, "until"), Sign::Positive, true);
    if (const Node* targets = node.find("targets"))
      n.targets = target(*targets, child(path, "targets"), false);
    if (n.until <= at.hi) {
      fail(until,
           fmt::format("{}: nemesis until {} is not after its start at {}", child(path, "until"),
                       units::format_duration(n.until), units::format_duration(at.hi)));
    }
    if (n.until > scenario_.duration) {
      fail(until,
           fmt::format("nemesis until {} is after the end of the run (duration {})",
                       units::format_duration(n.until), units::format_duration(scenario_.duration)),
           "lower 'until' or raise 'duration'");
    }
    return n;
  }

  // ---- checks and expectations ---------------------------------------------------------------

  void parse_checks(const Node* node) {
    if (node == nullptr || node->is_null()) {
      scenario_.checks = protocol_->default_checks;
      return;
    }
    if (!node->is_sequence() && !node->is_scalar()) {
      fail(*node,
           fmt::format("checks: expected a list of check names such as [raft.safety], got {}",
                       node->describe()));
    }
    std::vector<std::string> names, available;
    for (const auto& c : protocol_->checks) {
      names.push_back(c.name);
      if (c.available) available.push_back(c.name);
    }
    for (const Node* item : string_items(*node)) {
      const std::string& name = text(*item, "checks", "a check name such as 'raft.safety'");
      auto it = std::find_if(protocol_->checks.begin(), protocol_->checks.end(),
                             [&](const CheckSpec& c) { return c.name == name; });
      if (it == protocol_->checks.end()) {
        std::string suggestion = did_you_mean(name, names);
        if (suggestion.empty()) suggestion = "checks of " + protocol_->name + ": " + join(names);
        fail(*item, fmt::format("unknown check '{}' for {}", name, protocol_->name), suggestion);
      }
      if (!it->available) {
        fail(*item, fmt::format("check '{}' is not available yet for {}", name, protocol_->name),
             available.empty() ? std::string() : "available: " + join(available));
      }
      if (contains(scenario_.checks, name)) {
        fail(*item, fmt::format("checks: '{}' is listed twice", name));
      }
      scenario_.checks.push_back(name);
    }
  }

  Expectation parse_expectation(const Node& node, const std::string& path) const {
    const std::string& s = text(node, path, "an expectation such as 'violations == 0'");
    auto at = [&](std::size_t offset) {
      // Columns inside the string: +1 for the opening quote of a quoted scalar.
      return SourceLoc{node.loc.file, node.loc.line,
                       node.loc.column + static_cast<int>(offset) + (node.plain ? 0 : 1)};
    };
    const std::string form =
        "expected 'metric op number' such as 'violations == 0' (op: == != < <= > >=)";
    auto skip_blanks = [&](std::size_t i) {
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      return i;
    };
    std::size_t i = skip_blanks(0);
    const std::size_t metric_start = i;
    while (i < s.size() &&
           (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '.'))
      ++i;
    Expectation e;
    e.text = s;
    e.metric = s.substr(metric_start, i - metric_start);
    e.loc = node.loc;
    if (e.metric.empty()) fail(at(metric_start), fmt::format("{}: {}, got '{}'", path, form, s));
    i = skip_blanks(i);
    const std::size_t op_start = i;
    for (const auto& op : kOps) {
      if (s.compare(i, op.size(), op) == 0) {
        e.op = op;
        break;
      }
    }
    if (e.op.empty()) {
      if (i < s.size() && s[i] == '=')
        fail(at(i), fmt::format("{}: unknown comparison '='", path), "did you mean '=='?");
      fail(at(i), fmt::format("{}: expected a comparison (== != < <= > >=) after '{}', got '{}'",
                              path, e.metric, s.substr(i)));
    }
    i = skip_blanks(i + e.op.size());
    if (i < s.size() && s[i] == '=') {
      fail(at(op_start), fmt::format("{}: unknown comparison '{}='", path, e.op));
    }
    std::size_t end = s.size();
    while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t')) --end;
    const std::string number = s.substr(i, end - i);
    double value = 0;
    const char* begin = number.data() + (!number.empty() && number[0] == '+' ? 1 : 0);
    auto [ptr, ec] = std::from_chars(begin, number.data() + number.size(), value);
    const bool numeric =
        !number.empty() && begin != number.data() + number.size() &&
        (std::isdigit(static_cast<unsigned char>(*begin)) || *begin == '-' || *begin == '.');
    if (!numeric || ec != std::errc() || ptr != number.data() + number.size() ||
        !std::isfinite(value)) {
      fail(at(i), fmt::format("{}: expected a number after '{}', got '{}'", path, e.op, number));
    }
    e.value = value;
    if (!is_known_metric(*protocol_, e.metric)) {
      std::string suggestion = did_you_mean(e.metric, metric_paths(*protocol_));
      if (suggestion.empty())
        suggestion = "'faultline explain " + protocol_->name + "' lists the metrics";
      fail(at(metric_start),
           fmt::format("{}: unknown metric '{}' for {}", path, e.metric, protocol_->name),
           suggestion);
    }
    return e;
  }

  // ---- effective scenario --------------------------------------------------------------------

  /// A fixed range as the single duration it is, any other as [lo, hi].
  static nlohmann::json format_range(const DurationRange& r) {
    if (r.lo == r.hi) return units::format_duration(r.lo);
    return nlohmann::json::array({units::format_duration(r.lo), units::format_duration(r.hi)});
  }

  static nlohmann::json param_json(const ParamSpec& spec, const ParamValue& v) {
    switch (spec.type) {
      case ParamType::Duration:
        return units::format_duration(std::get<kParamDurationIndex>(v));
      case ParamType::DurationRange: {
        const auto& r = std::get<DurationRange>(v);
        return nlohmann::json::array({units::format_duration(r.lo), units::format_duration(r.hi)});
      }
      case ParamType::Integer:
        return std::get<kParamIntegerIndex>(v);
      case ParamType::Real:
      case ParamType::Probability:
        return std::get<double>(v);
      case ParamType::Bool:
        return std::get<bool>(v);
      case ParamType::String:
        return std::get<std::string>(v);
      case ParamType::StringList:
        return std::get<std::vector<std::string>>(v);
      case ParamType::Size:
        return units::format_size(std::get<std::uint64_t>(v));
      case ParamType::Bandwidth:
        return units::format_bandwidth(std::get<double>(v));
    }
    return nullptr;
  }

  void build_effective() {
    const Scenario& s = scenario_;
    nlohmann::json j;
    j["name"] = s.name;
    j["description"] = s.description;
    j["protocol"] = s.protocol;
    j["seed"] = s.seed;
    j["duration"] = units::format_duration(s.duration);

    const ClusterSpec& c = s.cluster;
    nlohmann::json cluster;
    cluster["nodes"] = c.server_names.size();
    cluster["names"] = c.server_names;
    cluster["topology"] = topology_name(c.topology);
    cluster["latency"] = units::format_duration(c.latency);
    cluster["bandwidth"] = units::format_bandwidth(c.bandwidth_bytes_s);
    cluster["speed"] = units::format_speed(c.speed_flops);
    cluster["message_cost"] = units::format_speed(c.message_cost_flops);
    cluster["network_model"] = c.network_model;
    if (c.disk) {
      cluster["disk"] = {{"read", units::format_bandwidth(c.disk->read_bytes_s)},
                         {"write", units::format_bandwidth(c.disk->write_bytes_s)},
                         {"sync_latency", format_range(c.disk->sync_latency)}};
      if (c.disk->access_time > 0) cluster["disk"]["access_time"] = units::format_duration(c.disk->access_time);
    }
    if (c.processing.hi > 0) cluster["processing"] = format_range(c.processing);
    if (c.racks) {
      cluster["racks"] = {{"racks", c.racks->racks},
                          {"hosts_per_rack", c.racks->hosts_per_rack},
                          {"uplink", units::format_bandwidth(c.racks->uplink_bytes_s)},
                          {"core", units::format_bandwidth(c.racks->core_bytes_s)}};
    }
    j["cluster"] = cluster;

    nlohmann::json params = nlohmann::json::object();
    for (const auto& spec : protocol_->params) {
      params[spec.name] = param_json(spec, s.params.all().at(spec.name));
    }
    j["params"] = params;

    const WorkloadSpec& w = s.workload;
    nlohmann::json workload;
    workload["clients"] = w.clients;
    if (w.ops) workload["ops"] = *w.ops;
    if (w.rate_per_s) workload["rate"] = units::format_rate(*w.rate_per_s);
    nlohmann::json mix = nlohmann::json::object();
    for (const auto& [op, weight] : w.mix) mix[op] = weight;
    workload["mix"] = mix;
    workload["keys"] = w.keys;
    workload["rpc_timeout"] = units::format_duration(w.rpc_timeout);
    workload["client_timeout"] = units::format_duration(w.client_timeout);
    workload["start"] = units::format_duration(w.start);
    j["workload"] = workload;

    j["faults"] = fault_specs_.empty() ? nlohmann::json::array() : nlohmann::json(fault_specs_);
    j["checks"] = s.checks.empty() ? nlohmann::json::array() : nlohmann::json(s.checks);
    j["checks_budget"] = units::format_duration(s.checks_budget);
    nlohmann::json expect = nlohmann::json::array();
    for (const auto& e : s.expect) expect.push_back(e.text);
    j["expect"] = expect;
    if (s.stop_when) j["stop_when"] = s.stop_when->text;
    scenario_.effective = std::move(j);
  }

  Scenario scenario_;
  const ProtocolInfo* protocol_ = nullptr;
  bool default_names_ = false;               // servers are n1..nN (no `names:`)
  std::vector<const Node*> name_nodes_;      // the `names:` items, for later errors
  std::vector<std::string> clients_;         // c1..cN
  std::vector<nlohmann::json> fault_specs_;  // file order, for `effective`
};

}  // namespace

yaml::Node read_scenario_tree_text(const std::string& text, const std::string& file) {
  Node root = yaml::parse(text, file);
  if (root.is_null()) {
    fail(SourceLoc{file, 1, 1},
         "the file is empty: expected a scenario with name, description, protocol, duration "
         "and cluster");
  }
  if (!root.is_map()) {
    fail(root, fmt::format("expected a mapping at the top level (name: ..., protocol: ...), "
                           "got {}",
                           root.is_scalar() ? "the text " + root.describe() : root.describe()));
  }
  return root;
}

Scenario load_scenario_tree(const yaml::Node& root, const std::string& file) {
  try {
    return Loader(file).load(root);
  } catch (const ScenarioError&) {
    throw;
  } catch (const std::exception& e) {
    // Nothing should get here; if something does, it is still bad input, not a crash.
    throw ScenarioError(SourceLoc{file, 1, 1},
                        fmt::format("cannot read the scenario: {}", e.what()));
  }
}

Scenario load_scenario_text(const std::string& text, const std::string& file,
                            const std::vector<std::string>& overrides) {
  try {
    Node root = read_scenario_tree_text(text, file);
    for (const auto& o : overrides) yaml::apply_override(root, o);
    return load_scenario_tree(root, file);
  } catch (const ScenarioError&) {
    throw;
  } catch (const std::exception& e) {
    throw ScenarioError(SourceLoc{file, 1, 1},
                        fmt::format("cannot read the scenario: {}", e.what()));
  }
}

std::string read_text_file(const std::string& path) {
  const SourceLoc start{path, 1, 1};
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(start, "cannot read file: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(start, fmt::format("cannot read file: {}", std::strerror(errno)));
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    fail(start, fmt::format("cannot read file: it is larger than {} MiB", kMaxFileBytes >> 20));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) fail(start, fmt::format("cannot read file: {}", std::strerror(errno)));
  return content.str();
}

yaml::Node read_scenario_tree(const std::string& path) {
  return read_scenario_tree_text(read_text_file(path), path);
}

Scenario load_scenario(const std::string& path, const std::vector<std::string>& overrides) {
  return load_scenario_text(read_text_file(path), path, overrides);
}

}  // namespace faultline
