// Linearizability checking: Wing & Gong's backtracking search with Lowe's memoization, in the
// formulation of Porcupine (a doubly linked list of call and return events) and Knossos' WGL.
//
// Outline (per independent sub-history, one per kv key):
//   1. Compile the ops: JSON values become interned integer ids (register values in canonical
//      JSON, kv strings), a model state is one int32 id, so the hot loop never touches JSON.
//   2. Give every op a bit: ok ops by completion order (0..c-1, Knossos' entry ids), info ops
//      after them starting at a word boundary. A configuration is (bitset of linearized ops,
//      state id); the memo hashes the ok bits incrementally (Zobrist) together with the state.
//   3. Search: scan the event list from its head; at a call, linearize the op if the model
//      accepts it and the resulting configuration is new (then lift the call and its return out of
//      the list and restart from the head); at the return of an op not linearized, backtrack.
//      Info ops have no return event (it is at +infinity): they may be linearized at any point
//      after their call, or never; the search succeeds once every ok op is linearized.
//   4. Dominance: a configuration (ok set, info set I, state) is pruned if (ok set, I', state) with
//      I' ⊆ I was already reached — leaving an info op out is always allowed, so the smaller set
//      can do everything the larger one can. With I' = I this is Lowe's memo; the extension keeps
//      histories with many timed-out writes from blowing up.
//   5. On failure the memo holds every reachable (ok set, state) pair. As Knossos does, the op that
//      cannot be linearized is the ok op right after the longest completion-ordered run of ok ops
//      that some configuration linearized ("the earliest-returning op the frontier cannot get
//      past"); the states are those of the configurations at that frontier.
#include "reports/linearizability.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

namespace faultline::lin {

const char* to_string(Model model) {
  switch (model) {
    case Model::Register: return "register";
    case Model::CasRegister: return "cas-register";
    case Model::Kv: return "kv";
    case Model::MultiRegister: return "multi-register";
  }
  return "?";
}

std::optional<Model> model_from_string(const std::string& name) {
  if (name == "register") return Model::Register;
  if (name == "cas-register") return Model::CasRegister;
  if (name == "kv") return Model::Kv;
  if (name == "multi-register") return Model::MultiRegister;
  return std::nullopt;
}

std::vector<std::string> model_functions(Model model) {
  switch (model) {
    case Model::Register: return {"read", "write"};
    case Model::CasRegister: return {"read", "write", "cas"};
    case Model::Kv: return {"get", "put", "append", "cas"};
    case Model::MultiRegister: return {"txn"};
  }
  return {};
}

const char* to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::Linearizable: return "linearizable";
    case Verdict::NotLinearizable: return "not linearizable";
    case Verdict::Unknown: return "unknown";
  }
  return "?";
}

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
constexpr std::int32_t kUnknown = -1;  // a read whose value is unknown: matches any state
constexpr std::size_t kMaxStatesShown = 10;
constexpr std::size_t kMaxPrefixJson = 20;
constexpr std::uint64_t kTimeCheckMask = 255;  // wall clock checked every 256 search steps

std::uint64_t mix64(std::uint64_t x) {  // splitmix64's finalizer
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
json normalize(const json& v) {
  switch (v.type()) {
    case json::value_t::number_float: {
      const double d = v.get<double>();
      if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18)
        return json(static_cast<std::int64_t>(d));
      return v;
    }
    case json::value_t::number_unsigned: {
      const auto u = v.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return json(static_cast<std::int64_t>(u));
      return v;
    }
    case json::value_t::array: {
      json out = json::array();
      for (const auto& e : v) out.push_back(normalize(e));
      return out;
    }
    case json::value_t::object: {
      json out = json::object();
      for (const auto& [k, e] : v.items()) out[k] = normalize(e);
      return out;
    }
    default: return v;
  }
}

std::string canonical(const json& v) { return normalize(v).dump(); }

/// The kv model's string for a JSON value: strings as they are, anything else as its JSON text.
std::string kv_string(const json& v) { return v.is_string() ? v.get<std::string>() : canonical(v); }

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
            if (m.value != kUnknown && cur[static_cast<std::size_t>(m.key)] != m.value) return false;
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
      case Model::Kv: return values_.str(s);
      case Model::MultiRegister: {
        json out = json::object();
        const auto& v = multi_states_[static_cast<std::size_t>(s)];
        for (std::size_t k = 0; k < key_names_.size(); ++k) out[key_names_[k]] = value_json(v[k]);
        return out;
      }
      default: return value_json(s);
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

std::string op_where(const Op& op, std::size_t index) {
  return fmt::format("op {} (process {}, history line {})", index, op.process, op.invoke_line);
}

/// Reads whose value is unknown and that cannot change the state constrain nothing when they did
/// not complete: they are left out of the search.
bool is_pure_read(const Op& op) {
  if (op.f == "read" || op.f == "get") return true;
  if (op.f == "txn" && op.value.is_array()) {
    for (const auto& m : op.value) {
      if (!m.is_array() || m.empty() || !m[0].is_string()) return false;
      const auto f = m[0].get<std::string>();
      if (f != "read" && f != "r") return false;
    }
    return true;
  }
  return false;
}

std::string key_name(const json& k) { return k.is_string() ? k.get<std::string>() : canonical(k); }

/// Compiles one op; returns an error message for an op the model does not know.
std::optional<std::string> compile(const Op& op, std::size_t index, Machine& m, COp& out) {
  out.index = index;
  out.ok = op.status == Op::Status::Ok;
  const Model model = m.model();
  const auto fs = model_functions(model);
  if (std::find(fs.begin(), fs.end(), op.f) == fs.end())
    return fmt::format("{}: '{}' is not an operation of the {} model ({})", op_where(op, index), op.f,
                       to_string(model), fmt::join(fs, ", "));
  const bool kv = model == Model::Kv;
  auto val = [&](const json& v) {
    return kv ? m.values().intern(kv_string(v)) : m.values().intern(canonical(v));
  };
  if (op.f == "read" || op.f == "get") {
    out.kind = Kind::Read;
    out.a = (out.ok && op.output_known) ? val(op.output) : kUnknown;
  } else if (op.f == "write" || op.f == "put") {
    out.kind = Kind::Write;
    out.a = val(op.value);
  } else if (op.f == "append") {
    out.kind = Kind::Append;
    out.a = val(op.value);
  } else if (op.f == "cas") {
    if (!op.value.is_array() || op.value.size() != 2)
      return fmt::format("{}: a cas value must be [expected, new], not {}", op_where(op, index),
                         op.value.dump());
    const bool matched = !(out.ok && op.cas_result.has_value() && !*op.cas_result);
    out.kind = matched ? Kind::Cas : Kind::CasNoMatch;
    out.a = val(op.value[0]);
    out.b = val(op.value[1]);
  } else {  // txn
    const json& body =
        (out.ok && op.output_known && op.output.is_array() && op.output.size() == op.value.size())
            ? op.output
            : op.value;
    if (!body.is_array())
      return fmt::format("{}: a txn value must be a list of [f, key, value], not {}", op_where(op, index),
                         body.dump());
    out.kind = Kind::Txn;
    out.micro_begin = static_cast<std::uint32_t>(m.micro().size());
    for (const auto& mo : body) {
      if (!mo.is_array() || mo.size() != 3 || !mo[0].is_string())
        return fmt::format("{}: a txn micro-op must be [read|write, key, value], not {}",
                           op_where(op, index), mo.dump());
      const auto f = mo[0].get<std::string>();
      Micro micro;
      if (f == "read" || f == "r") {
        micro.write = false;
      } else if (f == "write" || f == "w") {
        micro.write = true;
      } else {
        return fmt::format("{}: unknown txn micro-op '{}' (read or write)", op_where(op, index), f);
      }
      micro.key = m.key_id(key_name(mo[1]));
      micro.value = (!micro.write && mo[2].is_null()) ? kUnknown : val(mo[2]);
      m.micro().push_back(micro);
    }
    out.micro_end = static_cast<std::uint32_t>(m.micro().size());
  }
  out.preserving = out.kind == Kind::Read || out.kind == Kind::CasNoMatch;
  if (out.kind == Kind::Txn) {
    out.preserving = true;
    for (std::uint32_t i = out.micro_begin; i < out.micro_end; ++i)
      out.preserving = out.preserving && !m.micro()[i].write;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Budgets

struct Budget {
  Clock::time_point deadline;
  double timeout_s = 60;
  std::size_t memory_limit = 0;
  bool time_exceeded() const { return Clock::now() >= deadline; }
};

std::string format_bytes(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes >= kGiB) return fmt::format("{:g} GiB", static_cast<double>(bytes) / kGiB);
  if (bytes >= kMiB) return fmt::format("{:g} MiB", static_cast<double>(bytes) / kMiB);
  if (bytes >= kKiB) return fmt::format("{:g} KiB", static_cast<double>(bytes) / kKiB);
  return fmt::format("{} bytes", bytes);
}

std::string time_reason(const Budget& b) {
  return fmt::format("time budget of {:g} s exhausted", b.timeout_s);
}
std::string memory_reason(const Budget& b) {
  return fmt::format("memory budget of {} exhausted", format_bytes(b.memory_limit));
}

// ---------------------------------------------------------------------------------------------
// The memo. Configurations are grouped by (ok bits, state): a group is found by hash and one
// exact comparison, then its members (one per info set) are checked for dominance on the info
// words only. Records live in chunked arenas (no reallocation, bytes known up front).

/// Fixed-size records of `stride` T's, allocated kChunk records at a time.
template <class T>
class Arena {
 public:
  static constexpr std::size_t kChunk = 4096;
  explicit Arena(std::size_t stride) : stride_(std::max<std::size_t>(stride, 1)) {}
  T* at(std::size_t i) { return chunks_[i / kChunk].get() + (i % kChunk) * stride_; }
  const T* at(std::size_t i) const { return chunks_[i / kChunk].get() + (i % kChunk) * stride_; }
  /// Bytes that adding record number `count` would allocate.
  std::size_t growth(std::size_t count) const {
    return count % kChunk == 0 ? kChunk * stride_ * sizeof(T) : 0;
  }
  void prepare(std::size_t count) {
    if (growth(count) != 0) chunks_.push_back(std::make_unique<T[]>(kChunk * stride_));
  }
  std::size_t bytes() const { return chunks_.size() * kChunk * stride_ * sizeof(T); }

 private:
  std::size_t stride_;
  std::vector<std::unique_ptr<T[]>> chunks_;
};

/// Variable-length word records, bump-allocated in chunks that never move.
class WordPool {
 public:
  explicit WordPool(std::size_t max_record) : chunk_(std::max<std::size_t>(max_record, 1 << 14)) {}
  /// Bytes that allocating `n` words would add.
  std::size_t growth(std::size_t n) const {
    return chunks_.empty() || used_ + n > chunk_ ? chunk_ * sizeof(std::uint64_t) : 0;
  }
  std::uint64_t* allocate(std::size_t n) {
    if (chunks_.empty() || used_ + n > chunk_) {
      chunks_.push_back(std::make_unique<std::uint64_t[]>(chunk_));
      used_ = 0;
    }
    std::uint64_t* p = chunks_.back().get() + used_;
    used_ += n;
    return p;
  }
  std::size_t bytes() const { return chunks_.size() * chunk_ * sizeof(std::uint64_t); }

 private:
  std::size_t chunk_;
  std::size_t used_ = 0;
  std::vector<std::unique_ptr<std::uint64_t[]>> chunks_;
};

/// What a heap block of `n` bytes really takes (glibc: 8-byte header, 16-byte granules, 32 min).
std::size_t heap_bytes(std::size_t n) { return n == 0 ? 0 : std::max<std::size_t>(32, (n + 8 + 15) & ~std::size_t{15}); }

class Memo {
 public:
  struct Entry {
    std::uint32_t group = kNone;
    std::uint32_t parent = kNone;  // the configuration it was reached from
    std::uint32_t op = kNone;      // local op linearized to get here
  };
  /// A (set of linearized ok ops, state) pair. The ok set is stored compactly: every word
  /// before `base` is all ones (ok bits are numbered in completion order, so a configuration
  /// deep in the history has a long run of ones), then `len` words from `base` on (trailing
  /// zero words dropped).
  struct Group {
    std::uint64_t hash = 0;  // of (ok bits, state)
    const std::uint64_t* words = nullptr;
    std::int32_t state = 0;
    std::uint32_t next = kNone;     // bucket chain
    std::uint32_t minimal = kNone;  // index into minimal_ (with info ops)
    std::uint32_t base = 0;
    std::uint32_t len = 0;
  };
  static constexpr std::uint32_t kExists = kNone;
  static constexpr std::uint32_t kFull = kNone - 1;

  Memo(std::size_t ok_words, std::size_t info_words)
      : ok_words_(ok_words), info_words_(info_words), entries_(1), infos_(info_words), groups_(1),
        words_(ok_words) {
    buckets_.assign(1024, kNone);
  }

  std::size_t size() const { return size_; }
  const Entry& entry(std::uint32_t i) const { return *entries_.at(i); }
  std::int32_t state(std::uint32_t i) const { return groups_.at(entry(i).group)->state; }
  const std::uint64_t* info_bits(std::uint32_t i) const { return infos_.at(i); }
  /// How many ok ops, in completion order, configuration i linearized without a gap.
  std::size_t ok_depth(std::uint32_t i) const {
    const Group& g = *groups_.at(entry(i).group);
    return std::size_t{g.base} * 64 + (g.len ? static_cast<std::size_t>(std::countr_one(g.words[0])) : 0);
  }
  /// How many ops configuration i linearized.
  std::size_t linearized(std::uint32_t i) const {
    const Group& g = *groups_.at(entry(i).group);
    std::size_t n = std::size_t{g.base} * 64;
    for (std::uint32_t w = 0; w < g.len; ++w) n += static_cast<std::size_t>(std::popcount(g.words[w]));
    for (std::size_t w = 0; w < info_words_; ++w) n += static_cast<std::size_t>(std::popcount(infos_.at(i)[w]));
    return n;
  }
  std::size_t bytes() const {
    return entries_.bytes() + infos_.bytes() + groups_.bytes() + words_.bytes() +
           buckets_.size() * sizeof(std::uint32_t) + minimal_bytes_;
  }

  /// Adds the configuration (`bits`: ok words then info words) unless it or one dominating it
  /// (same ok bits and state, a subset of its info ops) is present: kExists. kFull when adding it
  /// would take more than `limit` bytes (with `extra` bytes used elsewhere).
  std::uint32_t insert(const std::uint64_t* bits, std::uint64_t ok_hash, std::int32_t state,
                       std::uint32_t parent, std::uint32_t op, std::size_t extra, std::size_t limit) {
    const std::uint64_t h = mix64(ok_hash ^ mix64(static_cast<std::uint32_t>(state) + 0x51ed27ULL));
    const std::uint64_t* info = bits + ok_words_;
    std::size_t base = 0;
    while (base < ok_words_ && bits[base] == ~std::uint64_t{0}) ++base;
    std::size_t end = ok_words_;
    while (end > base && bits[end - 1] == 0) --end;
    const std::size_t len = end - base;
    std::uint32_t g = buckets_[h & (buckets_.size() - 1)];
    for (; g != kNone; g = groups_.at(g)->next) {
      const Group& gr = *groups_.at(g);
      if (gr.hash == h && gr.state == state && gr.base == base && gr.len == len &&
          std::memcmp(gr.words, bits + base, len * sizeof(std::uint64_t)) == 0)
        break;
    }
    if (g != kNone) {
      if (info_words_ == 0) return kExists;
      // The group's minimal info sets, contiguous: is one of them ⊆ ours?
      const auto& minimal = minimal_[groups_.at(g)->minimal];
      for (std::size_t k = 0; k < minimal.size(); k += info_words_) {
        bool subset = true;
        for (std::size_t w = 0; w < info_words_ && subset; ++w) subset = (minimal[k + w] & ~info[w]) == 0;
        if (subset) return kExists;
      }
    }
    // Room?
    std::size_t grow = entries_.growth(size_) + infos_.growth(size_);
    const bool new_group = g == kNone;
    const bool rehash = new_group && group_count_ + 1 > buckets_.size();
    if (new_group) grow += groups_.growth(group_count_) + words_.growth(len);
    if (rehash) grow += buckets_.size() * sizeof(std::uint32_t) * 2;
    if (info_words_ != 0) grow += 64 + 2 * info_words_ * sizeof(std::uint64_t);
    if (bytes() + grow + extra > limit || size_ + 2 >= kFull) return kFull;
    if (new_group) {
      if (rehash) grow_buckets();
      groups_.prepare(group_count_);
      g = static_cast<std::uint32_t>(group_count_++);
      Group& gr = *groups_.at(g);
      gr.hash = h;
      gr.state = state;
      gr.base = static_cast<std::uint32_t>(base);
      gr.len = static_cast<std::uint32_t>(len);
      std::uint64_t* w = words_.allocate(len);
      std::memcpy(w, bits + base, len * sizeof(std::uint64_t));
      gr.words = w;
      if (info_words_ != 0) {
        gr.minimal = static_cast<std::uint32_t>(minimal_.size());
        minimal_.emplace_back();
      }
      auto& head = buckets_[h & (buckets_.size() - 1)];
      gr.next = head;
      head = g;
    }
    entries_.prepare(size_);
    infos_.prepare(size_);
    const auto idx = static_cast<std::uint32_t>(size_++);
    Entry& e = *entries_.at(idx);
    e.group = g;
    e.parent = parent;
    e.op = op;
    if (info_words_ != 0) {
      std::memcpy(infos_.at(idx), info, info_words_ * sizeof(std::uint64_t));
      // Keep only minimal sets: drop the members ours is a subset of, then add ours.
      auto& minimal = minimal_[groups_.at(g)->minimal];
      minimal_bytes_ -= heap_bytes(minimal.capacity() * sizeof(std::uint64_t));
      std::size_t out = 0;
      for (std::size_t k = 0; k < minimal.size(); k += info_words_) {
        bool superset = true;
        for (std::size_t w = 0; w < info_words_ && superset; ++w) superset = (info[w] & ~minimal[k + w]) == 0;
        if (superset) continue;
        for (std::size_t w = 0; w < info_words_; ++w) minimal[out++] = minimal[k + w];
      }
      minimal.resize(out);
      minimal.insert(minimal.end(), info, info + info_words_);
      minimal_bytes_ += heap_bytes(minimal.capacity() * sizeof(std::uint64_t));
      if (minimal_.capacity() > minimal_capacity_) {
        minimal_bytes_ += (minimal_.capacity() - minimal_capacity_) * sizeof(std::vector<std::uint64_t>);
        minimal_capacity_ = minimal_.capacity();
      }
    }
    return idx;
  }

 private:
  void grow_buckets() {
    const std::size_t n = buckets_.size() * 2;
    buckets_.assign(n, kNone);
    for (std::uint32_t g = 0; g < group_count_; ++g) {
      Group& gr = *groups_.at(g);
      auto& head = buckets_[gr.hash & (n - 1)];
      gr.next = head;
      head = g;
    }
  }

  std::size_t ok_words_, info_words_;
  std::size_t size_ = 0, group_count_ = 0;
  Arena<Entry> entries_;
  Arena<std::uint64_t> infos_;
  Arena<Group> groups_;
  WordPool words_;
  std::vector<std::uint32_t> buckets_;
  std::vector<std::vector<std::uint64_t>> minimal_;  // per group: its minimal info sets
  std::size_t minimal_bytes_ = 0, minimal_capacity_ = 0;
};

// ---------------------------------------------------------------------------------------------
// The search over one sub-history

struct Frontier {
  std::size_t op = 0;                 // local op that cannot be linearized
  std::vector<std::int32_t> states;   // distinct states at the frontier (capped)
  std::size_t states_total = 0;       // how many distinct states there were
  std::vector<std::size_t> prefix;    // local ops, in linearization order
};

class Search {
 public:
  enum class Outcome { Linearizable, NotLinearizable, Budget };

  Search(Machine& machine, const std::vector<COp>& ops, const History& history, std::int32_t initial,
         const Budget& budget)
      : machine_(machine), ops_(ops), initial_(initial), budget_(budget) {
    const std::size_t n = ops.size();
    std::vector<std::size_t> ok, info;
    for (std::size_t i = 0; i < n; ++i) (ops[i].ok ? ok : info).push_back(i);
    std::stable_sort(ok.begin(), ok.end(), [&](std::size_t x, std::size_t y) {
      return complete_pos(history, ops[x]) < complete_pos(history, ops[y]);
    });
    ok_count_ = ok.size();
    has_info_ = !info.empty();
    ok_words_ = (ok.size() + 63) / 64;
    words_ = std::max<std::size_t>(1, ok_words_ + (info.size() + 63) / 64);
    bit_.assign(n, 0);
    bit_op_.assign(words_ * 64, kNone);
    zobrist_.assign(ok.size(), 0);
    for (std::size_t r = 0; r < ok.size(); ++r) {
      bit_[ok[r]] = static_cast<std::uint32_t>(r);
      bit_op_[r] = static_cast<std::uint32_t>(ok[r]);
      zobrist_[r] = mix64(0x243f6a8885a308d3ULL + r * 0x9e3779b97f4a7c15ULL);
    }
    for (std::size_t j = 0; j < info.size(); ++j) {
      bit_[info[j]] = static_cast<std::uint32_t>(ok_words_ * 64 + j);
      bit_op_[ok_words_ * 64 + j] = static_cast<std::uint32_t>(info[j]);
    }

    // Identical info ops (same effect): only the earliest pending one of a class may be
    // linearized. Using a later twin instead is never necessary — the earlier one is available
    // wherever the later one is, and has the same effect — so this prunes only duplicates.
    twin_before_.assign(n, kNone);
    {
      std::map<std::vector<std::int32_t>, std::uint32_t> last;
      for (std::size_t j = 0; j < info.size(); ++j) {
        const COp& op = ops[info[j]];
        std::vector<std::int32_t> sig = {static_cast<std::int32_t>(op.kind), op.a, op.b};
        for (std::uint32_t m = op.micro_begin; m < op.micro_end; ++m) {
          const Micro& mi = machine.micro()[m];
          sig.insert(sig.end(), {mi.write ? 1 : 0, mi.key, mi.value});
        }
        auto [it, fresh] = last.try_emplace(std::move(sig), static_cast<std::uint32_t>(info[j]));
        if (!fresh) {
          twin_before_[info[j]] = it->second;
          it->second = static_cast<std::uint32_t>(info[j]);
        }
      }
    }

    // Events: calls at the invocation's position, returns at the completion's (ok ops only).
    struct Ev {
      std::size_t pos;
      int ret;
      std::uint32_t op;
    };
    std::vector<Ev> evs;
    evs.reserve(n + ok.size());
    for (std::size_t i = 0; i < n; ++i) {
      const Op& h = history.ops[ops[i].index];
      evs.push_back({h.invoke_index, 0, static_cast<std::uint32_t>(i)});
      if (ops[i].ok) evs.push_back({complete_pos(history, ops[i]), 1, static_cast<std::uint32_t>(i)});
    }
    std::sort(evs.begin(), evs.end(), [](const Ev& x, const Ev& y) {
      return std::tie(x.pos, x.ret, x.op) < std::tie(y.pos, y.ret, y.op);
    });
    const std::size_t e = evs.size();
    tail_ = static_cast<std::uint32_t>(e + 1);
    next_.assign(e + 2, 0);
    prev_.assign(e + 2, 0);
    ev_op_.assign(e + 2, kNone);
    ev_call_.assign(e + 2, 0);
    ev_match_.assign(e + 2, kNone);
    std::vector<std::uint32_t>& call_of = call_of_;
    call_of.assign(n, kNone);
    for (std::size_t k = 0; k < e; ++k) {
      const auto id = static_cast<std::uint32_t>(k + 1);
      ev_op_[id] = evs[k].op;
      ev_call_[id] = evs[k].ret == 0;
      if (evs[k].ret == 0) {
        call_of[evs[k].op] = id;
      } else {
        ev_match_[call_of[evs[k].op]] = id;
      }
    }
    for (std::uint32_t id = 0; id <= tail_; ++id) {
      next_[id] = id == tail_ ? tail_ : id + 1;
      prev_[id] = id == 0 ? 0 : id - 1;
    }
    memo_ = std::make_unique<Memo>(ok_words_, words_ - ok_words_);
  }

  Outcome run() {
    bits_.assign(words_, 0);
    ok_hash_ = 0;
    const std::uint32_t root = memo_->insert(bits_.data(), 0, initial_, kNone, kNone, machine_.bytes(),
                                             budget_.memory_limit);
    if (root == Memo::kFull) return budget_out(false);
    remaining_ = ok_count_;
    levels_.clear();
    cands_.clear();
    enter(initial_, root, kNone);
    std::uint64_t steps = 0;
    while (true) {
      if (remaining_ == 0) return Outcome::Linearizable;
      if ((++steps & kTimeCheckMask) == 0) {
        if (budget_.time_exceeded()) return budget_out(true);
        if (memo_->bytes() + machine_.bytes() + stack_bytes() > budget_.memory_limit) return budget_out(false);
      }
      Level& level = levels_.back();
      std::uint32_t o = kNone;
      std::int32_t s2 = 0;
      if (level.next < level.end) {
        o = cands_[level.next].op;
        s2 = cands_[level.next].state;
        ++level.next;
      } else if (level.info_cursor != kNone) {
        o = next_info(level, s2);
      }
      if (o == kNone) {
        // Every child tried: backtrack.
        const Level done = level;
        levels_.pop_back();
        cands_.resize(done.begin);
        if (levels_.empty()) return Outcome::NotLinearizable;
        const std::uint32_t vo = ev_op_[done.via];
        const std::uint32_t b = bit_[vo];
        bits_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
        if (ops_[vo].ok) {
          ok_hash_ ^= zobrist_[b];
          ++remaining_;
        }
        unlift(done.via);
        continue;
      }
      const COp& op = ops_[o];
      const std::uint32_t b = bit_[o];
      bits_[b / 64] |= std::uint64_t{1} << (b % 64);
      const std::uint64_t h2 = op.ok ? ok_hash_ ^ zobrist_[b] : ok_hash_;
      const std::uint32_t idx =
          memo_->insert(bits_.data(), h2, s2, level.entry, o, machine_.bytes(), budget_.memory_limit);
      if (idx == Memo::kFull) return budget_out(false);
      if (idx == Memo::kExists) {
        bits_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
        continue;
      }
      ok_hash_ = h2;
      if (op.ok) --remaining_;
      lift(call_of_[o]);
      enter(s2, idx, call_of_[o]);
    }
  }

  std::uint64_t explored() const { return memo_->size(); }
  const std::string& reason() const { return reason_; }

  /// After NotLinearizable: the deepest frontier of the search (see the file comment).
  Frontier frontier() const {
    const auto n = static_cast<std::uint32_t>(memo_->size());
    std::size_t k = 0;
    for (std::uint32_t i = 0; i < n; ++i) k = std::max(k, std::min(memo_->ok_depth(i), ok_count_));
    auto at_frontier = [&](std::uint32_t i) { return std::min(memo_->ok_depth(i), ok_count_) == k; };
    Frontier fr;
    fr.op = k < ok_count_ ? bit_op_[k] : 0;
    std::uint32_t best = kNone;
    std::size_t best_len = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!at_frontier(i)) continue;
      const std::size_t len = memo_->linearized(i);
      if (best == kNone || len > best_len) {
        best = i;
        best_len = len;
      }
    }
    std::unordered_set<std::int32_t> seen;
    auto add = [&](std::int32_t s) {
      if (seen.insert(s).second && fr.states.size() < kMaxStatesShown) fr.states.push_back(s);
    };
    if (best != kNone) add(memo_->state(best));
    for (std::uint32_t i = 0; i < n; ++i)
      if (at_frontier(i)) add(memo_->state(i));
    fr.states_total = seen.size();
    for (std::uint32_t i = best; i != kNone && memo_->entry(i).op != kNone; i = memo_->entry(i).parent)
      fr.prefix.push_back(memo_->entry(i).op);
    std::reverse(fr.prefix.begin(), fr.prefix.end());
    return fr;
  }

 private:
  static std::size_t complete_pos(const History& h, const COp& op) {
    const Op& o = h.ops[op.index];
    return std::max(o.complete_index, o.invoke_index);
  }

  // One configuration on the search path and the children still to try.
  //
  // Its children are the ops whose call comes before the first return in the list (the return
  // of `first`, the unlinearized ok op that completes first) and that the model accepts:
  //   - Forced: if an ok op that leaves the state unchanged (a read, a cas that did not match, a
  //     read-only txn) is legal, it is the only child: linearizing it now disables nothing (its
  //     real-time predecessors are all linearized and the state stays), so any completion that
  //     places it later can place it here instead.
  //   - Otherwise the ok ops, best first: those after which `first` (when it is a read) becomes
  //     legal, then (kv) those leaving a prefix of the string it read, then the rest in
  //     completion order (earliest deadline first). Info ops that are directed the same way are
  //     sorted in with them; the other info ops come last, in invocation order (`info_cursor`),
  //     so configurations without an info op are explored before those with it and the memo
  //     prunes the latter as dominated. Of identical info ops only the earliest pending one.
  // None of this changes which (ok set, state) pairs are reachable, only the order and how many
  // paths reach them, so the explanation does not depend on it.
  struct Level {
    std::uint32_t begin = 0, end = 0, next = 0;  // children in cands_
    std::uint32_t info_cursor = kNone;           // last event examined by the info phase
    std::uint32_t via = kNone;                   // call event linearized to get here
    std::uint32_t entry = kNone;                 // memo entry of this configuration
    std::uint32_t first = kNone;                 // op of the first return
    std::int32_t state = 0;
  };
  struct Cand {
    std::uint64_t key;
    std::uint32_t op;
    std::int32_t state;  // after the op
  };

  void enter(std::int32_t state, std::uint32_t entry, std::uint32_t via) {
    Level level;
    level.state = state;
    level.entry = entry;
    level.via = via;
    level.begin = static_cast<std::uint32_t>(cands_.size());
    scratch_.clear();
    for (std::uint32_t ev = next_[0]; ev != tail_; ev = next_[ev]) {
      if (!ev_call_[ev]) {
        level.first = ev_op_[ev];
        break;
      }
      scratch_.push_back(ev_op_[ev]);
    }
    bool forced = false;
    for (std::uint32_t o : scratch_) {
      const COp& op = ops_[o];
      std::int32_t s2;
      if (op.ok && op.preserving && machine_.step(state, op, s2)) {
        cands_.push_back({0, o, s2});
        forced = true;
        break;
      }
    }
    if (!forced) {
      for (std::uint32_t o : scratch_) {
        const COp& op = ops_[o];
        if (op.ok ? op.preserving : !twin_free(o)) continue;
        std::int32_t s2;
        if (!machine_.step(state, op, s2)) continue;
        const std::uint64_t rank = directed(s2, level.first);
        if (!op.ok && rank == 2) continue;  // the info phase's
        cands_.push_back({(rank << 40) | (std::uint64_t{op.ok ? 0u : 1u} << 39) | bit_[o], o, s2});
      }
      std::sort(cands_.begin() + level.begin, cands_.end(),
                [](const Cand& x, const Cand& y) { return x.key < y.key; });
      if (has_info_) level.info_cursor = 0;
    }
    level.end = static_cast<std::uint32_t>(cands_.size());
    level.next = level.begin;
    levels_.push_back(level);
  }

  /// The info phase: the next undirected info op before the first return, or kNone.
  std::uint32_t next_info(Level& level, std::int32_t& s2) {
    for (std::uint32_t ev = next_[level.info_cursor]; ev != tail_; ev = next_[ev]) {
      if (!ev_call_[ev]) break;
      level.info_cursor = ev;
      const std::uint32_t o = ev_op_[ev];
      const COp& op = ops_[o];
      if (op.ok || !twin_free(o) || !machine_.step(level.state, op, s2)) continue;
      if (directed(s2, level.first) != 2) continue;  // already among the sorted children
      return o;
    }
    level.info_cursor = kNone;
    return kNone;
  }

  /// 0: `first` (a read) is legal after reaching state s; 1 (kv): s is a prefix of what it read;
  /// 2: neither, or `first` is not a read.
  std::uint64_t directed(std::int32_t s, std::uint32_t first) {
    if (first == kNone) return 2;
    const COp& x = ops_[first];
    if (!x.preserving || x.kind == Kind::CasNoMatch) return 2;
    std::int32_t s3;
    if (machine_.step(s, x, s3)) return 0;
    if (machine_.model() == Model::Kv && x.kind == Kind::Read && x.a != kUnknown &&
        machine_.values().str(x.a).starts_with(machine_.values().str(s)))
      return 1;
    return 2;
  }

  std::size_t stack_bytes() const {
    return levels_.capacity() * sizeof(Level) + cands_.capacity() * sizeof(Cand);
  }

  bool twin_free(std::uint32_t o) const {
    const std::uint32_t t = twin_before_[o];
    if (t == kNone) return true;
    const std::uint32_t b = bit_[t];
    return (bits_[b / 64] >> (b % 64)) & 1;
  }

  void lift(std::uint32_t call) {
    next_[prev_[call]] = next_[call];
    prev_[next_[call]] = prev_[call];
    const std::uint32_t ret = ev_match_[call];
    if (ret != kNone) {
      next_[prev_[ret]] = next_[ret];
      prev_[next_[ret]] = prev_[ret];
    }
  }
  void unlift(std::uint32_t call) {
    const std::uint32_t ret = ev_match_[call];
    if (ret != kNone) {
      next_[prev_[ret]] = ret;
      prev_[next_[ret]] = ret;
    }
    next_[prev_[call]] = call;
    prev_[next_[call]] = call;
  }

  Outcome budget_out(bool time) {
    reason_ = time ? time_reason(budget_) : memory_reason(budget_);
    return Outcome::Budget;
  }

  Machine& machine_;
  const std::vector<COp>& ops_;
  std::int32_t initial_;
  const Budget& budget_;
  std::size_t ok_count_ = 0, ok_words_ = 0, words_ = 1;
  bool has_info_ = false;
  std::vector<std::uint32_t> bit_;     // local op -> bit
  std::vector<std::uint32_t> bit_op_;  // bit -> local op
  std::vector<std::uint32_t> twin_before_;  // info op -> previous identical info op
  std::vector<std::uint64_t> zobrist_;
  std::vector<std::uint32_t> next_, prev_, ev_op_, ev_match_;
  std::vector<std::uint8_t> ev_call_;
  std::uint32_t tail_ = 1;
  std::vector<std::uint32_t> call_of_;  // op -> its call event
  std::vector<Level> levels_;
  std::vector<Cand> cands_;
  std::vector<std::uint32_t> scratch_;
  std::uint64_t ok_hash_ = 0;
  std::size_t remaining_ = 0;
  std::vector<std::uint64_t> bits_;
  std::unique_ptr<Memo> memo_;
  std::string reason_;
};

// ---------------------------------------------------------------------------------------------
// Explanations

std::string shorten(std::string s) {
  if (s.size() <= 80) return s;
  return s.substr(0, 40) + "..." + s.substr(s.size() - 30);
}

std::string show(const json& v) { return shorten(v.dump()); }

std::string describe(const Op& op) {
  const bool known = op.status == Op::Status::Ok && op.output_known;
  if (op.f == "read" || op.f == "get")
    return known ? fmt::format("{} of {}", op.f, show(op.output)) : fmt::format("{} of an unknown value", op.f);
  if (op.f == "write" || op.f == "put" || op.f == "append") return fmt::format("{} of {}", op.f, show(op.value));
  if (op.f == "cas" && op.value.is_array() && op.value.size() == 2) {
    const bool no_match = op.cas_result.has_value() && !*op.cas_result;
    return fmt::format("cas from {} to {}{}", show(op.value[0]), show(op.value[1]),
                       no_match ? " (reported as not matching)" : "");
  }
  if (op.f == "txn") return fmt::format("txn {}", show(known ? op.output : op.value));
  return fmt::format("{} {}", op.f, show(op.value));
}

/// Why `op` cannot follow any of the states: {plural form, singular form}.
std::pair<std::string, std::string> why(const Op& op) {
  if (op.f == "read" || op.f == "get")
    return {fmt::format("none of which a {} can observe", describe(op)),
            fmt::format("which a {} cannot observe", describe(op))};
  if (op.f == "cas" && op.value.is_array() && op.value.size() == 2) {
    if (op.cas_result.has_value() && !*op.cas_result)
      return {fmt::format("all of which equal the expected value {}, so the compare would have matched",
                          show(op.value[0])),
              fmt::format("which equals the expected value {}, so the compare would have matched",
                          show(op.value[0]))};
    return {fmt::format("none of which is the expected value {} of its compare", show(op.value[0])),
            fmt::format("which is not the expected value {} of its compare", show(op.value[0]))};
  }
  if (op.f == "txn")
    return {"none of which agrees with the txn's reads", "which does not agree with the txn's reads"};
  return {"none of which allows it", "which does not allow it"};
}

std::string op_short(const Op& op) {
  return fmt::format("process {} {} (line {})", op.process, describe(op), op.invoke_line);
}

std::string explanation_text(const History& history, Model model, const Explanation& e,
                             std::size_t states_total) {
  const Op& op = history.ops[e.op];
  std::string where = fmt::format("history line {}", op.invoke_line);
  if (op.invoke_time != 0 || op.complete_time != 0)
    where += fmt::format(", invoked at {:.6g} s, completed at {:.6g} s", op.invoke_time, op.complete_time);
  std::string subject = model == Model::MultiRegister ? "the registers"
                        : model == Model::Kv           ? fmt::format("key {}", e.key.value_or("\"\""))
                                                       : "the register";
  std::vector<std::string> shown;
  for (const auto& s : e.states) shown.push_back(show(s));
  std::string list = fmt::format("{}", fmt::join(shown, ", "));
  if (states_total > shown.size()) list += fmt::format(" (first {} of {})", shown.size(), states_total);
  const auto [plural, singular] = why(op);
  std::string text = fmt::format("Not linearizable{}: process {}'s {} ({}) cannot be linearized. ",
                                 e.key ? fmt::format(" (key {})", *e.key) : std::string(), op.process,
                                 describe(op), where);
  const bool one = states_total == 1;
  if (e.prefix.empty()) {
    text += one ? fmt::format("No op can be ordered before it, and {} is then in state {}, {}.", subject,
                              list, singular)
                : fmt::format("No op can be ordered before it, and {} is then in one of these states: {} — {}.",
                              subject, list, plural);
  } else {
    text += fmt::format("The ops before it can be ordered (longest linearizable prefix: {} op{}), ",
                        e.prefix.size(), e.prefix.size() == 1 ? "" : "s");
    text += one ? fmt::format("but every such order leaves {} in state {}, {}.", subject, list, singular)
                : fmt::format("but every such order leaves {} in one of these states: {} — {}.", subject,
                              list, plural);
    const std::size_t last = std::min<std::size_t>(e.prefix.size(), 5);
    std::vector<std::string> tail;
    for (std::size_t i = e.prefix.size() - last; i < e.prefix.size(); ++i)
      tail.push_back(op_short(history.ops[e.prefix[i]]));
    text += fmt::format("\n{} of that prefix: {}.", last == e.prefix.size() ? "The ops" : "The last ops",
                        fmt::join(tail, "; "));
  }
  return text;
}

json op_json(const Op& op, bool full) {
  json j = {{"process", op.process}, {"f", op.f}};
  if (full && op.key) j["key"] = *op.key;
  j["value"] = op.value;
  j["output"] = op.output_known ? op.output : json(nullptr);
  if (full) {
    j["index"] = op.invoke_index;
    j["line"] = op.invoke_line;
    j["time"] = op.invoke_time;
  }
  return j;
}

struct PartitionSpec {
  std::optional<std::string> key;
  std::vector<std::size_t> ops;  // into History::ops, invocation order
};

std::vector<PartitionSpec> partitions_of(const History& history, Model model) {
  std::vector<PartitionSpec> parts;
  if (model != Model::Kv) {
    PartitionSpec p;
    for (std::size_t i = 0; i < history.ops.size(); ++i) p.ops.push_back(i);
    parts.push_back(std::move(p));
    return parts;
  }
  std::map<std::optional<std::string>, std::size_t> index;  // key -> partition, by first appearance
  for (std::size_t i = 0; i < history.ops.size(); ++i) {
    const auto& key = history.ops[i].key;
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, parts.size()).first;
      parts.push_back(PartitionSpec{key, {}});
    }
    parts[it->second].ops.push_back(i);
  }
  return parts;
}

}  // namespace

json Result::to_json(const History& history) const {
  json j;
  j["verdict"] = to_string(verdict);
  if (!reason.empty()) j["reason"] = reason;
  if (explanation) {
    const Explanation& e = *explanation;
    json ex = json::object();
    if (e.op < history.ops.size()) ex["op"] = op_json(history.ops[e.op], true);
    ex["states"] = e.states;
    ex["prefix_length"] = e.prefix.size();
    json prefix = json::array();
    const std::size_t from = e.prefix.size() > kMaxPrefixJson ? e.prefix.size() - kMaxPrefixJson : 0;
    for (std::size_t i = from; i < e.prefix.size(); ++i)
      if (e.prefix[i] < history.ops.size()) prefix.push_back(op_json(history.ops[e.prefix[i]], false));
    ex["prefix"] = std::move(prefix);
    ex["text"] = e.text;
    j["explanation"] = std::move(ex);
  }
  j["partitions"] = partitions;
  j["states_explored"] = states_explored;
  j["wall_time_s"] = wall_time_s;
  return j;
}

Result check(const History& history, const Options& options) {
  const auto start = Clock::now();
  Budget budget;
  budget.timeout_s = options.timeout_s;
  budget.memory_limit = options.memory_limit_bytes;
  const double timeout = std::isfinite(options.timeout_s) ? std::max(0.0, options.timeout_s) : 1e9;
  budget.deadline = start + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(std::min(timeout, 1e9)));
  Result result;
  auto finish = [&](Verdict v) {
    result.verdict = v;
    result.wall_time_s = std::chrono::duration<double>(Clock::now() - start).count();
    return result;
  };

  bool unknown = false;
  for (const PartitionSpec& part : partitions_of(history, options.model)) {
    if (unknown && budget.time_exceeded()) break;  // no time left for the rest
    Machine machine(options.model);
    std::vector<COp> ops;
    ops.reserve(part.ops.size());
    for (std::size_t i : part.ops) {
      const Op& op = history.ops[i];
      if (op.status == Op::Status::Info && is_pure_read(op)) continue;
      COp c;
      if (auto error = compile(op, i, machine, c)) {
        result.reason = *error;
        return finish(Verdict::Unknown);
      }
      ops.push_back(c);
    }
    std::int32_t initial = 0;
    switch (options.model) {
      case Model::Kv: initial = machine.values().intern(""); break;
      case Model::MultiRegister: {
        // Keys start as options.initial[key] when it is an object holding that key, else null.
        if (options.initial.is_object())
          for (const auto& item : options.initial.items()) machine.key_id(item.key());
        std::vector<std::int32_t> s(machine.key_count());
        for (std::size_t k = 0; k < s.size(); ++k) {
          const std::string& name = machine.key_name(k);
          const bool has = options.initial.is_object() && options.initial.contains(name);
          s[k] = machine.values().intern(canonical(has ? options.initial[name] : json(nullptr)));
        }
        initial = machine.intern_state(s);
        break;
      }
      default: initial = machine.values().intern(canonical(options.initial)); break;
    }
    ++result.partitions;
    Search search(machine, ops, history, initial, budget);
    const Search::Outcome outcome = search.run();
    result.states_explored += search.explored();
    if (outcome == Search::Outcome::Budget) {
      unknown = true;
      if (result.reason.empty()) result.reason = search.reason();
      continue;
    }
    if (outcome == Search::Outcome::NotLinearizable) {
      const Frontier fr = search.frontier();
      Explanation e;
      e.op = ops[fr.op].index;
      e.key = part.key;
      for (auto s : fr.states) e.states.push_back(machine.state_json(s));
      for (auto p : fr.prefix) e.prefix.push_back(ops[p].index);
      e.text = explanation_text(history, options.model, e, fr.states_total);
      result.explanation = std::move(e);
      result.reason.clear();
      return finish(Verdict::NotLinearizable);
    }
  }
  return finish(unknown ? Verdict::Unknown : Verdict::Linearizable);
}

}  // namespace faultline::lin
