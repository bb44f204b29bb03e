// Internal to the linearizability checker (reports/linearizability.cpp): the models. JSON values
// become interned integer ids (register values in canonical JSON, kv strings), a model state is
// one int32 id, and Machine::step is the models' transition function over ids, so the search
// never touches JSON. Not a public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "reports/linearizability.hpp"

namespace faultline::lin::detail {

using json = nlohmann::json;

inline constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
inline constexpr std::int32_t kUnknown = -1;  // a read whose value is unknown: matches any state

inline std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finalizer
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// ---------------------------------------------------------------------------------------------
// Values

/// JSON with integral floats turned into integers (1.0 == 1) and unsigned into signed, so that
/// JSON equality of canonical dumps is the value equality of the models.
json normalize(const json& v);
/// The canonical JSON text of a value (interned as register values).
std::string canonical(const json& v);
/// The kv model's string for a JSON value: strings as they are, anything else as its JSON text.
std::string kv_string(const json& v);

/// Strings to dense ids. Views into a deque stay valid as it grows.
class Interner {
 public:
  std::int32_t intern(std::string_view s) {
    if (auto it = ids_.find(s); it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    const auto id = static_cast<std::int32_t>(strings_.size() - 1);
    ids_.emplace(std::string_view(strings_.back()), id);
    bytes_ += s.size() + 96;  // the string, its deque slot and its hash node
    return id;
  }
  const std::string& str(std::int32_t id) const { return strings_[static_cast<std::size_t>(id)]; }
  std::size_t bytes() const { return bytes_; }

 private:
  std::deque<std::string> strings_;
  std::unordered_map<std::string_view, std::int32_t> ids_;
  std::size_t bytes_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Compiled operations and the models' step functions

enum class Kind : std::uint8_t { Read, Write, Cas, CasNoMatch, Append, Txn };

struct Micro {
  bool write = false;
  std::int32_t key = 0;
  std::int32_t value = kUnknown;  // reads: kUnknown matches anything
};

struct COp {
  Kind kind = Kind::Read;
  bool ok = true;
  bool preserving = false;    // never changes the state (read, unmatched cas, read-only txn)
  std::int32_t a = kUnknown;  // read: value; write/append: argument; cas: expected
  std::int32_t b = kUnknown;  // cas: new value
  std::uint32_t micro_begin = 0, micro_end = 0;
  std::size_t index = 0;  // into History::ops
};

struct VectorHash {
  std::size_t operator()(const std::vector<std::int32_t>& v) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (auto x : v) h = mix64(h ^ static_cast<std::uint32_t>(x));
    return static_cast<std::size_t>(h);
  }
};

/// One sub-history's model: interned values and the step function over state ids.
class Machine {
 public:
  explicit Machine(Model model) : model_(model) {}

  Model model() const { return model_; }
  Interner& values() { return values_; }
  std::vector<Micro>& micro() { return micro_; }

  // Multi-register keys and states.
  std::int32_t key_id(const std::string& name) {
    if (auto it = key_ids_.find(name); it != key_ids_.end()) return it->second;
    const auto id = static_cast<std::int32_t>(key_names_.size());
    key_names_.push_back(name);
    key_ids_.emplace(name, id);
    return id;
  }
  std::size_t key_count() const { return key_names_.size(); }
  const std::string& key_name(std::size_t k) const { return key_names_[k]; }
  std::int32_t intern_state(const std::vector<std::int32_t>& s) {
    if (auto it = multi_ids_.find(s); it != multi_ids_.end()) return it->second;
    const auto id = static_cast<std::int32_t>(multi_states_.size());
    multi_states_.push_back(s);
    multi_ids_.emplace(s, id);
    multi_bytes_ += 2 * (s.size() * sizeof(std::int32_t) + 64);
    return id;
  }

  bool step(std::int32_t s, const COp& op, std::int32_t& out) {
    switch (op.kind) {
      case Kind::Read:
        out = s;
        return op.a == kUnknown || op.a == s;
      case Kind::Write:
        out = op.a;
        return true;
      case Kind::Cas:
        out = op.b;
        return s == op.a;
      case Kind::CasNoMatch:
        out = s;
        return s != op.a;
      case Kind::Append: {
        const std::uint64_t k = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(s)) << 32) |
                                static_cast<std::uint32_t>(op.a);
        if (auto it = appends_.find(k); it != appends_.end()) {
          out = it->second;
          return true;
        }
        std::string joined = values_.str(s);
        joined += values_.str(op.a);
        out = values_.intern(joined);
        appends_.emplace(k, out);
        return true;
      }
      case Kind::Txn: {
        const auto& cur = multi_states_[static_cast<std::size_t>(s)];
        bool writes = false;
        for (std::uint32_t i = op.micro_begin; i < op.micro_end; ++i) writes |= micro_[i].write;
        if (!writes) {
          for (std::uint32_t i = op.micro_begin; i < op.micro_end; ++i) {
            const Micro& m = micro_[i];
            if (m.value != kUnknown && cur[static_cast<std::size_t>(m.key)] != m.value)
              return false;
          }
          out = s;
          return true;
        }
        scratch_ = cur;
        for (std::uint32_t i = op.micro_begin; i < op.micro_end; ++i) {
          const Micro& m = micro_[i];
          auto& slot = scratch_[static_cast<std::size_t>(m.key)];
          if (m.write) {
            slot = m.value;
          } else if (m.value != kUnknown && slot != m.value) {
            return false;
          }
        }
        out = intern_state(scratch_);
        return true;
      }
    }
    return false;
  }

  /// The state as JSON, for explanations.
  json state_json(std::int32_t s) const {
    switch (model_) {
      case Model::Kv:
        return values_.str(s);
      case Model::MultiRegister: {
        json out = json::object();
        const auto& v = multi_states_[static_cast<std::size_t>(s)];
        for (std::size_t k = 0; k < key_names_.size(); ++k) out[key_names_[k]] = value_json(v[k]);
        return out;
      }
      default:
        return value_json(s);
    }
  }

  json value_json(std::int32_t v) const {
    if (v == kUnknown) return nullptr;
    return json::parse(values_.str(v));
  }

  std::size_t bytes() const {
    return values_.bytes() + appends_.size() * 48 + multi_bytes_ + micro_.size() * sizeof(Micro);
  }

 private:
  Model model_;
  Interner values_;
  std::vector<Micro> micro_;
  std::unordered_map<std::uint64_t, std::int32_t> appends_;
  std::vector<std::string> key_names_;
  std::map<std::string, std::int32_t> key_ids_;
  std::vector<std::vector<std::int32_t>> multi_states_;
  std::unordered_map<std::vector<std::int32_t>, std::int32_t, VectorHash> multi_ids_;
  std::size_t multi_bytes_ = 0;
  std::vector<std::int32_t> scratch_;
};

/// Compiles op `index` of the history for machine `m`; an error message for an op the model
/// does not know (or a malformed value).
std::optional<std::string> compile(const Op& op, std::size_t index, Machine& m, COp& out);

}  // namespace faultline::lin::detail
