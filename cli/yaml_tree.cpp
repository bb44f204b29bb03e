#include "cli/yaml_tree.hpp"

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <sstream>

namespace faultline::yaml {
namespace {

// Scenario files are a few levels deep and a few hundred nodes; these only stop hostile input
// (a recursive alias, a "billion laughs" of nested aliases) from exhausting the stack or memory.
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNodes = 200'000;

SourceLoc loc_of(const YAML::Mark& mark, const std::string& file, int line, int column_offset) {
  if (mark.line < 0 || mark.column < 0) return SourceLoc{file, line, column_offset + 1};
  // Text placed inside a larger one (a --set value) sits on one line of it.
  if (mark.line == 0) return SourceLoc{file, line, column_offset + mark.column + 1};
  return SourceLoc{file, line + mark.line, mark.column + 1};
}

struct Converter {
  const std::string& file;
  int line;
  int column_offset;
  std::size_t count = 0;

  SourceLoc loc(const YAML::Mark& mark) const { return loc_of(mark, file, line, column_offset); }

  Node convert(const YAML::Node& in, int depth, const std::string& where) {
    Node out;
    out.loc = loc(in.Mark());
    if (depth > kMaxDepth) {
      throw ScenarioError(out.loc, fmt::format("the document is nested more than {} levels deep (a "
                                               "recursive alias?)",
                                               kMaxDepth));
    }
    if (++count > kMaxNodes) {
      throw ScenarioError(out.loc, fmt::format("the document has more than {} nodes once aliases "
                                               "are expanded",
                                               kMaxNodes));
    }
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = Node::Kind::Null;
        break;
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::Scalar;
        out.scalar = in.Scalar();
        out.plain = in.Tag() == "?";
        break;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::Sequence;
        for (const auto& item : in) {
          out.items.push_back(
              convert(item, depth + 1, fmt::format("{}.{}", where, out.items.size())));
        }
        break;
      case YAML::NodeType::Map: {
        out.kind = Node::Kind::Map;
        std::map<std::string, SourceLoc> seen;
        const std::string place = where.empty() ? "at the top level" : "in " + where;
        for (const auto& entry : in) {
          Node key;
          key.loc = loc(entry.first.Mark());
          if (!entry.first.IsScalar()) {
            throw ScenarioError(
                key.loc, fmt::format("expected a plain key {}, got {}", place,
                                     entry.first.IsNull() ? "an empty key" : "a list or mapping"));
          }
          key.kind = Node::Kind::Scalar;
          key.scalar = entry.first.Scalar();
          key.plain = entry.first.Tag() == "?";
          auto [it, inserted] = seen.emplace(key.scalar, key.loc);
          if (!inserted) {
            throw ScenarioError(key.loc,
                                fmt::format("duplicate key '{}' {} (first at {}:{})", key.scalar,
                                            place, it->second.line, it->second.column),
                                "remove one of them");
          }
          const std::string child = where.empty() ? key.scalar : where + "." + key.scalar;
          Node value = convert(entry.second, depth + 1, child);
          out.entries.emplace_back(std::move(key), std::move(value));
        }
        break;
      }
    }
    return out;
  }
};

[[noreturn]] void syntax_error(const YAML::Exception& e, const std::string& file, int line,
                               int column_offset) {
  SourceLoc loc = loc_of(e.mark, file, line, column_offset);
  if (dynamic_cast<const YAML::DeepRecursion*>(&e) != nullptr) {
    throw ScenarioError(loc, "YAML syntax error: the document is nested too deeply");
  }
  std::string message = e.msg.empty() ? std::string(e.what()) : e.msg;
  throw ScenarioError(loc, "YAML syntax error: " + message);
}

/// Counts the documents of a stream without building them. YAML::LoadAll is not used: on some
/// malformed input (a stray ',' at the start of a document) yaml-cpp 0.7 returns empty documents
/// forever without consuming anything, so LoadAll never ends; here that is a syntax error.
struct DocumentCount {
  int documents = 0;
  YAML::Mark second_mark;  // the first node of the second document
  bool stuck = false;
  YAML::Mark stuck_mark;
};

class FirstNodeMarks : public YAML::EventHandler {
 public:
  YAML::Mark document_start;
  std::optional<YAML::Mark> first_node;

  void OnDocumentStart(const YAML::Mark& mark) override {
    document_start = mark;
    first_node.reset();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    node(mark);
  }
  void OnMapEnd() override {}

 private:
  void node(const YAML::Mark& mark) {
    if (!first_node) first_node = mark;
  }
};

DocumentCount count_documents(const std::string& text) {
  constexpr int kMaxDocuments = 1000;
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  FirstNodeMarks marks;
  DocumentCount count;
  int previous_start = -1;
  while (count.documents < kMaxDocuments && parser.HandleNextDocument(marks)) {
    if (marks.document_start.pos == previous_start) {  // nothing consumed: yaml-cpp is stuck
      count.stuck = true;
      count.stuck_mark = marks.document_start;
      return count;
    }
    previous_start = marks.document_start.pos;
    if (++count.documents == 2) count.second_mark = marks.first_node.value_or(marks.document_start);
  }
  return count;
}

bool looks_numeric(std::string_view s) {
  if (s.empty()) return false;
  std::size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i < s.size() && s[i] == '.') ++i;
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

}  // namespace

const Node* Node::find(std::string_view key) const {
  if (kind != Kind::Map) return nullptr;
  for (const auto& [k, v] : entries)
    if (k.scalar == key) return &v;
  return nullptr;
}

Node* Node::find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->find(key));
}

const Node* Node::find_key(std::string_view key) const {
  if (kind != Kind::Map) return nullptr;
  for (const auto& [k, v] : entries)
    if (k.scalar == key) return &k;
  return nullptr;
}

std::string Node::describe() const {
  switch (kind) {
    case Kind::Null:
      return "nothing";
    case Kind::Scalar: {
      std::string text = scalar.size() > 40 ? scalar.substr(0, 37) + "..." : scalar;
      return "'" + text + "'";
    }
    case Kind::Sequence:
      return "a list";
    case Kind::Map:
      return "a mapping";
  }
  return "?";
}

Node parse(const std::string& text, const std::string& file, int line, int column_offset) {
  try {
    const DocumentCount count = count_documents(text);
    if (count.stuck) {
      const char c = count.stuck_mark.pos >= 0 &&
                             static_cast<std::size_t>(count.stuck_mark.pos) < text.size()
                         ? text[static_cast<std::size_t>(count.stuck_mark.pos)]
                         : '?';
      throw ScenarioError(loc_of(count.stuck_mark, file, line, column_offset),
                          fmt::format("YAML syntax error: unexpected '{}'", c));
    }
    if (count.documents == 0) {
      Node empty;
      empty.loc = SourceLoc{file, line, column_offset + 1};
      return empty;
    }
    if (count.documents > 1) {
      throw ScenarioError(loc_of(count.second_mark, file, line, column_offset),
                          fmt::format("expected one YAML document, found {}", count.documents),
                          "remove the '---' separator");
    }
    Converter converter{file, line, column_offset};
    return converter.convert(YAML::Load(text), 0, "");
  } catch (const YAML::Exception& e) {
    syntax_error(e, file, line, column_offset);
  }
}

void apply_override(Node& root, const std::string& override_text) {
  const std::string file = "<--set " + override_text + ">";
  auto at = [&](std::size_t position) {
    return SourceLoc{file, 1, static_cast<int>(position) + 1};
  };
  const std::size_t eq = override_text.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw ScenarioError(at(0), "expected key.path=value",
                        "e.g. --set params.election_timeout=[100ms,200ms]");
  }
  struct Segment {
    std::string key;
    std::size_t position;
  };
  std::vector<Segment> path;
  for (std::size_t start = 0; start <= eq;) {
    std::size_t end = override_text.find('.', start);
    if (end == std::string::npos || end > eq) end = eq;
    std::string key = override_text.substr(start, end - start);
    if (key.empty())
      throw ScenarioError(at(start), "empty key in the path", "expected key.path=value");
    path.push_back({key, start});
    start = end + 1;
  }
  Node value = parse(override_text.substr(eq + 1), file, 1, static_cast<int>(eq) + 1);
  if (value.is_null()) value.loc = at(eq + 1);
  std::vector<PathSegment> segments;
  for (const auto& s : path) segments.push_back({s.key, at(s.position)});
  set_at_path(root, segments, std::move(value));
}

void set_at_path(Node& root, const std::vector<PathSegment>& path, Node value) {
  Node* current = &root;
  std::string walked;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const PathSegment& segment = path[i];
    const bool last = i + 1 == path.size();
    if (current->is_null()) {  // `params:` left empty: becomes the mapping being set
      current->kind = Node::Kind::Map;
    }
    Node* next = nullptr;
    if (current->is_map()) {
      next = current->find(segment.key);
      if (next == nullptr) {
        Node key;
        key.kind = Node::Kind::Scalar;
        key.scalar = segment.key;
        key.loc = segment.loc;
        Node fresh;
        fresh.kind = last ? Node::Kind::Null : Node::Kind::Map;
        fresh.loc = segment.loc;
        current->entries.emplace_back(std::move(key), std::move(fresh));
        next = &current->entries.back().second;
      }
    } else if (current->is_sequence()) {
      std::size_t index = 0;
      auto [ptr, ec] =
          std::from_chars(segment.key.data(), segment.key.data() + segment.key.size(), index);
      if (ec != std::errc() || ptr != segment.key.data() + segment.key.size()) {
        throw ScenarioError(
            segment.loc,
            fmt::format("'{}' is a list: expected an item number, got '{}'", walked, segment.key));
      }
      if (index >= current->items.size()) {
        throw ScenarioError(segment.loc,
                            fmt::format("'{}' has {} items: item {} does not exist (items count "
                                        "from 0)",
                                        walked, current->items.size(), index));
      }
      next = &current->items[index];
    } else {
      throw ScenarioError(segment.loc,
                          fmt::format("'{}' is {}, not a mapping: it has no key '{}'", walked,
                                      current->describe(), segment.key));
    }
    walked += (walked.empty() ? "" : ".") + segment.key;
    current = next;
  }
  *current = std::move(value);
}

nlohmann::json to_json(const Node& node) {
  switch (node.kind) {
    case Node::Kind::Null:
      return nullptr;
    case Node::Kind::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node.items) out.push_back(to_json(item));
      return out;
    }
    case Node::Kind::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [key, value] : node.entries) out[key.scalar] = to_json(value);
      return out;
    }
    case Node::Kind::Scalar:
      break;
  }
  const std::string& s = node.scalar;
  if (!node.plain) return s;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (!looks_numeric(s)) return s;
  const char* begin = s.data() + (s[0] == '+' ? 1 : 0);
  const char* end = s.data() + s.size();
  std::int64_t integer = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, integer); ec == std::errc() && ptr == end)
    return integer;
  double real = 0;
  if (auto [ptr, ec] = std::from_chars(begin, end, real);
      ec == std::errc() && ptr == end && std::isfinite(real))
    return real;
  return s;
}

}  // namespace faultline::yaml
