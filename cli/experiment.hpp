// `faultline experiment`: sweeps of a base scenario (SCENARIOS.md, "Experiments"), run as
// trials in forked worker processes, summarised per point, compared with the paper's numbers.
//
// The parent reads and validates everything first (the experiment file, the base scenario, every
// point's scenario), so bad input exits 2 before any trial runs. Each trial is then one fork of
// that parent: SimGrid allows one simulation per process, and a fork (~2 ms) is an order of
// magnitude cheaper than exec'ing the binary (~22 ms). Results are stored by trial index, so
// results.csv is the same whatever --jobs is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/scenario.hpp"
#include "cli/yaml_tree.hpp"

namespace faultline {

struct ExperimentOptions {
  std::string file;
  std::optional<int> jobs;    // default: the number of cores
  std::optional<int> trials;  // replaces `trials` and every `trials_at`
  std::optional<std::string> out;
  bool force = false;
};

/// One override of the base scenario: a dotted path and the YAML value written for it.
struct Override {
  std::string path;
  std::vector<yaml::PathSegment> segments;
  yaml::Node value;
  std::string text;  // the value as flow YAML, for labels and `--set` in reproduce commands
};

/// Selects points: sweep values and/or a variant (`point: {...}` in trials_at and reference).
struct PointSelector {
  std::vector<std::pair<std::string, std::string>> values;  // sweep path -> canonical value
  std::optional<std::string> variant;
  SourceLoc loc;
};

struct Reference {
  std::vector<PointSelector> selectors;  // one, or two for a ratio (numerator, denominator)
  bool ratio = false;
  std::string measure;  // column of `measure`
  std::string stat;     // min, p50, mean, ...
  std::string op = "~"; // ~ (within tolerance), <, <=, >, >=
  double value = 0;
  std::optional<double> tolerance;  // absolute, or relative when tolerance_relative
  bool tolerance_relative = false;
  std::string text;  // the row as written, for comparison.md
  SourceLoc loc;
};

struct FigureSpec {
  std::string kind;  // cdf | line | bar | timeseries
  std::string x;
  std::string y;
  std::string series;  // a sweep path, or "variant"
  bool log_x = false;
  bool log_y = false;
  // kind timeseries: each point's first trial saves its run output file `series_file` (e.g.
  // MapReduce's rates.csv) as series/<variant or point>.csv; the figure draws `columns` of
  // it (one panel per column, titled by `titles`) against time, one column of panels per point.
  std::string series_file;
  std::vector<std::string> columns;
  std::vector<std::string> titles;
  std::string y_label;
};

struct Experiment {
  std::string file;
  std::string name;
  std::string description;
  std::string base_file;  // resolved relative to the experiment file
  std::vector<std::pair<std::string, std::vector<Override>>> sweep;  // path -> values
  std::vector<std::pair<std::string, std::vector<Override>>> variants;  // name -> overrides
  std::int64_t trials = 1;
  std::vector<std::pair<PointSelector, std::int64_t>> trials_at;
  std::vector<std::pair<std::string, std::string>> measures;  // column -> metric path
  std::optional<FigureSpec> figure;
  std::vector<Reference> references;
  std::string out_dir;  // set by run_experiment: where trials save timeseries files
};

/// A point of the experiment: one combination of sweep values and one variant.
struct ExperimentPoint {
  std::vector<const Override*> sweep_values;  // one per sweep axis, in axis order
  std::string variant;                         // "" when the experiment has no variants
  std::string label;                           // "params.x=[1ms, 2ms]; params.y=3" (or "")
  std::int64_t trials = 0;
  Scenario scenario;
};

/// Reads and validates an experiment file and its base scenario (ScenarioError on bad input).
Experiment load_experiment(const std::string& path);
/// Every point with its validated scenario, in sweep-major, then variant order.
std::vector<ExperimentPoint> expand_points(const Experiment& experiment,
                                           std::optional<int> trials_override);

/// Summary statistics of one measure at one point (SCENARIOS.md: count, censored, min, p10, ...).
nlohmann::json measure_summary(std::vector<double> values, const std::vector<std::uint64_t>& censored_seeds);

/// Runs the experiment and returns the exit code of SCENARIOS.md's table.
int run_experiment(const ExperimentOptions& options);

}  // namespace faultline
