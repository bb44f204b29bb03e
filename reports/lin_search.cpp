// The search of the linearizability checker (lin_search.hpp).
//
// A configuration is (set of linearized ops, model state). Every op has a bit: ok ops by
// completion order (0..c-1, Knossos' entry ids), info ops after them from a word boundary. The
// search is Wing & Gong's with Lowe's memo, in the formulation of Porcupine and Knossos' WGL: a
// doubly linked list of call and return events; the children of a configuration are the ops
// whose call comes before the first return still in the list (linearizing one lifts its call and
// return out); at that return nothing else can be done — backtrack. Info ops have no return
// (it is at +infinity): they may be linearized at any point after their call, or never; the
// search succeeds once every ok op is linearized.
//
// Reductions on top (none changes the verdict; see each for why):
//   - the memo prunes a configuration when one with the same ok ops and state and a subset of
//     its info ops was stored (dominance: leaving an info op out is always allowed);
//   - of identical info ops only the earliest pending one may be linearized;
//   - a legal state-preserving ok op (read, unmatched cas, read-only txn) is the only child;
//   - doomed configurations are cut: some ok op needs a value nothing left can produce;
//   - children are ordered towards the values the reads in the window need, then by deadline.
// The verdict search uses all of them. On failure a second, bounded search (Prune::Bounded)
// finds the frontier an exhaustive search would have: the ok op right after the longest
// completion-ordered run of ok ops that some configuration linearized (Knossos' rule, "the
// earliest-returning op the frontier cannot get past"), and the states there.
#include "reports/lin_search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace faultline::lin::detail {

namespace {

constexpr std::size_t kMaxStatesShown = 10;
constexpr std::size_t kMaxStatesCounted = 100000;
constexpr std::uint64_t kTimeCheckMask = 255;  // budgets checked every 256 search steps
constexpr std::size_t kCompleteStatesConfigs = std::size_t{1} << 16;  // see Search::run

std::string format_bytes(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024, kMiB = kKiB * 1024, kGiB = kMiB * 1024;
  if (bytes >= kGiB) return fmt::format("{:g} GiB", static_cast<double>(bytes) / kGiB);
  if (bytes >= kMiB) return fmt::format("{:g} MiB", static_cast<double>(bytes) / kMiB);
  if (bytes >= kKiB) return fmt::format("{:g} KiB", static_cast<double>(bytes) / kKiB);
  return fmt::format("{} byte{}", bytes, bytes == 1 ? "" : "s");
}

}  // namespace

std::string time_reason(const Budget& b) {
  return fmt::format("time budget of {:g} s exhausted", b.timeout_s);
}
std::string memory_reason(const Budget& b) {
  return fmt::format("memory budget of {} exhausted", format_bytes(b.memory_limit));
}

namespace {

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
std::size_t heap_bytes(std::size_t n) {
  return n == 0 ? 0 : std::max<std::size_t>(32, (n + 8 + 15) & ~std::size_t{15});
}

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
      : ok_words_(ok_words),
        info_words_(info_words),
        entries_(1),
        infos_(info_words),
        groups_(1),
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
    return std::size_t{g.base} * 64 +
           (g.len ? static_cast<std::size_t>(std::countr_one(g.words[0])) : 0);
  }
  /// How many ok ops configuration i linearized.
  std::size_t ok_linearized(std::uint32_t i) const {
    const Group& g = *groups_.at(entry(i).group);
    std::size_t n = std::size_t{g.base} * 64;
    for (std::uint32_t w = 0; w < g.len; ++w)
      n += static_cast<std::size_t>(std::popcount(g.words[w]));
    return n;
  }
  /// How many info ops configuration i linearized.
  std::size_t info_linearized(std::uint32_t i) const {
    std::size_t n = 0;
    for (std::size_t w = 0; w < info_words_; ++w)
      n += static_cast<std::size_t>(std::popcount(infos_.at(i)[w]));
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
                       std::uint32_t parent, std::uint32_t op, std::size_t extra,
                       std::size_t limit) {
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
        for (std::size_t w = 0; w < info_words_ && subset; ++w)
          subset = (minimal[k + w] & ~info[w]) == 0;
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
        for (std::size_t w = 0; w < info_words_ && superset; ++w)
          superset = (info[w] & ~minimal[k + w]) == 0;
        if (superset) continue;
        for (std::size_t w = 0; w < info_words_; ++w) minimal[out++] = minimal[k + w];
      }
      minimal.resize(out);
      minimal.insert(minimal.end(), info, info + info_words_);
      minimal_bytes_ += heap_bytes(minimal.capacity() * sizeof(std::uint64_t));
      if (minimal_.capacity() > minimal_capacity_) {
        minimal_bytes_ +=
            (minimal_.capacity() - minimal_capacity_) * sizeof(std::vector<std::uint64_t>);
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

class Search {
 public:
  /// `max_configs`: give up (Budget, no reason) past that many configurations.
  Search(Machine& machine, const std::vector<COp>& ops, const History& history,
         std::int32_t initial, const Budget& budget, Prune prune, std::size_t max_configs)
      : machine_(machine),
        ops_(ops),
        initial_(initial),
        budget_(budget),
        prune_(prune),
        max_configs_(max_configs) {
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
      if (ops[i].ok)
        evs.push_back({complete_pos(history, ops[i]), 1, static_cast<std::uint32_t>(i)});
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
    build_requirements();
  }

  Outcome run() {
    bits_.assign(words_, 0);
    ok_hash_ = 0;
    const std::uint32_t root = memo_->insert(bits_.data(), 0, initial_, kNone, kNone,
                                             machine_.bytes(), budget_.memory_limit);
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
        if (memo_->bytes() + machine_.bytes() + stack_bytes() > budget_.memory_limit)
          return budget_out(false);
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
        account(vo, +1);
        continue;
      }
      const COp& op = ops_[o];
      const std::uint32_t b = bit_[o];
      bits_[b / 64] |= std::uint64_t{1} << (b % 64);
      account(o, -1);
      if (prune_ != Prune::None && doomed(s2)) {
        // A dead end: its subtree could get no further than its culprit. The verdict search cuts
        // it (not even stored); the explanation search only when that cannot go beyond the
        // deepest configuration found so far, so that the op it blames is the one an exhaustive
        // search would blame — and, while the search is small, only when it cannot reach that
        // depth either, so that the states listed there are all of them.
        const std::size_t reach = prune_ == Prune::Doomed ? 0 : culprit(s2);
        if (prune_ == Prune::Doomed || reach < best_depth_ ||
            (reach == best_depth_ && memo_->size() > kCompleteStatesConfigs)) {
          if (prune_ == Prune::Bounded && reach == best_depth_) states_cut_at_ = reach;
          account(o, +1);
          bits_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
          continue;
        }
      }
      const std::uint64_t h2 = op.ok ? ok_hash_ ^ zobrist_[b] : ok_hash_;
      const std::uint32_t idx = memo_->insert(bits_.data(), h2, s2, level.entry, o,
                                              machine_.bytes(), budget_.memory_limit);
      if (idx == Memo::kFull) return budget_out(false);
      if (memo_->size() > max_configs_) {
        reason_.clear();
        return Outcome::Budget;
      }
      if (idx == Memo::kExists) {
        account(o, +1);
        bits_[b / 64] &= ~(std::uint64_t{1} << (b % 64));
        continue;
      }
      ok_hash_ = h2;
      if (op.ok) --remaining_;
      best_depth_ = std::max(best_depth_, memo_->ok_depth(idx));
      lift(call_of_[o]);
      enter(s2, idx, call_of_[o]);
    }
  }

  std::uint64_t explored() const { return memo_->size(); }
  const std::string& reason() const { return reason_; }

  /// After NotLinearizable (`complete`), or after running out (a partial frontier, from what
  /// was explored): the deepest frontier of the search (see the file comment).
  Frontier frontier(bool complete) const {
    const auto n = static_cast<std::uint32_t>(memo_->size());
    auto depth = [&](std::uint32_t i) { return std::min(memo_->ok_depth(i), ok_count_); };
    std::size_t k = 0;
    for (std::uint32_t i = 0; i < n; ++i) k = std::max(k, depth(i));
    auto at_frontier = [&](std::uint32_t i) { return depth(i) == k; };
    Frontier fr;
    fr.depth = k;
    fr.op = k < ok_count_ ? bit_op_[k] : 0;
    fr.states_complete = complete && states_cut_at_ != k;
    // The prefix shown: the frontier configuration with the most ok ops, then the fewest info
    // ops (those are optional), then the first found.
    std::uint32_t best = kNone;
    std::size_t best_ok = 0, best_info = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!at_frontier(i)) continue;
      const std::size_t ok = memo_->ok_linearized(i), info = memo_->info_linearized(i);
      if (best == kNone || ok > best_ok || (ok == best_ok && info < best_info)) {
        best = i;
        best_ok = ok;
        best_info = info;
      }
    }
    std::unordered_set<std::int32_t> seen;  // counting stops at kMaxStatesCounted
    auto add = [&](std::int32_t s) {
      if (seen.size() >= kMaxStatesCounted) return;
      if (seen.insert(s).second && fr.states.size() < kMaxStatesShown) fr.states.push_back(s);
    };
    if (best != kNone) add(memo_->state(best));
    for (std::uint32_t i = 0; i < n; ++i)
      if (at_frontier(i)) add(memo_->state(i));
    fr.states_total = seen.size();
    for (std::uint32_t i = best; i != kNone && memo_->entry(i).op != kNone;
         i = memo_->entry(i).parent)
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
  // of the unlinearized ok op that completes first) and that the model accepts:
  //   - Forced: if an ok op that leaves the state unchanged (a read, a cas that did not match, a
  //     read-only txn) is legal, it is the only child: linearizing it now disables nothing (its
  //     real-time predecessors are all linearized and the state stays), so any completion that
  //     places it later can place it here instead.
  //   - Otherwise the ok ops, best first: those leaving the state that a read or cas in the
  //     window needs (`targets`), then (kv) those leaving a prefix of such a string, then the
  //     rest in completion order (earliest deadline first). Info ops directed the same way are
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
    std::uint32_t ntargets = 0;                  // values reads/cas ops in the window need
    std::array<std::int32_t, 8> targets{};
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
    for (std::uint32_t ev = next_[0]; ev != tail_ && ev_call_[ev]; ev = next_[ev])
      scratch_.push_back(ev_op_[ev]);
    if (prune_ == Prune::Doomed && doomed(state)) {  // a dead end: no children (the root, here)
      level.end = level.next = level.begin;
      levels_.push_back(level);
      return;
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
      // Targets: the values the reads and cas ops in the window need (none is legal now).
      for (std::uint32_t o : scratch_) {
        for (std::uint32_t k = requires_begin_[o]; k < requires_begin_[o + 1]; ++k) {
          const std::int32_t v = req_value_[requires_[k]];
          if (level.ntargets < level.targets.size() &&
              std::find(level.targets.begin(), level.targets.begin() + level.ntargets, v) ==
                  level.targets.begin() + level.ntargets)
            level.targets[level.ntargets++] = v;
        }
      }
      for (std::uint32_t o : scratch_) {
        const COp& op = ops_[o];
        if (op.ok ? op.preserving : !twin_free(o)) continue;
        std::int32_t s2;
        if (!machine_.step(state, op, s2)) continue;
        const std::uint64_t rank = directed(s2, level);
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
      if (directed(s2, level) != 2) continue;  // already among the sorted children
      return o;
    }
    level.info_cursor = kNone;
    return kNone;
  }

  /// 0: state s is what a read (or cas) in the window needs; 1 (kv): s is a prefix of it;
  /// 2: neither.
  std::uint64_t directed(std::int32_t s, const Level& level) const {
    std::uint64_t rank = 2;
    for (std::uint32_t i = 0; i < level.ntargets; ++i) {
      const std::int32_t t = level.targets[i];
      if (t == s) return 0;
      if (rank == 2 && machine_.model() == Model::Kv &&
          machine_.values().str(t).starts_with(machine_.values().str(s)))
        rank = 1;
    }
    return rank;
  }

  std::size_t stack_bytes() const {
    return levels_.capacity() * sizeof(Level) + cands_.capacity() * sizeof(Cand);
  }

  // Requirements and doomed configurations. An ok read of v, or an ok cas expecting v, needs the
  // state to be v when it takes effect. So does the only op able to produce a required value v
  // (v not the initial state) — it must take effect, or v never appears: a kv append (whose value
  // ends v) needs v minus its value, a cas (an info one) its expected value; those values are
  // required in turn. If a required value is not the state and no op still to be linearized
  // can produce it (a write/put of it, a cas to it, a kv append whose value ends it), the op
  // needing it can never be linearized: the configuration is a dead end, however far its other
  // ops could go. Counts of pending requirers and producers per value are kept up to date as
  // ops are linearized. The required values of the ops in the window also direct the order in
  // which children are tried (`targets`).
  void build_requirements() {
    const std::size_t n = ops_.size();
    const bool kv = machine_.model() == Model::Kv;
    std::unordered_map<std::int32_t, std::uint32_t> index;  // value id -> requirement slot
    std::vector<std::vector<std::uint32_t>> req_of(n), prod_of(n);
    std::unordered_map<std::int32_t, std::vector<std::uint32_t>>
        writers;  // value -> ops setting it
    std::unordered_map<std::string_view, std::vector<std::uint32_t>> appends;  // value -> appends
    std::vector<std::size_t> lengths;
    for (std::size_t o = 0; o < n; ++o) {
      const COp& op = ops_[o];
      if (op.kind == Kind::Write) writers[op.a].push_back(static_cast<std::uint32_t>(o));
      if (op.kind == Kind::Cas) writers[op.b].push_back(static_cast<std::uint32_t>(o));
      if (kv && op.kind == Kind::Append) {
        const std::string& v = machine_.values().str(op.a);
        appends[v].push_back(static_cast<std::uint32_t>(o));
        lengths.push_back(v.size());
      }
    }
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    std::vector<std::uint32_t> work;
    auto slot = [&](std::int32_t v) {
      auto [it, fresh] = index.try_emplace(v, static_cast<std::uint32_t>(req_value_.size()));
      if (fresh) {
        req_value_.push_back(v);
        work.push_back(it->second);
      }
      return it->second;
    };
    for (std::size_t o = 0; o < n; ++o) {
      const COp& op = ops_[o];
      if (op.ok && op.a != kUnknown && (op.kind == Kind::Read || op.kind == Kind::Cas))
        req_of[o].push_back(slot(op.a));
    }
    while (!work.empty()) {
      const std::uint32_t r = work.back();
      work.pop_back();
      const std::int32_t v = req_value_[r];
      std::vector<std::uint32_t> producers;
      if (auto it = writers.find(v); it != writers.end()) producers = it->second;
      std::uint32_t only_append = kNone;
      if (kv) {
        const std::string v_str = machine_.values().str(v);  // a copy: interning may move nothing,
        for (std::size_t len : lengths) {                    // but keep it simple and safe
          if (len > v_str.size()) break;
          auto it = appends.find(std::string_view(v_str).substr(v_str.size() - len));
          if (it == appends.end()) continue;
          producers.insert(producers.end(), it->second.begin(), it->second.end());
          if (it->second.size() == 1) only_append = it->second[0];
        }
        if (producers.size() == 1 && only_append != kNone && v != initial_ && !v_str.empty()) {
          const std::string& suffix = machine_.values().str(ops_[only_append].a);
          const std::int32_t u =
              machine_.values().intern(v_str.substr(0, v_str.size() - suffix.size()));
          req_of[only_append].push_back(slot(u));
        }
      }
      // The only producer is a cas (an info one, typically): it must take effect, so it needs
      // its expected value.
      if (producers.size() == 1 && ops_[producers[0]].kind == Kind::Cas && v != initial_)
        req_of[producers[0]].push_back(slot(ops_[producers[0]].a));
      for (std::uint32_t o : producers) prod_of[o].push_back(r);
    }
    auto flatten = [&](std::vector<std::vector<std::uint32_t>>& lists,
                       std::vector<std::uint32_t>& begin, std::vector<std::uint32_t>& flat) {
      begin.assign(n + 1, 0);
      for (std::size_t o = 0; o < n; ++o) {
        std::sort(lists[o].begin(), lists[o].end());
        lists[o].erase(std::unique(lists[o].begin(), lists[o].end()), lists[o].end());
        begin[o + 1] = begin[o] + static_cast<std::uint32_t>(lists[o].size());
        flat.insert(flat.end(), lists[o].begin(), lists[o].end());
      }
    };
    flatten(req_of, requires_begin_, requires_);
    flatten(prod_of, produces_begin_, produces_);
    req_pending_.assign(req_value_.size(), 0);
    prod_pending_.assign(req_value_.size(), 0);
    for (std::size_t o = 0; o < n; ++o) {
      for (std::uint32_t k = requires_begin_[o]; k < requires_begin_[o + 1]; ++k)
        ++req_pending_[requires_[k]];
      for (std::uint32_t k = produces_begin_[o]; k < produces_begin_[o + 1]; ++k)
        ++prod_pending_[produces_[k]];
    }
    bad_pos_.assign(req_value_.size(), kNone);
    for (std::uint32_t r = 0; r < req_value_.size(); ++r) update_bad(r);
    // slot -> ops requiring it
    requirers_begin_.assign(req_value_.size() + 1, 0);
    for (std::uint32_t r : requires_) ++requirers_begin_[r + 1];
    for (std::size_t r = 0; r < req_value_.size(); ++r)
      requirers_begin_[r + 1] += requirers_begin_[r];
    requirers_.assign(requires_.size(), 0);
    std::vector<std::uint32_t> fill(requirers_begin_.begin(), requirers_begin_.end() - 1);
    for (std::size_t o = 0; o < n; ++o)
      for (std::uint32_t k = requires_begin_[o]; k < requires_begin_[o + 1]; ++k)
        requirers_[fill[requires_[k]]++] = static_cast<std::uint32_t>(o);
    seen_.assign(req_value_.size(), 0);
  }

  /// The completion rank of the earliest-completing pending ok op that a doomed configuration
  /// (state `state`) can never linearize: a requirer of an unproducible value, directly or
  /// through the values derived from it.
  std::uint32_t culprit(std::int32_t state) {
    std::uint32_t best = kNone;
    ++stamp_;
    std::vector<std::uint32_t> todo;
    for (std::uint32_t r : bad_)
      if (req_value_[r] != state) todo.push_back(r);
    while (!todo.empty()) {
      const std::uint32_t r = todo.back();
      todo.pop_back();
      if (seen_[r] == stamp_) continue;
      seen_[r] = stamp_;
      for (std::uint32_t k = requirers_begin_[r]; k < requirers_begin_[r + 1]; ++k) {
        const std::uint32_t o = requirers_[k];
        const std::uint32_t b = bit_[o];
        if ((bits_[b / 64] >> (b % 64)) & 1) continue;  // linearized
        // A read or cas needing it fails; an append or info cas merely can't produce what it
        // should: what it is the last pending producer of is then unproducible too.
        if (ops_[o].ok && (ops_[o].kind == Kind::Read || ops_[o].kind == Kind::Cas))
          best = std::min(best, b);
        for (std::uint32_t j = produces_begin_[o]; j < produces_begin_[o + 1]; ++j) {
          const std::uint32_t v = produces_[j];
          if (prod_pending_[v] == 1 && req_value_[v] != state) todo.push_back(v);
        }
      }
    }
    return best == kNone ? 0 : best;
  }

  /// Op o linearized (delta -1) or taken back (+1).
  void account(std::uint32_t o, int delta) {
    for (std::uint32_t k = produces_begin_[o]; k < produces_begin_[o + 1]; ++k) {
      prod_pending_[produces_[k]] += delta;
      update_bad(produces_[k]);
    }
    for (std::uint32_t k = requires_begin_[o]; k < requires_begin_[o + 1]; ++k) {
      req_pending_[requires_[k]] += delta;
      update_bad(requires_[k]);
    }
  }

  void update_bad(std::uint32_t r) {
    const bool bad = req_pending_[r] > 0 && prod_pending_[r] == 0;
    if (bad && bad_pos_[r] == kNone) {
      bad_pos_[r] = static_cast<std::uint32_t>(bad_.size());
      bad_.push_back(r);
    } else if (!bad && bad_pos_[r] != kNone) {
      const std::uint32_t last = bad_.back();
      bad_[bad_pos_[r]] = last;
      bad_pos_[last] = bad_pos_[r];
      bad_.pop_back();
      bad_pos_[r] = kNone;
    }
  }

  /// Some pending ok op needs a value nothing can produce any more (unless it is the state).
  bool doomed(std::int32_t state) const {
    return bad_.size() > 1 || (bad_.size() == 1 && req_value_[bad_[0]] != state);
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
  std::vector<std::uint32_t> bit_;          // local op -> bit
  std::vector<std::uint32_t> bit_op_;       // bit -> local op
  std::vector<std::uint32_t> twin_before_;  // info op -> previous identical info op
  std::vector<std::uint64_t> zobrist_;
  std::vector<std::uint32_t> next_, prev_, ev_op_, ev_match_;
  std::vector<std::uint8_t> ev_call_;
  std::uint32_t tail_ = 1;
  std::vector<std::uint32_t> call_of_;  // op -> its call event
  Prune prune_ = Prune::Doomed;
  std::size_t best_depth_ = 0;         // deepest ok_depth of a stored configuration
  std::size_t states_cut_at_ = kNone;  // a frontier at that depth may miss states
  std::size_t max_configs_ = 0;
  std::vector<std::int32_t> req_value_;                   // requirement slot -> value id
  std::vector<std::uint32_t> requires_begin_, requires_;  // op -> slots it needs
  std::vector<std::uint32_t> produces_begin_, produces_;  // op -> slots it can produce
  std::vector<std::int32_t> req_pending_, prod_pending_;
  std::vector<std::uint32_t> bad_, bad_pos_;                // slots needed and no longer producible
  std::vector<std::uint32_t> requirers_begin_, requirers_;  // slot -> ops requiring it
  std::vector<std::uint32_t> seen_;
  std::uint32_t stamp_ = 0;

  std::vector<Level> levels_;
  std::vector<Cand> cands_;
  std::vector<std::uint32_t> scratch_;
  std::uint64_t ok_hash_ = 0;
  std::size_t remaining_ = 0;
  std::vector<std::uint64_t> bits_;
  std::unique_ptr<Memo> memo_;
  std::string reason_;
};

}  // namespace

SearchRun run_search(Machine& machine, const std::vector<COp>& ops, const History& history,
                     std::int32_t initial, const Budget& budget, Prune prune,
                     std::size_t max_configs, Frontiers want) {
  Search search(machine, ops, history, initial, budget, prune, max_configs);
  SearchRun run;
  run.outcome = search.run();
  run.reason = search.reason();
  run.explored = search.explored();
  if (run.outcome == Outcome::NotLinearizable ? want != Frontiers::None : want == Frontiers::Always)
    run.frontier = search.frontier(run.outcome == Outcome::NotLinearizable);
  return run;
}

}  // namespace faultline::lin::detail
