// A YAML document as a plain tree whose every node knows where it was written (file, line,
// column). yaml-cpp parses; this layer adds what the scenario loader needs on top: duplicate keys
// rejected, aliases expanded with limits, `--set key.path=value` overrides applied with their own
// locations, and a JSON view (report.json `config`, `faults[].spec`).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/scenario.hpp"

namespace faultline::yaml {

struct Node {
  enum class Kind { Null, Scalar, Sequence, Map };

  Kind kind = Kind::Null;
  std::string scalar;  // Scalar: the text as parsed
  bool plain = true;   // Scalar: written without quotes or tag (`5` may be a number, `"5"` is text)
  std::vector<Node> items;                     // Sequence
  std::vector<std::pair<Node, Node>> entries;  // Map: (key scalar, value), file order, keys unique
  SourceLoc loc;

  bool is_null() const { return kind == Kind::Null; }
  bool is_scalar() const { return kind == Kind::Scalar; }
  bool is_sequence() const { return kind == Kind::Sequence; }
  bool is_map() const { return kind == Kind::Map; }

  /// Map lookup by key text; nullptr when absent (or when this is not a map).
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  /// The key node of `key` (for "unknown key" locations); nullptr when absent.
  const Node* find_key(std::string_view key) const;

  /// For "got ..." in messages: "'five'", "a list", "a mapping", "nothing".
  std::string describe() const;
};

/// Parses one YAML document. Throws ScenarioError on a syntax error, a duplicate or non-scalar
/// key, more than one document, or a document too deep or too large (aliases expanded).
/// `line` and `column_offset` place the text inside a larger one (a `--set` value).
Node parse(const std::string& text, const std::string& file, int line = 1, int column_offset = 0);

/// Applies one `--set key.path=value` to `root` (a mapping): the value is parsed as YAML and
/// replaces (or adds) the node at the dotted path; missing mappings on the way are created and a
/// number selects a list item (`faults.0.at=3s`). Nodes it adds are located in the file
/// "<--set key.path=value>", line 1, column = position in that text. Throws ScenarioError there
/// when the text or path is malformed.
void apply_override(Node& root, const std::string& override_text);

/// One key of a dotted path, located where it was written (for error messages).
struct PathSegment {
  std::string key;
  SourceLoc loc;
};
/// The walk behind apply_override: replaces (or adds) the node at `path` with `value`.
/// Experiments use it to apply sweep values located in the experiment file.
void set_at_path(Node& root, const std::vector<PathSegment>& path, Node value);

/// JSON view: mappings -> objects, lists -> arrays, null -> null, plain scalars that read as an
/// integer, a finite number or a boolean -> that; every other scalar -> a string.
nlohmann::json to_json(const Node& node);

}  // namespace faultline::yaml
