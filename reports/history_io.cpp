#include "reports/history_io.hpp"

#include "common/suggest.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>

namespace faultline::lin {

HistoryError::HistoryError(std::string message, std::size_t line, std::size_t column, std::string suggestion)
    : std::runtime_error(suggestion.empty() ? message : message + " (" + suggestion + ")"),
      line_(line),
      column_(column),
      message_(std::move(message)),
      suggestion_(std::move(suggestion)) {}

std::string HistoryError::format(const std::string& path) const {
  std::string out = fmt::format("{}:{}:{}: error: {}", path, line_, column_, message_);
  if (!suggestion_.empty()) out += fmt::format(" ({})", suggestion_);
  return out;
}

const char* to_string(HistoryFormat format) { return format == HistoryFormat::Jsonl ? "jsonl" : "edn"; }

namespace {

using nlohmann::json;

// Deeper nesting than this is refused (a recursive reader must not overflow the stack, and
// nlohmann's dump() recurses too). Real histories nest three levels deep.
constexpr std::size_t kMaxDepth = 200;

struct Pos {
  std::size_t line = 1;
  std::size_t column = 1;
};

[[noreturn]] void fail(Pos at, std::string message, std::string suggestion = {}) {
  throw HistoryError(std::move(message), at.line, at.column, std::move(suggestion));
}

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// Line and column (in code points) of byte `offset` of `text`.
Pos pos_at(std::string_view text, std::size_t offset) {
  Pos p;
  offset = std::min(offset, text.size());
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if (!is_continuation(text[i])) {
      ++p.column;
    }
  }
  return p;
}

/// Offset of the first byte that is not valid UTF-8, or npos.
std::size_t invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size() || !is_continuation(s[i + k])) return i;
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    }
    const bool overlong = (n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ---------------------------------------------------------------------------------------------
// "Did you mean": the shared edit distance (common/suggest.hpp), plus a prefix rule for the short
// keywords of histories ("okay" -> "ok", "inv" -> "invoke").

/// "did you mean 'x'? valid: a, b" or "valid: a, b".
std::string suggest(std::string_view word, const std::vector<std::string>& valid) {
  std::string lower(word);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t limit = std::max<std::size_t>(1, word.size() / 3);
  const std::string* best = nullptr;
  std::size_t best_distance = 0;
  if (word.size() <= 64) {
    for (const auto& v : valid) {
      std::size_t d = edit_distance(lower, v);
      if (d > limit && lower.size() > 1 && (lower.rfind(v, 0) == 0 || v.rfind(lower, 0) == 0))
        d = limit;  // a prefix: "okay" -> "ok", "inv" -> "invoke"
      if (d <= limit && (!best || d < best_distance)) {
        best = &v;
        best_distance = d;
      }
    }
  }
  std::string out = best ? fmt::format("did you mean '{}'? ", *best) : std::string();
  return out + "valid: " + join(valid);
}

/// A value for a message, shortened: strings without quotes (for 'name' messages).
std::string shown(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

/// A value as JSON text, shortened (for "must be ..., not X" messages).
std::string literal(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

// ---------------------------------------------------------------------------------------------
// One op line / op map, before pairing.

enum Field { kProcess, kType, kF, kKey, kValue, kResult, kTime, kFieldCount };
constexpr std::array<const char*, kFieldCount> kFieldNames = {"process", "type", "f", "key", "value", "result", "time"};

std::optional<Field> field_of(std::string_view name) {
  for (std::size_t i = 0; i < kFieldNames.size(); ++i)
    if (name == kFieldNames[i]) return static_cast<Field>(i);
  return std::nullopt;
}

struct Record {
  Pos at;                                    // where the op starts
  std::array<Pos, kFieldCount> where{};      // where each field's value starts
  std::array<bool, kFieldCount> has{};
  std::array<json, kFieldCount> v{};
  bool process_keyword = false;              // EDN `:process :nemesis`: ignored
};

enum class Syntax { Jsonl, Edn, Memory };

class Builder {
 public:
  Builder(Model model, Syntax syntax) : model_(model), syntax_(syntax), functions_(model_functions(model)) {}

  void add(const Record& r) {
    const std::size_t index = next_index_++;
    if (r.process_keyword) return;  // the nemesis and other non-client processes

    const auto need = [&](Field f) -> const json& {
      if (!r.has[f]) fail(r.at, fmt::format("missing key {}", name(f)));
      return r.v[f];
    };
    const json& process_value = need(kProcess);
    if (!process_value.is_number_integer())
      fail(r.where[kProcess], fmt::format("{} must be an integer{}, not {}", name(kProcess),
                                          syntax_ == Syntax::Edn ? " or a keyword" : "", literal(process_value)));
    const std::int64_t process = process_value.is_number_unsigned()
                                     ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                                           process_value.get<std::uint64_t>(), INT64_MAX))
                                     : process_value.get<std::int64_t>();

    const json& type_value = need(kType);
    static const std::vector<std::string> kTypes = {"invoke", "ok", "fail", "info"};
    const std::string type_name = type_value.is_string() ? type_value.get<std::string>() : type_value.dump();
    const auto type_it = std::find(kTypes.begin(), kTypes.end(), type_name);
    if (!type_value.is_string() || type_it == kTypes.end())
      fail(r.where[kType], fmt::format("unknown {} '{}'", name(kType), shown(type_value)), suggest(type_name, kTypes));
    const auto type = static_cast<OpType>(type_it - kTypes.begin());

    double time = 0;
    if (r.has[kTime] && !r.v[kTime].is_null()) {
      if (!r.v[kTime].is_number())
        fail(r.where[kTime], fmt::format("{} must be a number, not {}", name(kTime), literal(r.v[kTime])));
      time = r.v[kTime].get<double>();
      if (syntax_ == Syntax::Edn) time /= 1e9;  // Jepsen: nanoseconds
    }

    if (type == OpType::Invoke) {
      invoke(r, index, process, time);
    } else {
      complete(r, index, process, type, time);
    }
  }

  History finish() {
    History h;
    h.ops.reserve(ops_.size());
    for (std::size_t i = 0; i < ops_.size(); ++i)
      if (alive_[i]) h.ops.push_back(std::move(ops_[i]));
    return h;
  }

 private:
  std::string name(Field f) const {
    return syntax_ == Syntax::Edn ? std::string(":") + kFieldNames[f] : fmt::format("'{}'", kFieldNames[f]);
  }

  bool is_read(const std::string& f) const { return f == "read" || f == "get"; }

  std::string key_of(const Record& r) const {
    if (!r.has[kKey]) fail(r.at, fmt::format("missing key {} (the {} model needs one on every op)", name(kKey), to_string(model_)));
    const json& k = r.v[kKey];
    if (k.is_string()) return k.get<std::string>();
    if (syntax_ == Syntax::Edn && k.is_number_integer()) return k.dump();
    fail(r.where[kKey], fmt::format("{} must be a string, not {}", name(kKey), literal(k)));
  }

  /// [[read|write, key, value], ...] with keys as strings.
  json txn_of(const json& v, Pos at) const {
    if (!v.is_array())
      fail(at, fmt::format("a txn value must be a list of [read|write, key, value], not {}", literal(v)));
    json out = json::array();
    for (const auto& m : v) {
      if (!m.is_array() || m.size() != 3)
        fail(at, fmt::format("a txn micro-op must be [read|write, key, value], not {}", literal(m)));
      const std::string f = m[0].is_string() ? m[0].get<std::string>() : m[0].dump();
      if (f != "read" && f != "write")
        fail(at, fmt::format("unknown txn micro-op '{}'", shown(m[0])), suggest(f, {"read", "write"}));
      std::string key;
      if (m[1].is_string())
        key = m[1].get<std::string>();
      else if (m[1].is_number_integer())
        key = m[1].dump();
      else
        fail(at, fmt::format("a txn key must be a string, not {}", literal(m[1])));
      out.push_back(json::array({f, key, m[2]}));
    }
    return out;
  }

  json argument(const Record& r, const std::string& f) const {
    const json value = r.has[kValue] ? r.v[kValue] : json();
    const Pos at = r.where[kValue];
    if (f == "cas") {
      if (!value.is_array() || value.size() != 2)
        fail(r.has[kValue] ? at : r.at, fmt::format("a cas value must be [expected, new], not {}", literal(value)));
      if (model_ == Model::Kv && (!value[0].is_string() || !value[1].is_string()))
        fail(at, fmt::format("a kv cas value must be two strings [expected, new], not {}", literal(value)));
      return value;
    }
    if (f == "txn") return txn_of(value, r.has[kValue] ? at : r.at);
    if (model_ == Model::Kv && (f == "put" || f == "append") && !value.is_string())
      fail(r.has[kValue] ? at : r.at, fmt::format("a kv {} value must be a string, not {}", f, literal(value)));
    return value;
  }

  void invoke(const Record& r, std::size_t index, std::int64_t process, double time) {
    const json& f_value = r.has[kF] ? r.v[kF] : fail_missing(r, kF);
    const std::string f = f_value.is_string() ? f_value.get<std::string>() : f_value.dump();
    if (!f_value.is_string() || std::find(functions_.begin(), functions_.end(), f) == functions_.end())
      fail(r.where[kF], fmt::format("unknown {} '{}' for the {} model", name(kF), shown(f_value), to_string(model_)),
           suggest(f, functions_));
    if (auto it = open_.find(process); it != open_.end()) {
      const Op& open = ops_[it->second];
      fail(r.at,
           fmt::format("process {} invokes '{}' while its '{}' (line {}) is still open", process, f, open.f,
                       open.invoke_line),
           "a process has at most one operation open; after an info, a client continues under a new process id");
    }
    Op op;
    op.process = process;
    op.f = f;
    if (model_ == Model::Kv) op.key = key_of(r);
    op.value = argument(r, f);
    op.status = Op::Status::Info;  // until its completion says otherwise
    op.invoke_index = op.complete_index = index;
    op.invoke_line = r.at.line;
    op.invoke_time = op.complete_time = time;
    open_[process] = ops_.size();
    ops_.push_back(std::move(op));
    alive_.push_back(true);
  }

  [[noreturn]] const json& fail_missing(const Record& r, Field f) const {
    fail(r.at, fmt::format("missing key {}", name(f)));
  }

  void complete(const Record& r, std::size_t index, std::int64_t process, OpType type, double time) {
    auto it = open_.find(process);
    if (it == open_.end())
      fail(r.at, fmt::format("'{}' completion of process {} has no pending invocation", to_string(type), process),
           "every completion follows an invoke of the same process");
    const std::size_t i = it->second;
    Op& op = ops_[i];
    if (r.has[kF] && !(r.v[kF].is_string() && r.v[kF].get<std::string>() == op.f))
      fail(r.where[kF], fmt::format("this completion's {} '{}' does not match its invocation's '{}' (line {})", name(kF),
                                    shown(r.v[kF]), op.f, op.invoke_line));
    if (model_ == Model::Kv && r.has[kKey] && op.key && key_of(r) != *op.key)
      fail(r.where[kKey], fmt::format("this completion's key '{}' does not match its invocation's '{}' (line {})",
                                      key_of(r), *op.key, op.invoke_line));
    open_.erase(it);
    switch (type) {
      case OpType::Fail:
        alive_[i] = false;  // it did not happen
        return;
      case OpType::Info:
        if (r.has[kTime]) op.complete_time = time;
        return;
      case OpType::Ok:
      case OpType::Invoke:
        break;
    }
    op.status = Op::Status::Ok;
    op.complete_index = index;
    op.complete_time = time;
    const json value = r.has[kValue] ? r.v[kValue] : json();
    const Pos at = r.has[kValue] ? r.where[kValue] : r.at;
    if (is_read(op.f)) {
      if (syntax_ == Syntax::Edn) {
        // Knossos: a read that completed with nil is a read of unknown value.
        op.output = value;
        op.output_known = !value.is_null();
      } else {
        if (!r.has[kValue])
          fail(r.at, fmt::format("missing key {}: an ok {} says what it read (null is a value; an unknown read is "
                                 "'info')",
                                 name(kValue), op.f));
        if (model_ == Model::Kv && !value.is_string() && !value.is_null())
          fail(at, fmt::format("a kv get reads a string, not {}", literal(value)));
        op.output = value;
      }
    } else if (op.f == "txn") {
      op.output = txn_of(r.has[kValue] ? value : op.value, at);
      check_txn_shape(op, r.has[kValue] ? value : op.value, at);
    } else {
      op.output = r.has[kValue] ? value : op.value;
    }
    if (op.f == "cas") {
      if (syntax_ == Syntax::Edn) {
        op.cas_result = true;  // Jepsen: an ok cas succeeded; one that did not match is a fail
      } else if (r.has[kResult] && !r.v[kResult].is_null()) {
        if (!r.v[kResult].is_boolean())
          fail(r.where[kResult], fmt::format("{} must be true or false, not {}", name(kResult), literal(r.v[kResult])));
        op.cas_result = r.v[kResult].get<bool>();
      }
    }
  }

  /// The completed txn has the invocation's micro-ops, in order (reads filled in).
  void check_txn_shape(const Op& op, const json& completed, Pos at) const {
    const json& invoked = op.value;
    bool same = completed.size() == invoked.size();
    for (std::size_t k = 0; same && k < invoked.size(); ++k) {
      const json& a = invoked[k];
      const json& b = completed[k];
      same = b.is_array() && b.size() == 3 && b[0] == a[0] &&
             (b[1] == a[1] || (b[1].is_number_integer() && b[1].dump() == a[1].get<std::string>()));
    }
    if (!same)
      fail(at, fmt::format("the completed txn {} does not have the micro-ops of its invocation {} (line {})",
                           literal(completed), literal(invoked), op.invoke_line));
  }

  Model model_;
  Syntax syntax_;
  std::vector<std::string> functions_;
  std::vector<Op> ops_;
  std::vector<bool> alive_;
  std::map<std::int64_t, std::size_t> open_;  // process -> its open op in ops_
  std::size_t next_index_ = 0;
};

// ---------------------------------------------------------------------------------------------
// JSONL

/// Nesting depth of a JSON text, strings skipped (refuse absurd nesting before nlohmann builds it).
std::size_t json_depth(std::string_view s, std::size_t& where) {
  std::size_t depth = 0, max = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max) {
        max = depth;
        where = i;
        if (max > kMaxDepth) break;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max;
}

/// Offset in `line` of the value of top-level key `key` (best effort: the first `"key"` followed by
/// ':'), or npos.
std::size_t locate_value(std::string_view line, std::string_view key) {
  const std::string quoted = fmt::format("\"{}\"", key);
  std::size_t from = 0;
  while (true) {
    const std::size_t k = line.find(quoted, from);
    if (k == std::string_view::npos) return k;
    std::size_t i = k + quoted.size();
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i < line.size() && line[i] == ':') {
      ++i;
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
      return i;
    }
    from = k + 1;
  }
}

std::string strip_nlohmann(const std::string& what) {
  // "[json.exception.parse_error.101] parse error at line 1, column 5: syntax error while ..."
  std::string s = what;
  if (s.rfind("[json.exception", 0) == 0)
    if (auto p = s.find("] "); p != std::string::npos) s = s.substr(p + 2);
  if (s.rfind("parse error", 0) == 0)
    if (auto p = s.find(": "); p != std::string::npos) s = s.substr(p + 2);
  return s;
}

/// The start of the JSON token that ends at `at` (a string or a literal/number), else `at`.
std::size_t token_start(std::string_view line, std::size_t at) {
  if (at >= line.size()) return at;
  const auto literal_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.';
  };
  if (line[at] == '"') {
    std::size_t j = at;
    while (j > 0) {
      --j;
      if (line[j] == '"' && (j == 0 || line[j - 1] != '\\')) return j;
    }
    return at;
  }
  if (!literal_char(line[at])) return at;
  std::size_t j = at;
  while (j > 0 && literal_char(line[j - 1])) --j;
  return j;
}

History parse_jsonl(std::string_view text, Model model) {
  Builder builder(model, Syntax::Jsonl);
  std::size_t start = 0;
  std::size_t line_no = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto first = line.find_first_not_of(" \t\f\v");
    if (first == std::string_view::npos) continue;
    const auto column = [&](std::size_t offset) { return pos_at(line, offset).column; };

    if (auto bad = invalid_utf8(line); bad != std::string_view::npos)
      fail({line_no, column(bad)}, "invalid UTF-8");
    std::size_t deep = 0;
    if (json_depth(line, deep) > kMaxDepth)
      fail({line_no, column(deep)}, fmt::format("JSON nested more than {} levels deep", kMaxDepth));
    json j;
    try {
      j = json::parse(line.begin(), line.end());
    } catch (const json::parse_error& e) {
      std::size_t at = std::min(e.byte == 0 ? 0 : e.byte - 1, line.size());
      std::string message = "invalid JSON: " + strip_nlohmann(e.what());
      if (message.find("unexpected") != std::string::npos && message.find("end of input") == std::string::npos)
        at = token_start(line, at);  // nlohmann points at the end of the offending token
      std::string suggestion;
      if (line[first] != '{')
        suggestion = "history.jsonl has one JSON object per line";
      else if (end == text.size() && e.byte > line.size())
        suggestion = "the file may be truncated";
      fail({line_no, column(at)}, std::move(message), std::move(suggestion));
    }
    if (!j.is_object())
      fail({line_no, column(first)}, fmt::format("expected a JSON object (one op per line), not {}", literal(j)));
    Record r;
    r.at = {line_no, column(first)};
    r.where.fill(r.at);
    for (auto it = j.begin(); it != j.end(); ++it) {
      const auto f = field_of(it.key());
      if (!f) continue;  // unknown keys are ignored
      r.has[*f] = true;
      r.v[*f] = it.value();
      if (auto at = locate_value(line, it.key()); at != std::string_view::npos) r.where[*f] = {line_no, column(at)};
    }
    builder.add(r);
  }
  return builder.finish();
}

// ---------------------------------------------------------------------------------------------
// EDN

class EdnReader {
 public:
  EdnReader(std::string_view text, Builder& builder) : s_(text), builder_(builder) {}

  void run() {
    skip(0);
    while (!eof()) {
      skip_tags(0);
      const Pos start = pos_;
      const char c = peek();
      if (c == '{') {
        read_op(1);
      } else if (c == '[' || c == '(') {
        const char closer = c == '[' ? ']' : ')';
        bump();
        while (true) {
          skip(1);
          if (eof()) fail_eof(start, c);
          skip_tags(1);
          const char d = peek();
          if (d == closer) {
            bump();
            break;
          }
          if (is_closer(d)) fail_mismatch(start, c);
          if (d == '{') {
            read_op(2);
          } else {
            const Pos at = pos_;
            const json v = value(2);
            fail(at, fmt::format("expected an op map {{...}}, found {}", describe(v)));
          }
        }
      } else if (is_closer(c)) {
        fail(start, fmt::format("unmatched '{}'", c));
      } else {
        const json v = value(1);
        fail(start, fmt::format("expected a vector of op maps or an op map, found {}", describe(v)),
             "is this a Jepsen EDN history?");
      }
      skip(0);
    }
  }

 private:
  enum class Kind { Nil, Bool, Number, String, Keyword, Symbol, Char, Vector, Map, Set };

  bool eof() const { return i_ >= s_.size(); }
  char peek(std::size_t ahead = 0) const { return i_ + ahead < s_.size() ? s_[i_ + ahead] : '\0'; }
  void bump() {
    const char c = s_[i_++];
    if (c == '\n') {
      ++pos_.line;
      pos_.column = 1;
    } else if (!is_continuation(c)) {
      ++pos_.column;
    }
  }
  static bool is_closer(char c) { return c == ']' || c == ')' || c == '}'; }
  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ','; }
  static bool is_delimiter(char c) {
    return is_space(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || c == '"' ||
           c == ';' || c == '\\';
  }

  std::string describe(const json& v) const {
    switch (kind_) {
      case Kind::Vector: return "a list";
      case Kind::Set: return "a set";
      case Kind::Map: return "a map";
      case Kind::Keyword: return ":" + shown(v);
      case Kind::String: return "the string \"" + shown(v) + "\"";
      default: return "'" + shown(v) + "'";
    }
  }

  /// Whitespace, commas, `;` comments and `#_` discarded forms.
  void skip(std::size_t depth) {
    while (!eof()) {
      const char c = peek();
      if (is_space(c)) {
        bump();
      } else if (c == ';') {
        while (!eof() && peek() != '\n') bump();
      } else if (c == '#' && peek(1) == '_') {
        const Pos at = pos_;
        bump();
        bump();
        skip(depth + 1);
        if (eof() || is_closer(peek())) fail(at, "'#_' discards nothing");
        value(depth + 1);
      } else {
        break;
      }
    }
  }

  /// `#some.tag` before a form: the tag is ignored (Jepsen's `#jepsen.history.Op{...}`).
  void skip_tags(std::size_t depth) {
    while (peek() == '#' && std::isalpha(static_cast<unsigned char>(peek(1)))) {
      bump();
      while (!eof() && !is_delimiter(peek())) bump();
      skip(depth);
    }
  }

  [[noreturn]] void fail_eof(Pos opened, char opener) const {
    // Report where the text stops (the last non-blank character), naming the unclosed bracket.
    std::size_t end = s_.size();
    while (end > 0 && (is_space(s_[end - 1]))) --end;
    Pos at = pos_at(s_, end);
    fail(at,
         fmt::format("unexpected end of file: the '{}' at line {}, column {} is never closed", opener, opened.line,
                     opened.column),
         "the file may be truncated");
  }

  [[noreturn]] void fail_mismatch(Pos opened, char opener) const {
    const char expected = opener == '[' ? ']' : opener == '(' ? ')' : '}';
    fail(pos_, fmt::format("unexpected '{}': expected '{}' to close the '{}' at line {}, column {}", peek(), expected,
                           opener, opened.line, opened.column));
  }

  void check_depth(std::size_t depth) const {
    if (depth > kMaxDepth) fail(pos_, fmt::format("EDN nested more than {} levels deep", kMaxDepth));
  }

  /// A sequence up to `closer`; the opener is consumed.
  json sequence(char opener, Pos opened, std::size_t depth) {
    const char closer = opener == '[' ? ']' : opener == '(' ? ')' : '}';
    json out = json::array();
    while (true) {
      skip(depth);
      if (eof()) fail_eof(opened, opener);
      const char c = peek();
      if (c == closer) {
        bump();
        return out;
      }
      if (is_closer(c)) fail_mismatch(opened, opener);
      out.push_back(value(depth + 1));
    }
  }

  static std::string key_string(const json& k) { return k.is_string() ? k.get<std::string>() : k.dump(); }

  /// Any EDN value as JSON (keywords and symbols as strings without ':'); sets its kind in kind_.
  json value(std::size_t depth) {
    check_depth(depth);
    skip(depth);
    skip_tags(depth);
    if (eof()) fail(pos_, "unexpected end of file: expected a value", "the file may be truncated");
    const Pos start = pos_;
    const char c = peek();
    switch (c) {
      case '"': {
        json v = string_literal();
        kind_ = Kind::String;
        return v;
      }
      case '[':
      case '(': {
        bump();
        json v = sequence(c, start, depth);
        kind_ = Kind::Vector;
        return v;
      }
      case '{': {
        bump();
        const json items = sequence('{', start, depth);
        if (items.size() % 2 != 0) fail(start, "a map needs a value for every key (odd number of forms)");
        json m = json::object();
        for (std::size_t k = 0; k < items.size(); k += 2) m[key_string(items[k])] = items[k + 1];
        kind_ = Kind::Map;
        return m;
      }
      case ']':
      case ')':
      case '}':
        fail(start, fmt::format("unmatched '{}'", c));
      case '^': {  // metadata: ignored
        bump();
        value(depth + 1);
        return value(depth + 1);
      }
      case '\\':
        return char_literal();
      case '#': {
        const char d = peek(1);
        if (d == '{') {
          bump();
          bump();
          json v = sequence('{', start, depth);
          kind_ = Kind::Set;
          return v;
        }
        if (d == '"') {  // regex
          bump();
          json v = string_literal();
          kind_ = Kind::String;
          return v;
        }
        if (d == '#') {  // ##Inf, ##NaN
          bump();
          bump();
          std::string tok = token();
          kind_ = Kind::Symbol;
          return "##" + tok;
        }
        fail(start, "unexpected '#'");
      }
      default:
        break;
    }
    const std::string tok = token();
    if (tok.empty()) fail(start, fmt::format("unexpected '{}'", c));
    if (tok[0] == ':') {
      std::size_t skip_colons = tok.size() > 1 && tok[1] == ':' ? 2 : 1;
      if (tok.size() == skip_colons) fail(start, "empty keyword ':'");
      kind_ = Kind::Keyword;
      return tok.substr(skip_colons);
    }
    const bool numeric = std::isdigit(static_cast<unsigned char>(tok[0])) ||
                         ((tok[0] == '+' || tok[0] == '-' || tok[0] == '.') && tok.size() > 1 &&
                          std::isdigit(static_cast<unsigned char>(tok[1])));
    if (numeric) {
      kind_ = Kind::Number;
      return number(tok, start);
    }
    if (tok == "nil") {
      kind_ = Kind::Nil;
      return nullptr;
    }
    if (tok == "true" || tok == "false") {
      kind_ = Kind::Bool;
      return tok == "true";
    }
    kind_ = Kind::Symbol;
    return tok;
  }

  std::string token() {
    const std::size_t from = i_;
    while (!eof() && !is_delimiter(peek())) bump();
    return std::string(s_.substr(from, i_ - from));
  }

  static json number(std::string tok, Pos at) {
    const std::string original = tok;
    const auto bad = [&]() -> json { fail(at, fmt::format("invalid number '{}'", original)); };
    bool negative = false;
    std::string body = tok;
    if (body[0] == '+' || body[0] == '-') {
      negative = body[0] == '-';
      body = body.substr(1);
    }
    if (!body.empty() && body.back() == 'N') body.pop_back();  // bigint
    const auto all_digits = [](const std::string& t, int base) {
      return !t.empty() && std::all_of(t.begin(), t.end(), [&](char ch) {
        return base == 16 ? std::isxdigit(static_cast<unsigned char>(ch)) != 0
                          : std::isdigit(static_cast<unsigned char>(ch)) != 0;
      });
    };
    int base = 10;
    std::string digits = body;
    if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
      base = 16;
      digits = digits.substr(2);
    }
    if (all_digits(digits, base)) {
      std::uint64_t u = 0;
      const auto res = std::from_chars(digits.data(), digits.data() + digits.size(), u, base);
      if (res.ec == std::errc() && res.ptr == digits.data() + digits.size()) {
        if (!negative) {
          if (u <= static_cast<std::uint64_t>(INT64_MAX)) return static_cast<std::int64_t>(u);
          return u;
        }
        if (u <= static_cast<std::uint64_t>(INT64_MAX)) return -static_cast<std::int64_t>(u);
        if (u == static_cast<std::uint64_t>(INT64_MAX) + 1) return INT64_MIN;
      }
      if (base == 16) return bad();
      // Too large for 64 bits: keep it approximately.
    }
    if (auto slash = body.find('/'); slash != std::string::npos) {  // ratio
      const std::string a = body.substr(0, slash), b = body.substr(slash + 1);
      if (!all_digits(a, 10) || !all_digits(b, 10)) return bad();
      const double d = std::strtod(b.c_str(), nullptr);
      if (d == 0) return bad();
      const double q = std::strtod(a.c_str(), nullptr) / d;
      return negative ? -q : q;
    }
    if (!body.empty() && body.back() == 'M') body.pop_back();  // bigdecimal
    if (body.empty() || !std::all_of(body.begin(), body.end(), [](char ch) {
          return std::isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == 'e' || ch == 'E' || ch == '+' ||
                 ch == '-';
        }))
      return bad();
    char* end = nullptr;
    const double d = std::strtod(body.c_str(), &end);
    if (end != body.c_str() + body.size() || !std::isfinite(d)) return bad();
    return negative ? -d : d;
  }

  json string_literal() {
    const Pos opened = pos_;
    bump();  // the quote
    std::string out;
    while (true) {
      if (eof()) fail(opened, "unterminated string (it starts here)", "the file may be truncated");
      const char c = peek();
      if (c == '"') {
        bump();
        return out;
      }
      if (c != '\\') {
        out += c;
        bump();
        continue;
      }
      const Pos esc = pos_;
      bump();
      if (eof()) fail(opened, "unterminated string (it starts here)", "the file may be truncated");
      const char e = peek();
      bump();
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'u': {
          std::uint32_t cp = hex4(esc);
          if (cp >= 0xD800 && cp <= 0xDBFF && peek() == '\\' && peek(1) == 'u') {
            bump();
            bump();
            const std::uint32_t low = hex4(esc);
            if (low < 0xDC00 || low > 0xDFFF) fail(esc, "invalid \\u escape (unpaired surrogate)");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xD800 && cp <= 0xDFFF) {
            fail(esc, "invalid \\u escape (unpaired surrogate)");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(esc, fmt::format("invalid escape '\\{}' in a string", e));
      }
    }
  }

  std::uint32_t hex4(Pos esc) {
    std::uint32_t cp = 0;
    for (int k = 0; k < 4; ++k) {
      if (eof() || !std::isxdigit(static_cast<unsigned char>(peek()))) fail(esc, "invalid \\u escape");
      const char h = peek();
      cp = cp * 16 + static_cast<std::uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                                          : std::tolower(h) - 'a' + 10);
      bump();
    }
    return cp;
  }

  json char_literal() {
    const Pos at = pos_;
    bump();  // backslash
    if (eof()) fail(at, "unexpected end of file after '\\'");
    const std::size_t from = i_;
    bump();
    while (!eof() && is_continuation(peek())) bump();  // the rest of a multi-byte character
    if (std::isalnum(static_cast<unsigned char>(s_[from])))
      while (!eof() && !is_delimiter(peek())) bump();
    const std::string tok(s_.substr(from, i_ - from));
    kind_ = Kind::Char;
    static const std::map<std::string, std::string> kNamed = {
        {"newline", "\n"}, {"space", " "}, {"tab", "\t"}, {"return", "\r"}, {"backspace", "\b"}, {"formfeed", "\f"}};
    if (auto it = kNamed.find(tok); it != kNamed.end()) return it->second;
    if (tok.size() == 5 && tok[0] == 'u' &&
        std::all_of(tok.begin() + 1, tok.end(), [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); })) {
      const auto cp = static_cast<std::uint32_t>(std::stoul(tok.substr(1), nullptr, 16));
      if (cp >= 0xD800 && cp <= 0xDFFF) fail(at, "invalid character literal");
      std::string out;
      append_utf8(out, cp);
      return out;
    }
    if (tok.size() == 1 || !std::isalnum(static_cast<unsigned char>(tok[0]))) return tok;
    fail(at, fmt::format("invalid character literal '\\{}'", tok));
  }

  /// An op map at the cursor ('{').
  void read_op(std::size_t depth) {
    check_depth(depth);
    Record r;
    r.at = pos_;
    r.where.fill(r.at);
    bump();
    while (true) {
      skip(depth);
      if (eof()) fail_eof(r.at, '{');
      const char c = peek();
      if (c == '}') {
        bump();
        break;
      }
      if (is_closer(c)) fail_mismatch(r.at, '{');
      const Pos key_at = pos_;
      const json key = value(depth + 1);
      const Kind key_kind = kind_;
      skip(depth);
      if (eof()) fail_eof(r.at, '{');
      if (is_closer(peek())) fail(key_at, fmt::format("key {} has no value", describe(key)));
      const Pos value_at = pos_;
      json v = value(depth + 1);
      if (key_kind != Kind::Keyword) continue;  // not one of ours
      const auto f = field_of(key.get<std::string>());
      if (!f) continue;  // unknown keys are ignored
      if (r.has[*f]) fail(key_at, fmt::format("duplicate key :{}", kFieldNames[*f]));
      r.has[*f] = true;
      r.where[*f] = value_at;
      if (*f == kProcess && kind_ == Kind::Keyword) r.process_keyword = true;
      r.v[*f] = std::move(v);
    }
    builder_.add(r);
  }

  std::string_view s_;
  Builder& builder_;
  std::size_t i_ = 0;
  Pos pos_;
  Kind kind_ = Kind::Nil;
};

History parse_edn(std::string_view text, Model model) {
  if (auto bad = invalid_utf8(text); bad != std::string_view::npos) fail(pos_at(text, bad), "invalid UTF-8");
  Builder builder(model, Syntax::Edn);
  EdnReader(text, builder).run();
  return builder.finish();
}

std::string slurp(std::istream& in) {
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view without_bom(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  return text;
}

}  // namespace

HistoryFormat detect_format(std::string_view text) {
  text = without_bom(text);
  std::size_t i = text.find_first_not_of(" \t\r\n\f\v");
  if (i == std::string_view::npos) return HistoryFormat::Jsonl;
  const char c = text[i];
  if (c == '[' || c == '(' || c == ';' || c == '#') return HistoryFormat::Edn;
  if (c == '{') {
    std::size_t j = text.find_first_not_of(" \t\r\n\f\v", i + 1);
    if (j == std::string_view::npos || text[j] == '"' || text[j] == '}') return HistoryFormat::Jsonl;
    return HistoryFormat::Edn;
  }
  fail(pos_at(text, i), fmt::format("expected a history: JSON objects one per line, or EDN op maps; found '{}'",
                                    std::string(text.substr(i, std::min<std::size_t>(16, text.size() - i)))));
}

History read_history_text(std::string_view text, Model model) {
  text = without_bom(text);
  return detect_format(text) == HistoryFormat::Jsonl ? parse_jsonl(text, model) : parse_edn(text, model);
}

History read_history(std::istream& in, Model model) { return read_history_text(slurp(in), model); }

History read_history_file(const std::string& path, Model model) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw HistoryError("cannot read file: it is a directory", 1, 1);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw HistoryError(fmt::format("cannot read file: {}", std::strerror(errno)), 1, 1);
  std::string text = slurp(in);
  if (in.bad()) throw HistoryError("cannot read file: read error", 1, 1);
  return read_history_text(text, model);
}

History read_jsonl(std::istream& in, Model model) {
  const std::string text = slurp(in);
  return parse_jsonl(without_bom(text), model);
}

History read_edn(std::istream& in, Model model) {
  const std::string text = slurp(in);
  return parse_edn(without_bom(text), model);
}

History from_entries(const std::vector<HistoryEntry>& entries, Model model) {
  Builder builder(model, Syntax::Memory);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const HistoryEntry& e = entries[i];
    Record r;
    r.at = {i + 1, 1};
    r.where.fill(r.at);
    const auto set = [&](Field f, json v) {
      r.has[f] = true;
      r.v[f] = std::move(v);
    };
    set(kProcess, e.process);
    set(kType, to_string(e.type));
    set(kF, e.f);
    if (e.key) set(kKey, *e.key);
    set(kValue, e.value);
    if (e.result) set(kResult, *e.result);
    set(kTime, to_seconds(e.time));
    builder.add(r);
  }
  return builder.finish();
}

}  // namespace faultline::lin
