#include "cli/experiment.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include <fmt/format.h>

#include "cli/python.hpp"
#include "cli/registry.hpp"
#include "cli/run.hpp"
#include "cli/scenario_loader.hpp"
#include "common/suggest.hpp"
#include "reports/report.hpp"
#include "reports/stats.hpp"

namespace faultline {
namespace fs = std::filesystem;
using yaml::Node;

namespace {

const std::vector<std::string> kTopKeys = {"name",    "description", "base",    "sweep",
                                           "variants", "trials",     "trials_at", "measure",
                                           "figure",  "reference"};
const std::vector<std::string> kFigureKeys = {"kind",        "x",       "y",      "series", "log_x",
                                              "log_y",       "series_file", "columns", "titles", "y_label"};
const std::vector<std::string> kFigureKinds = {"cdf", "line", "bar", "timeseries"};
const std::vector<std::string> kReferenceKeys = {"point", "variant", "ratio", "metric",
                                                 "value", "tolerance", "op"};
const std::vector<std::string> kStats = {"count", "censored", "min", "p10", "p25", "p50", "p75",
                                         "p90",   "p99",      "p999", "max", "mean"};
const std::vector<std::string> kRefOps = {"~", "≈", "<", "<=", ">", ">="};

[[noreturn]] void fail(const SourceLoc& loc, const std::string& message, const std::string& suggestion = {}) {
  throw ScenarioError(loc, message, suggestion);
}
[[noreturn]] void fail(const Node& node, const std::string& message, const std::string& suggestion = {}) {
  fail(node.loc, message, suggestion);
}

/// The value as one line of flow YAML: `[150ms, 150ms]`, `{a: 1}`. Two spellings of one value
/// ("[150ms,150ms]" and "[150ms, 150ms]") give the same text, which is how selectors match.
std::string flow(const Node& n) {
  switch (n.kind) {
    case Node::Kind::Null:
      return "null";
    case Node::Kind::Scalar:
      return n.plain ? n.scalar : nlohmann::json(n.scalar).dump();
    case Node::Kind::Sequence: {
      std::vector<std::string> items;
      for (const auto& item : n.items) items.push_back(flow(item));
      return "[" + join(items) + "]";
    }
    case Node::Kind::Map: {
      std::vector<std::string> items;
      for (const auto& [k, v] : n.entries) items.push_back(k.scalar + ": " + flow(v));
      return "{" + join(items) + "}";
    }
  }
  return "";
}

const std::string& scalar_text(const Node& node, const std::string& what) {
  if (!node.is_scalar()) fail(node, fmt::format("{}: expected {}, got {}", what, what, node.describe()));
  return node.scalar;
}

void check_keys(const Node& map, const std::vector<std::string>& allowed, const std::string& where) {
  for (const auto& [key, value] : map.entries) {
    if (std::find(allowed.begin(), allowed.end(), key.scalar) == allowed.end())
      fail(key, fmt::format("unknown key '{}'{}", key.scalar, where.empty() ? "" : " in " + where),
           did_you_mean(key.scalar, allowed));
  }
}

std::int64_t positive_integer(const Node& node, const std::string& what) {
  const std::string& s = scalar_text(node, what);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v < 1)
    fail(node, fmt::format("{}: expected a whole number of at least 1, got '{}'", what, s));
  return v;
}

double number(const Node& node, const std::string& what) {
  const std::string& s = scalar_text(node, what);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v))
    fail(node, fmt::format("{}: expected a number, got '{}'", what, s));
  return v;
}

/// A dotted path written as a key, located at that key: every segment points there.
Override make_override(const Node& key, const Node& value) {
  Override o;
  o.path = key.scalar;
  std::size_t start = 0;
  while (start <= o.path.size()) {
    std::size_t end = o.path.find('.', start);
    if (end == std::string::npos) end = o.path.size();
    const std::string seg = o.path.substr(start, end - start);
    if (seg.empty()) fail(key, fmt::format("'{}': empty key in the dotted path", o.path), "e.g. params.election_timeout");
    o.segments.push_back(yaml::PathSegment{seg, key.loc});
    start = end + 1;
  }
  o.value = value;
  o.text = flow(value);
  return o;
}

class ExperimentLoader {
 public:
  Experiment load(const std::string& path) {
    Experiment e;
    e.file = path;
    const Node root = yaml::parse(read_text_file(path), path);
    if (!root.is_map())
      fail(root.is_null() ? SourceLoc{path, 1, 1} : root.loc,
           "expected an experiment: a mapping with name, description, base, measure");
    check_keys(root, kTopKeys, "");
    auto require = [&](const char* key, const std::string& hint) -> const Node& {
      const Node* n = root.find(key);
      if (!n) fail(SourceLoc{path, 1, 1}, fmt::format("missing required key '{}'", key), hint);
      return *n;
    };
    e.name = scalar_text(require("name", "e.g. 'name: raft-figure-16-top'"), "name");
    if (!std::regex_match(e.name, std::regex("[a-z0-9-]+")))
      fail(*root.find("name"), fmt::format("name: '{}' must be lower-case letters, digits and '-'", e.name));
    e.description = scalar_text(require("description", "say what the experiment reproduces"), "description");
    const Node& base = require("base", "the scenario every trial runs, e.g. 'base: raft-figure-16.yaml'");
    const std::string base_text = scalar_text(base, "base");
    e.base_file = (fs::path(path).parent_path() / base_text).lexically_normal().string();
    std::error_code ec;
    if (!fs::is_regular_file(e.base_file, ec))
      fail(base, fmt::format("base: cannot read '{}' (paths are relative to the experiment file)", e.base_file));

    if (const Node* sweep = root.find("sweep")) {
      if (!sweep->is_map()) fail(*sweep, "sweep: expected a mapping of dotted paths to lists of values",
                                 "e.g. sweep: {params.election_timeout: [[150ms, 150ms], [150ms, 300ms]]}");
      for (const auto& [key, values] : sweep->entries) {
        if (!values.is_sequence() || values.items.empty())
          fail(values, fmt::format("sweep.{}: expected a non-empty list of values", key.scalar));
        std::vector<Override> axis;
        std::set<std::string> seen;
        for (const auto& v : values.items) {
          axis.push_back(make_override(key, v));
          if (!seen.insert(axis.back().text).second)
            fail(v, fmt::format("sweep.{}: the value {} is listed twice", key.scalar, axis.back().text));
        }
        e.sweep.emplace_back(key.scalar, std::move(axis));
      }
    }
    if (const Node* variants = root.find("variants")) {
      if (!variants->is_map() || variants->entries.empty())
        fail(*variants, "variants: expected a mapping of names to overrides", "e.g. variants: {normal: {}, slow: {cluster.speed: 1Gf}}");
      for (const auto& [name, overrides] : variants->entries) {
        if (!std::regex_match(name.scalar, std::regex("[A-Za-z0-9._-]+")))
          fail(name, fmt::format("variants: '{}' is not a valid name (letters, digits, '.', '_', '-')", name.scalar));
        std::vector<Override> list;
        if (!overrides.is_null()) {
          if (!overrides.is_map())
            fail(overrides, fmt::format("variants.{}: expected a mapping of dotted paths to values", name.scalar));
          for (const auto& [key, value] : overrides.entries) list.push_back(make_override(key, value));
        }
        e.variants.emplace_back(name.scalar, std::move(list));
      }
    }
    if (const Node* trials = root.find("trials")) e.trials = positive_integer(*trials, "trials");

    // The base scenario (and its protocol's metric names) before anything refers to them.
    base_scenario_ = load_scenario(e.base_file);
    protocol_ = find_protocol(base_scenario_.protocol);

    const Node& measure = require("measure", "e.g. 'measure: {election_ms: recovery_time_ms}'");
    if (!measure.is_map() || measure.entries.empty())
      fail(measure, "measure: expected a mapping of column names to report.json metrics",
           "e.g. measure: {election_ms: recovery_time_ms}");
    for (const auto& [col, metric] : measure.entries) {
      if (!std::regex_match(col.scalar, std::regex("[A-Za-z_][A-Za-z0-9_]*")))
        fail(col, fmt::format("measure: '{}' is not a valid column name (letters, digits, '_')", col.scalar));
      const std::string& m = scalar_text(metric, "a report.json metric");
      if (!is_known_metric(*protocol_, m))
        fail(metric, fmt::format("measure.{}: unknown metric '{}' for {}", col.scalar, m, protocol_->name),
             did_you_mean(m, metric_paths(*protocol_)));
      e.measures.emplace_back(col.scalar, m);
    }
    measures_ = &e.measures;
    experiment_ = &e;

    if (const Node* at = root.find("trials_at")) {
      if (!at->is_sequence()) fail(*at, "trials_at: expected a list of {point: {...}, trials: N}");
      for (const auto& item : at->items) {
        if (!item.is_map()) fail(item, "trials_at: expected {point: {...}, trials: N}");
        check_keys(item, {"point", "trials"}, "trials_at");
        const Node* point = item.find("point");
        const Node* trials = item.find("trials");
        if (!point || !trials) fail(item, "trials_at: each item needs 'point' and 'trials'");
        e.trials_at.emplace_back(selector(*point, "trials_at"), positive_integer(*trials, "trials_at.trials"));
      }
    }
    if (const Node* fig = root.find("figure")) e.figure = figure(*fig, e);
    if (const Node* refs = root.find("reference")) {
      if (!refs->is_sequence()) fail(*refs, "reference: expected a list of rows");
      for (const auto& row : refs->items) e.references.push_back(reference(row));
    }
    return e;
  }

 private:
  PointSelector selector(const Node& node, const std::string& where) {
    PointSelector s;
    s.loc = node.loc;
    if (!node.is_map()) fail(node, fmt::format("{}: expected a point such as {{params.x: value}} or {{variant: name}}", where));
    for (const auto& [key, value] : node.entries) {
      if (key.scalar == "variant") {
        const std::string& v = scalar_text(value, "a variant name");
        std::vector<std::string> names;
        for (const auto& [n, o] : experiment_->variants) names.push_back(n);
        if (std::find(names.begin(), names.end(), v) == names.end())
          fail(value, fmt::format("{}: no variant named '{}'", where, v),
               names.empty() ? "the experiment has no variants" : did_you_mean(v, names));
        s.variant = v;
        continue;
      }
      auto axis = std::find_if(experiment_->sweep.begin(), experiment_->sweep.end(),
                               [&](const auto& a) { return a.first == key.scalar; });
      if (axis == experiment_->sweep.end()) {
        std::vector<std::string> paths = {"variant"};
        for (const auto& a : experiment_->sweep) paths.push_back(a.first);
        fail(key, fmt::format("{}: '{}' is not swept", where, key.scalar), did_you_mean(key.scalar, paths));
      }
      const std::string text = flow(value);
      std::vector<std::string> texts;
      for (const auto& o : axis->second) texts.push_back(o.text);
      if (std::find(texts.begin(), texts.end(), text) == texts.end())
        fail(value, fmt::format("{}: {} is not one of the swept values of {}", where, text, key.scalar),
             "swept values: " + join(texts, " "));
      s.values.emplace_back(key.scalar, text);
    }
    return s;
  }

  FigureSpec figure(const Node& node, const Experiment& e) {
    if (!node.is_map()) fail(node, "figure: expected a mapping such as {kind: cdf, x: election_ms, series: variant}");
    check_keys(node, kFigureKeys, "figure");
    FigureSpec f;
    const Node* kind = node.find("kind");
    if (!kind) fail(node, "figure: missing 'kind'", "one of " + join(kFigureKinds));
    f.kind = scalar_text(*kind, "a figure kind");
    if (std::find(kFigureKinds.begin(), kFigureKinds.end(), f.kind) == kFigureKinds.end())
      fail(*kind, fmt::format("figure.kind: unknown kind '{}'", f.kind), did_you_mean(f.kind, kFigureKinds));
    std::vector<std::string> columns;
    for (const auto& [c, m] : e.measures) columns.push_back(c);
    std::vector<std::string> series = {"variant"};
    for (const auto& a : e.sweep) series.push_back(a.first);
    auto column = [&](const char* key, const std::vector<std::string>& allowed) -> std::string {
      const Node* n = node.find(key);
      if (!n) return "";
      const std::string& v = scalar_text(*n, key);
      if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
        fail(*n, fmt::format("figure.{}: '{}' is not one of {}", key, v, join(allowed)), did_you_mean(v, allowed));
      return v;
    };
    std::vector<std::string> x_allowed = columns;
    x_allowed.insert(x_allowed.end(), series.begin() + 1, series.end());
    f.x = column("x", x_allowed);
    f.y = column("y", columns);
    f.series = column("series", series);
    if (f.kind == "timeseries") {
      const Node* file = node.find("series_file");
      if (!file) fail(node, "figure: a timeseries needs 'series_file'", "the run output file to plot, e.g. series_file: rates.csv");
      f.series_file = scalar_text(*file, "a file name");
      if (f.series_file.empty() || f.series_file.find('/') != std::string::npos || f.series_file[0] == '.')
        fail(*file, fmt::format("figure.series_file: '{}' is not a plain file name", f.series_file),
             "a file that `faultline run` writes, e.g. rates.csv");
      auto texts = [&](const char* key) {
        std::vector<std::string> out;
        const Node* n = node.find(key);
        if (!n) return out;
        if (!n->is_sequence()) fail(*n, fmt::format("figure.{}: expected a list such as [a, b]", key));
        for (const auto& item : n->items) out.push_back(scalar_text(item, key));
        return out;
      };
      f.columns = texts("columns");
      f.titles = texts("titles");
      if (f.columns.empty()) fail(node, "figure: a timeseries needs 'columns'", "the CSV columns to draw, e.g. columns: [input_mb_s]");
      if (!f.titles.empty() && f.titles.size() != f.columns.size())
        fail(*node.find("titles"), fmt::format("figure.titles: {} titles for {} columns", f.titles.size(), f.columns.size()));
      if (const Node* y = node.find("y_label")) f.y_label = scalar_text(*y, "a label");
    } else if (f.x.empty()) {
      fail(node, "figure: missing 'x'", "a measure column, e.g. x: " + (columns.empty() ? "" : columns[0]));
    }
    auto flag = [&](const char* key) {
      const Node* n = node.find(key);
      if (!n) return false;
      const std::string& v = scalar_text(*n, key);
      if (v != "true" && v != "false") fail(*n, fmt::format("figure.{}: expected true or false, got '{}'", key, v));
      return v == "true";
    };
    f.log_x = flag("log_x");
    f.log_y = flag("log_y");
    return f;
  }

  Reference reference(const Node& row) {
    if (!row.is_map()) fail(row, "reference: expected a row such as {point: {...}, metric: election_ms.p50, value: 287, tolerance: 15%}");
    check_keys(row, kReferenceKeys, "reference");
    Reference r;
    r.loc = row.loc;
    r.text = flow(row);
    if (const Node* ratio = row.find("ratio")) {
      if (!ratio->is_sequence() || ratio->items.size() != 2)
        fail(*ratio, "reference.ratio: expected two points [numerator, denominator]",
             "e.g. ratio: [{variant: no-backups}, {variant: normal}]");
      if (row.find("point") || row.find("variant"))
        fail(row, "reference: a ratio row names its points inside 'ratio'");
      r.ratio = true;
      for (const auto& p : ratio->items) r.selectors.push_back(selector(p, "reference.ratio"));
    } else {
      PointSelector s;
      s.loc = row.loc;
      if (const Node* p = row.find("point")) s = selector(*p, "reference.point");
      if (const Node* v = row.find("variant")) {
        Node wrapped;
        wrapped.kind = Node::Kind::Map;
        wrapped.loc = v->loc;
        Node key;
        key.kind = Node::Kind::Scalar;
        key.scalar = "variant";
        key.loc = v->loc;
        wrapped.entries.emplace_back(key, *v);
        s.variant = selector(wrapped, "reference.variant").variant;
      }
      r.selectors.push_back(s);
    }
    const Node* metric = row.find("metric");
    if (!metric) fail(row, "reference: missing 'metric'", "e.g. metric: election_ms.p50");
    const std::string m = scalar_text(*metric, "a measure and statistic such as election_ms.p50");
    const auto dot = m.rfind('.');
    std::vector<std::string> columns;
    for (const auto& [c, p] : *measures_) columns.push_back(c);
    if (dot == std::string::npos)
      fail(*metric, fmt::format("reference.metric: '{}' needs a statistic", m), "e.g. " + m + ".p50 (one of " + join(kStats) + ")");
    r.measure = m.substr(0, dot);
    r.stat = m.substr(dot + 1);
    if (std::find(columns.begin(), columns.end(), r.measure) == columns.end())
      fail(*metric, fmt::format("reference.metric: '{}' is not a measure of this experiment", r.measure),
           did_you_mean(r.measure, columns));
    if (std::find(kStats.begin(), kStats.end(), r.stat) == kStats.end())
      fail(*metric, fmt::format("reference.metric: unknown statistic '{}'", r.stat), did_you_mean(r.stat, kStats));
    const Node* value = row.find("value");
    if (!value) fail(row, "reference: missing 'value' (the paper's number)");
    r.value = number(*value, "reference.value");
    if (const Node* op = row.find("op")) {
      r.op = scalar_text(*op, "an operator");
      if (std::find(kRefOps.begin(), kRefOps.end(), r.op) == kRefOps.end())
        fail(*op, fmt::format("reference.op: unknown operator '{}'", r.op), "one of ≈ < <= > >=");
      if (r.op == "≈") r.op = "~";
    }
    if (const Node* tol = row.find("tolerance")) {
      std::string t = scalar_text(*tol, "a tolerance such as 15% or 0.1");
      if (!t.empty() && t.back() == '%') {
        r.tolerance_relative = true;
        t.pop_back();
      }
      Node n = *tol;
      n.scalar = t;
      r.tolerance = number(n, "reference.tolerance");
      if (*r.tolerance < 0) fail(*tol, "reference.tolerance: must not be negative");
      if (r.tolerance_relative) *r.tolerance /= 100.0;
    }
    if (r.op == "~" && !r.tolerance)
      fail(row, "reference: a row compared for closeness needs a 'tolerance'", "e.g. tolerance: 15% (relative) or 0.1 (absolute)");
    return r;
  }

  Scenario base_scenario_;
  const ProtocolInfo* protocol_ = nullptr;
  const std::vector<std::pair<std::string, std::string>>* measures_ = nullptr;
  const Experiment* experiment_ = nullptr;
};

bool selects(const PointSelector& s, const ExperimentPoint& p, const Experiment& e) {
  if (s.variant && *s.variant != p.variant) return false;
  for (const auto& [path, text] : s.values) {
    for (std::size_t a = 0; a < e.sweep.size(); ++a)
      if (e.sweep[a].first == path && p.sweep_values[a]->text != text) return false;
  }
  return true;
}

/// `faultline run` command line that reproduces one trial.
std::string reproduce_command(const Experiment& e, const ExperimentPoint& p, std::uint64_t seed) {
  std::string cmd = fmt::format("faultline run {} --seed {}", e.base_file, seed);
  auto add = [&](const Override& o) { cmd += fmt::format(" --set '{}={}'", o.path, o.text); };
  for (const auto* o : p.sweep_values) add(*o);
  for (const auto& [name, overrides] : e.variants)
    if (name == p.variant)
      for (const auto& o : overrides) add(o);
  return cmd;
}

struct TrialResult {
  bool ran = false;     // the child reported back
  std::string error;    // why it failed (crash, exit status, exception)
  std::vector<std::optional<double>> values;
  std::int64_t violations = 0;
};

/// The file name of a point's time series: its variant, else its sweep label, made safe.
std::string series_name(const ExperimentPoint& p) {
  // The variant, the sweep values, or both (a variant crossed with a sweep names one point).
  std::string name = p.label;
  if (!p.variant.empty()) name = name.empty() ? p.variant : p.variant + "_" + name;
  if (name.empty()) name = "run";
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  return name;
}

/// Figure kind timeseries: the first trial of a point keeps its run output file.
void save_series(const Experiment& e, const ExperimentPoint& p, const Simulation& sim) {
  auto it = sim.files.find(e.figure->series_file);
  if (it == sim.files.end() || e.out_dir.empty()) return;
  const fs::path dir = fs::path(e.out_dir) / "series";
  std::error_code ec;
  fs::create_directories(dir, ec);
  std::ofstream out(dir / (series_name(p) + ".csv"), std::ios::binary);
  out << it->second;
}

/// In the child: one simulation, its report, the measures on one JSON line.
[[noreturn]] void run_trial_child(const Experiment& e, const ExperimentPoint& p, std::uint64_t seed, int fd) {
  int code = 0;
  std::string line;
  try {
    Scenario s = p.scenario;
    s.seed = seed;
    s.effective["seed"] = seed;
    Simulation sim = simulate(s);
    if (e.figure && e.figure->kind == "timeseries" && seed == 1) save_series(e, p, sim);
    const nlohmann::json report = simulation_report(s, e.base_file, sim, 0.0);
    nlohmann::json values = nlohmann::json::array();
    for (const auto& [col, metric] : e.measures) {
      const nlohmann::json v = reports::lookup(report, metric);
      if (v.is_number()) values.push_back(v.get<double>());
      else if (v.is_boolean()) values.push_back(v.get<bool>() ? 1.0 : 0.0);
      else values.push_back(nullptr);
    }
    line = nlohmann::json{{"values", values}, {"violations", report.value("violations", 0)}}.dump() + "\n";
  } catch (const std::exception& ex) {
    line = nlohmann::json{{"error", ex.what()}}.dump() + "\n";
    code = 1;
  }
  for (std::size_t off = 0; off < line.size();) {
    const ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  ::_exit(code);
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  return "ended abnormally";
}

/// Progress on standard error: a bar redrawn in place on a terminal, a plain line every few
/// seconds otherwise (logs, CI).
class Progress {
 public:
  explicit Progress(std::size_t total) : total_(total), tty_(::isatty(STDERR_FILENO) != 0), start_(clock::now()) {}
  void update(std::size_t done, bool final = false) {
    const auto now = clock::now();
    const double since_draw = std::chrono::duration<double>(now - last_).count();
    if (!final && since_draw < (tty_ ? 0.1 : 5.0)) return;
    last_ = now;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total_ - done) / rate : 0.0;
    const int width = 30;
    const int filled = total_ ? static_cast<int>(width * done / total_) : width;
    const std::string text = fmt::format("{:>6}/{} trials  {:.0f}/s  ETA {:.0f}s", done, total_, rate, eta);
    if (tty_) {
      std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << text
                << (final ? "\n" : "") << std::flush;
    } else {
      std::cerr << "progress: " << text << "\n";
    }
  }

 private:
  using clock = std::chrono::steady_clock;
  std::size_t total_;
  bool tty_;
  clock::time_point start_;
  clock::time_point last_{};
};

/// Runs every trial in at most `jobs` forked children at a time; results by trial index.
std::vector<TrialResult> run_trials(const Experiment& e, const std::vector<ExperimentPoint>& points,
                                    const std::vector<std::pair<std::size_t, std::uint64_t>>& trials,
                                    int jobs) {
  std::vector<TrialResult> results(trials.size());
  struct Child {
    pid_t pid;
    int fd;
    std::size_t trial;
    std::string buffer;
  };
  std::vector<Child> running;
  std::size_t next = 0, done = 0;
  Progress progress(trials.size());
  std::cout.flush();
  std::cerr.flush();
  while (next < trials.size() || !running.empty()) {
    while (static_cast<int>(running.size()) < jobs && next < trials.size()) {
      int fds[2];
      if (::pipe(fds) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
      const pid_t pid = ::fork();
      if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
      if (pid == 0) {
        ::close(fds[0]);
        for (const auto& c : running) ::close(c.fd);
        // A trial's own output would garble the progress bar; a failure is reproduced with
        // the `faultline run` command printed for it.
        const int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
          ::dup2(devnull, STDOUT_FILENO);
          ::dup2(devnull, STDERR_FILENO);
        }
        const auto& [point, seed] = trials[next];
        run_trial_child(e, points[point], seed, fds[1]);
      }
      ::close(fds[1]);
      running.push_back(Child{pid, fds[0], next, {}});
      ++next;
    }
    std::vector<pollfd> polls;
    for (const auto& c : running) polls.push_back(pollfd{c.fd, POLLIN, 0});
    if (::poll(polls.data(), polls.size(), 200) < 0 && errno != EINTR)
      throw std::runtime_error(fmt::format("poll: {}", std::strerror(errno)));
    for (std::size_t i = polls.size(); i-- > 0;) {
      if (!(polls[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Child& c = running[i];
      char buf[4096];
      const ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.buffer.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      ::close(c.fd);
      int status = 0;
      ::waitpid(c.pid, &status, 0);
      TrialResult& r = results[c.trial];
      const auto parsed = nlohmann::json::parse(c.buffer, nullptr, false);
      if (parsed.is_object() && parsed.contains("values") && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        r.ran = true;
        for (const auto& v : parsed["values"])
          r.values.push_back(v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt);
        r.violations = parsed.value("violations", std::int64_t{0});
      } else {
        r.error = parsed.is_object() && parsed.contains("error") ? parsed["error"].get<std::string>()
                                                                 : describe_status(status);
        r.values.assign(e.measures.size(), std::nullopt);
      }
      running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
      ++done;
    }
    progress.update(done, done == trials.size());
  }
  return results;
}

std::string format_number(double v) {
  if (std::fabs(v) >= 100) return fmt::format("{:.0f}", v);
  if (std::fabs(v) >= 10) return fmt::format("{:.1f}", v);
  return fmt::format("{:.3g}", v);
}

/// Chooses and prepares the output directory (as `run`): default runs/<name>/, replaced.
std::optional<std::string> prepare_dir(const ExperimentOptions& o, const Experiment& e, fs::path& dir) {
  std::error_code ec;
  if (o.out) {
    dir = *o.out;
    if (fs::exists(dir, ec) && !fs::is_empty(dir, ec) && !o.force)
      return fmt::format("{}: error: output directory exists and is not empty (use --force to replace it)", dir.string());
  } else {
    dir = fs::path("runs") / e.name;
  }
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) return fmt::format("{}: error: output path exists and is not a directory", dir.string());
    for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
  }
  fs::create_directories(dir, ec);
  if (ec) return fmt::format("{}: error: cannot create output directory: {}", dir.string(), ec.message());
  return std::nullopt;
}

}  // namespace

Experiment load_experiment(const std::string& path) { return ExperimentLoader().load(path); }

std::vector<ExperimentPoint> expand_points(const Experiment& e, std::optional<int> trials_override) {
  const Node base = read_scenario_tree(e.base_file);
  std::vector<std::pair<std::string, const std::vector<Override>*>> variants;
  for (const auto& [name, overrides] : e.variants) variants.emplace_back(name, &overrides);
  if (variants.empty()) variants.emplace_back("", nullptr);

  std::vector<ExperimentPoint> points;
  std::vector<std::size_t> index(e.sweep.size(), 0);
  for (;;) {
    for (const auto& [variant, overrides] : variants) {
      ExperimentPoint p;
      p.variant = variant;
      Node tree = base;
      std::vector<std::string> label;
      for (std::size_t a = 0; a < e.sweep.size(); ++a) {
        const Override& o = e.sweep[a].second[index[a]];
        p.sweep_values.push_back(&o);
        label.push_back(o.path + "=" + o.text);
        yaml::set_at_path(tree, o.segments, o.value);
      }
      if (overrides)
        for (const auto& o : *overrides) yaml::set_at_path(tree, o.segments, o.value);
      p.label = join(label, "; ");
      p.scenario = load_scenario_tree(tree, e.base_file);
      p.trials = e.trials;
      for (const auto& [sel, n] : e.trials_at)
        if (selects(sel, p, e)) p.trials = n;
      if (trials_override) p.trials = *trials_override;
      points.push_back(std::move(p));
    }
    // Next combination, the first axis outermost.
    std::size_t a = e.sweep.size();
    while (a > 0) {
      --a;
      if (++index[a] < e.sweep[a].second.size()) break;
      index[a] = 0;
      if (a == 0) return points;
    }
    if (e.sweep.empty()) return points;
  }
}

nlohmann::json measure_summary(std::vector<double> values, const std::vector<std::uint64_t>& censored_seeds) {
  std::sort(values.begin(), values.end());
  nlohmann::json j = {{"count", values.size()}, {"censored", censored_seeds.size()}, {"censored_seeds", censored_seeds}};
  const std::vector<std::pair<const char*, double>> ranks = {
      {"p10", 10}, {"p25", 25}, {"p50", 50}, {"p75", 75}, {"p90", 90}, {"p99", 99}, {"p999", 99.9}};
  if (values.empty()) {
    for (const char* k : {"min", "p10", "p25", "p50", "p75", "p90", "p99", "p999", "max", "mean"}) j[k] = nullptr;
    return j;
  }
  j["min"] = values.front();
  for (const auto& [k, p] : ranks) j[k] = reports::nearest_rank(values, p);
  j["max"] = values.back();
  double sum = 0;
  for (double v : values) sum += v;
  j["mean"] = sum / static_cast<double>(values.size());
  return j;
}

int run_experiment(const ExperimentOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  Experiment e;
  std::vector<ExperimentPoint> points;
  try {
    e = load_experiment(options.file);
    if (options.trials && *options.trials < 1)
      throw ScenarioError(SourceLoc{"<--trials>", 1, 1}, "--trials: expected at least 1");
    if (options.jobs && *options.jobs < 1)
      throw ScenarioError(SourceLoc{"<--jobs>", 1, 1}, "--jobs: expected at least 1");
    points = expand_points(e, options.trials);
    for (const auto& r : e.references)
      for (const auto& s : r.selectors) {
        std::size_t matches = 0;
        for (const auto& p : points) matches += selects(s, p, e) ? 1 : 0;
        if (matches != 1)
          throw ScenarioError(s.loc, matches == 0 ? "reference: this point matches no point of the experiment"
                                                  : fmt::format("reference: this point matches {} points; name one (add the sweep values or the variant)", matches));
      }
  } catch (const ScenarioError& err) {
    std::cerr << err.format() << "\n";
    return 2;
  }
  fs::path dir;
  if (auto refusal = prepare_dir(options, e, dir)) {
    std::cerr << *refusal << "\n";
    return 2;
  }
  const int jobs = options.jobs.value_or(std::max(1, static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN))));

  std::vector<std::pair<std::size_t, std::uint64_t>> trials;
  for (std::size_t p = 0; p < points.size(); ++p)
    for (std::int64_t s = 1; s <= points[p].trials; ++s) trials.emplace_back(p, static_cast<std::uint64_t>(s));
  std::cout << fmt::format("faultline experiment {} · {} point(s) · {} trial(s) · {} job(s)\n", e.name,
                           points.size(), trials.size(), jobs);
  e.out_dir = dir.string();
  const std::vector<TrialResult> results = run_trials(e, points, trials, jobs);

  // results.csv: one row per trial, in trial order (independent of --jobs).
  std::string csv = "point,variant,seed";
  for (const auto& [col, m] : e.measures) csv += "," + col;
  csv += ",status\n";
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  };
  struct PointData {
    std::vector<std::vector<double>> values;
    std::vector<std::vector<std::uint64_t>> censored;
    std::vector<std::uint64_t> failed, with_violations;
  };
  std::vector<PointData> data(points.size());
  for (auto& d : data) {
    d.values.resize(e.measures.size());
    d.censored.resize(e.measures.size());
  }
  nlohmann::json failed = nlohmann::json::array();
  for (std::size_t t = 0; t < trials.size(); ++t) {
    const auto& [p, seed] = trials[t];
    const TrialResult& r = results[t];
    csv += quote(points[p].label) + "," + quote(points[p].variant) + "," + std::to_string(seed);
    for (std::size_t m = 0; m < e.measures.size(); ++m) {
      csv += ",";
      if (r.values[m]) {
        csv += fmt::format("{}", *r.values[m]);
        data[p].values[m].push_back(*r.values[m]);
      } else if (r.ran) {
        data[p].censored[m].push_back(seed);
      }
    }
    const std::string status = !r.ran ? "failed" : r.violations > 0 ? "violations" : "ok";
    csv += "," + status + "\n";
    if (!r.ran) {
      data[p].failed.push_back(seed);
      failed.push_back({{"point", points[p].label}, {"variant", points[p].variant}, {"seed", seed},
                        {"reason", r.error}, {"command", reproduce_command(e, points[p], seed)}});
    } else if (r.violations > 0) {
      data[p].with_violations.push_back(seed);
    }
  }

  nlohmann::json summary_points = nlohmann::json::array();
  std::vector<nlohmann::json> point_measures(points.size());
  for (std::size_t p = 0; p < points.size(); ++p) {
    nlohmann::json measures = nlohmann::json::object();
    for (std::size_t m = 0; m < e.measures.size(); ++m)
      measures[e.measures[m].first] = measure_summary(data[p].values[m], data[p].censored[m]);
    point_measures[p] = measures;
    nlohmann::json sweep = nlohmann::json::object();
    for (const auto* o : points[p].sweep_values) sweep[o->path] = o->text;
    summary_points.push_back({{"point", points[p].label}, {"variant", points[p].variant}, {"sweep", sweep},
                              {"trials", points[p].trials}, {"failed_seeds", data[p].failed},
                              {"violation_seeds", data[p].with_violations}, {"measures", measures}});
  }

  // Reference rows: the paper's value beside ours.
  bool all_within = true;
  nlohmann::json refs = nlohmann::json::array();
  std::string table;
  auto point_of = [&](const PointSelector& s) {
    for (std::size_t p = 0; p < points.size(); ++p)
      if (selects(s, points[p], e)) return p;
    return std::size_t{0};  // validated above: exactly one matches
  };
  auto name_of = [&](std::size_t p) {
    std::string n = points[p].variant;
    if (!points[p].label.empty()) n += (n.empty() ? "" : " · ") + points[p].label;
    return n.empty() ? std::string("(all)") : n;
  };
  for (const auto& r : e.references) {
    std::optional<double> sim;
    std::string note;
    std::string where;
    auto stat_of = [&](std::size_t p) -> std::optional<double> {
      const auto& s = point_measures[p][r.measure];
      const auto& v = s[r.stat];
      if (s["censored"].get<std::size_t>() > 0)
        note += fmt::format("{}{} censored at {}", note.empty() ? "" : "; ", s["censored"].get<std::size_t>(), name_of(p));
      return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
    };
    if (r.ratio) {
      const std::size_t a = point_of(r.selectors[0]), b = point_of(r.selectors[1]);
      where = name_of(a) + " / " + name_of(b);
      const auto va = stat_of(a), vb = stat_of(b);
      if (va && vb && *vb != 0) sim = *va / *vb;
    } else {
      const std::size_t p = point_of(r.selectors[0]);
      where = name_of(p);
      sim = stat_of(p);
    }
    bool ok = false;
    std::optional<double> error;
    const std::size_t censored = [&] {
      std::size_t c = 0;
      for (const auto& s : r.selectors) c += point_measures[point_of(s)][r.measure]["censored"].get<std::size_t>();
      return c;
    }();
    if (sim) {
      if (r.value != 0) error = (*sim - r.value) / std::fabs(r.value);
      if (r.op == "~") {
        const double allowed = r.tolerance_relative ? *r.tolerance * std::fabs(r.value) : *r.tolerance;
        ok = std::fabs(*sim - r.value) <= allowed + 1e-12;
      } else if (r.op == "<") ok = *sim < r.value;
      else if (r.op == "<=") ok = *sim <= r.value;
      else if (r.op == ">") ok = *sim > r.value;
      else if (r.op == ">=") ok = *sim >= r.value;
    } else if (censored > 0 && (r.op == ">" || r.op == ">=") && r.stat != "mean") {
      // Every trial censored: each ran past the scenario's duration without a value, so the
      // statistic exceeds that duration; a lower bound below it holds.
      double limit_ms = 0;
      for (const auto& s : r.selectors) limit_ms = std::max(limit_ms, to_ms(points[point_of(s)].scenario.duration));
      ok = r.value < limit_ms;
      note += fmt::format("{}all trials censored: each exceeded the run's duration ({:.0f} ms)", note.empty() ? "" : "; ", limit_ms);
    }
    all_within = all_within && ok;
    const std::string paper = r.op == "~"
                                  ? fmt::format("{} ± {}", format_number(r.value),
                                                r.tolerance_relative ? fmt::format("{:g}%", *r.tolerance * 100)
                                                                     : format_number(*r.tolerance))
                                  : fmt::format("{} {}", r.op, format_number(r.value));
    table += fmt::format("| {} | {}.{}{} | {} | {} | {} | {} |\n", where, r.measure, r.stat, r.ratio ? " (ratio)" : "",
                         paper, sim ? format_number(*sim) : "—",
                         error ? fmt::format("{:+.1f}%", *error * 100) : "—", ok ? "within" : "**miss**");
    refs.push_back({{"reference", r.text}, {"point", where}, {"metric", r.measure + "." + r.stat},
                    {"op", r.op == "~" ? "≈" : r.op}, {"value", r.value},
                    {"tolerance", r.tolerance ? nlohmann::json(r.tolerance_relative ? *r.tolerance * 100 : *r.tolerance) : nlohmann::json(nullptr)},
                    {"tolerance_relative", r.tolerance_relative},
                    {"simulated", sim ? nlohmann::json(*sim) : nlohmann::json(nullptr)},
                    {"relative_error", error ? nlohmann::json(*error) : nlohmann::json(nullptr)},
                    {"censored", censored}, {"note", note}, {"within", ok}});
  }

  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  nlohmann::json summary = {{"experiment", e.name}, {"description", e.description}, {"file", e.file},
                            {"base", e.base_file}, {"measures", nlohmann::json::object()},
                            {"trials", trials.size()}, {"points", summary_points}, {"references", refs},
                            {"failed_trials", failed}, {"wall_time_s", wall}, {"wall_jobs", jobs}};
  for (const auto& [c, m] : e.measures) summary["measures"][c] = m;
  if (e.figure) {
    summary["figure"] = {{"kind", e.figure->kind}, {"x", e.figure->x}, {"y", e.figure->y},
                         {"series", e.figure->series}, {"log_x", e.figure->log_x}, {"log_y", e.figure->log_y}};
    if (e.figure->kind == "timeseries") {
      summary["figure"]["series_file"] = e.figure->series_file;
      summary["figure"]["columns"] = e.figure->columns;
      summary["figure"]["titles"] = e.figure->titles;
      summary["figure"]["y_label"] = e.figure->y_label;
    }
  }

  std::string md = fmt::format("# {}: simulated vs. published\n\n{}\n\n", e.name, e.description);
  md += fmt::format("Base scenario `{}`; {} trials over {} point(s); {} failed.\n\n", e.base_file, trials.size(),
                    points.size(), failed.size());
  if (!e.references.empty()) {
    md += "| point | metric | paper | simulated | error | result |\n|---|---|---|---|---|---|\n" + table + "\n";
    std::size_t within = 0;
    for (const auto& r : refs) within += r["within"].get<bool>() ? 1 : 0;
    md += fmt::format("{} of {} reference rows within tolerance.\n", within, refs.size());
    bool any_note = false;
    for (const auto& r : refs)
      if (!r["note"].get<std::string>().empty()) {
        if (!any_note) md += "\nNotes:\n";
        any_note = true;
        md += fmt::format("- {} {}: {}\n", r["point"].get<std::string>(), r["metric"].get<std::string>(), r["note"].get<std::string>());
      }
  } else {
    md += "No reference rows: nothing to compare.\n";
  }
  if (!failed.empty()) {
    md += "\n## Failed trials\n\n";
    for (const auto& f : failed)
      md += fmt::format("- seed {}: {}; reproduce with `{}`\n", f["seed"].get<std::uint64_t>(),
                        f["reason"].get<std::string>(), f["command"].get<std::string>());
  }

  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream out(dir / name, std::ios::binary);
    out << text;
  };
  write("results.csv", csv);
  write("summary.json", summary.dump(2) + "\n");
  write("comparison.md", md);

  // The figure: reports/plot_experiment.py (matplotlib), which also works standalone.
  if (e.figure) {
    if (auto why = run_script("plot_experiment.py", {(dir / "results.csv").string(), "--summary",
                                                     (dir / "summary.json").string(), "--out",
                                                     (dir / "figure").string()}))
      std::cerr << "warning: no figure: " << *why << "\n";
  }

  // The terminal summary.
  std::cout << fmt::format("{} trials in {:.1f} s wall ({:.0f} trials/s), {} failed\n", trials.size(), wall,
                           wall > 0 ? static_cast<double>(trials.size()) / wall : 0.0, failed.size());
  for (std::size_t p = 0; p < points.size(); ++p) {
    std::string line = "  " + name_of(p) + ":";
    for (const auto& [c, m] : e.measures) {
      const auto& s = point_measures[p][c];
      line += s["p50"].is_number()
                  ? fmt::format(" {} p50 {} mean {} max {}", c, format_number(s["p50"].get<double>()),
                                format_number(s["mean"].get<double>()), format_number(s["max"].get<double>()))
                  : fmt::format(" {} no value", c);
      if (s["censored"].get<std::size_t>() > 0) line += fmt::format(" ({} censored)", s["censored"].get<std::size_t>());
    }
    std::cout << line << "\n";
  }
  for (const auto& f : failed)
    std::cout << fmt::format("  FAILED seed {}: {} — reproduce: {}\n", f["seed"].get<std::uint64_t>(),
                             f["reason"].get<std::string>(), f["command"].get<std::string>());
  std::size_t within = 0;
  for (const auto& r : refs) within += r["within"].get<bool>() ? 1 : 0;
  if (!refs.empty()) std::cout << fmt::format("reference rows within tolerance: {} of {}\n", within, refs.size());
  std::cout << "outputs in " << dir.string() << " (results.csv, summary.json, comparison.md"
            << (e.figure ? ", figure.png, figure.svg" : "") << ")\n";
  return failed.empty() && all_within ? 0 : 1;
}

}  // namespace faultline
