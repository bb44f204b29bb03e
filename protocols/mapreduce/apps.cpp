#include "protocols/mapreduce/apps.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <stdexcept>
#include <utility>

#include "common/rng.hpp"

namespace faultline::mapreduce {

namespace {

bool is_letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

/// The words of `text` as the 6.824 lab's wc splits them (strings.FieldsFunc with
/// !unicode.IsLetter), restricted to ASCII: maximal runs of letters, lower-cased; every other
/// byte separates.
template <typename Fn>
void for_each_word(std::string_view text, Fn&& fn) {
  std::string word;
  for (char c : text) {
    if (is_letter(c)) {
      word.push_back(to_lower(c));
    } else if (!word.empty()) {
      fn(word);
      word.clear();
    }
  }
  if (!word.empty()) fn(word);
}

/// Calls fn(line, start) for every line of `text` (without its '\n'; `start` is the line's
/// byte offset in `text`). A last line without '\n' counts; an empty text has no line.
template <typename Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    fn(text.substr(start, end - start), start);
    start = end + 1;
  }
}

std::uint64_t parse_count(const std::string& value) {
  std::uint64_t n = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  // Values are written by our own map and combiner: anything else is a bug here.
  assert(ec == std::errc() && ptr == value.data() + value.size());
  (void)ptr;
  (void)ec;
  return n;
}

bool pair_less(const KeyValue& a, const KeyValue& b) {
  if (a.key != b.key) return a.key < b.key;
  return a.value < b.value;
}

/// Calls fn(key, values) for each run of equal keys of sorted `pairs`.
template <typename Fn>
void for_each_group(const std::vector<KeyValue>& pairs, Fn&& fn) {
  std::vector<std::string> values;
  std::size_t i = 0;
  while (i < pairs.size()) {
    std::size_t j = i;
    values.clear();
    while (j < pairs.size() && pairs[j].key == pairs[i].key) values.push_back(pairs[j++].value);
    fn(pairs[i].key, values);
    i = j;
  }
}

// --- wordcount ---------------------------------------------------------------------------

/// The paper's running example (§2.1): map emits (word, "1"), reduce sums. The combiner (§4.3,
/// "partial merging") emits (word, partial sum); reduce parses every value as an integer, so
/// the output is the same with and without it.
class WordCount final : public App {
 public:
  std::string_view name() const override { return "wordcount"; }
  void map(std::string_view, std::uint64_t, std::string_view text,
           std::vector<KeyValue>& out) const override {
    for_each_word(text, [&](const std::string& w) { out.push_back({w, "1"}); });
  }
  void reduce(const std::string& key, const std::vector<std::string>& values,
              std::string& out) const override {
    out += key;
    out += ' ';
    out += std::to_string(sum(values));
    out += '\n';
  }
  bool has_combiner() const override { return true; }
  void combine(const std::string& key, const std::vector<std::string>& values,
               std::vector<KeyValue>& out) const override {
    out.push_back({key, std::to_string(sum(values))});
  }

 private:
  static std::uint64_t sum(const std::vector<std::string>& values) {
    std::uint64_t total = 0;
    for (const auto& v : values) total += parse_count(v);
    return total;
  }
};

// --- inverted index ----------------------------------------------------------------------

/// §2.3 "Inverted Index": map emits (word, document) once per distinct word of the split;
/// reduce outputs the sorted, deduplicated list of documents (a file cut into several splits
/// emits the same pair once per split). No combiner: map already deduplicates within its
/// split, which is all a combiner could do.
class InvertedIndex final : public App {
 public:
  std::string_view name() const override { return "inverted-index"; }
  void map(std::string_view file, std::uint64_t, std::string_view text,
           std::vector<KeyValue>& out) const override {
    std::vector<std::string> words;
    for_each_word(text, [&](const std::string& w) { words.push_back(w); });
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    for (auto& w : words) out.push_back({std::move(w), std::string(file)});
  }
  void reduce(const std::string& key, const std::vector<std::string>& values,
              std::string& out) const override {
    // Values arrive sorted (run_reduce sorts by (key, value)); sort anyway so the function
    // stands on its own.
    std::vector<std::string> files = values;
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    out += key;
    out += ' ';
    out += std::to_string(files.size());
    out += ' ';
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (i > 0) out += ',';
      out += files[i];
    }
    out += '\n';
  }
};

// --- distributed grep --------------------------------------------------------------------

/// §2.3 "Distributed Grep": map emits a line if it matches (here: contains the pattern as a
/// plain substring); reduce is the identity. The key names the line, "<file>:<offset>" with
/// the offset of the line's first byte in the file zero-padded to 12 digits, so keys sort in
/// file order within each output file.
class Grep final : public App {
 public:
  explicit Grep(std::string pattern) : pattern_(std::move(pattern)) {}
  std::string_view name() const override { return "grep"; }
  void map(std::string_view file, std::uint64_t offset, std::string_view text,
           std::vector<KeyValue>& out) const override {
    for_each_line(text, [&](std::string_view line, std::size_t start) {
      if (line.find(pattern_) == std::string_view::npos) return;
      char digits[32];
      std::snprintf(digits, sizeof digits, "%012llu",
                    static_cast<unsigned long long>(offset + start));
      std::string key(file);
      key += ':';
      key += digits;
      out.push_back({std::move(key), std::string(line)});
    });
  }
  void reduce(const std::string& key, const std::vector<std::string>& values,
              std::string& out) const override {
    for (const auto& v : values) {
      out += key;
      out += ' ';
      out += v;
      out += '\n';
    }
  }

 private:
  std::string pattern_;
};

// --- sort --------------------------------------------------------------------------------

/// §5.3 "Sort" (TeraSort-like): each line is a record, its first 10 bytes the key, the whole
/// line the value. The partitioner is a range partitioner ("the partitioning function for
/// this benchmark has built-in knowledge of the distribution of keys"): the key's first two
/// bytes, read over the printable range ' '..'~', split evenly among the R reduce tasks. It is
/// monotone in the key, so the outputs mr-out-0..R-1 concatenated are totally sorted. Empty
/// lines are not records and are dropped.
class Sort final : public App {
 public:
  static constexpr std::size_t kKeyBytes = 10;
  static constexpr int kFirst = ' ';
  static constexpr int kLast = '~';
  static constexpr int kSpan = kLast - kFirst + 1;  // 95 printable characters

  std::string_view name() const override { return "sort"; }
  void map(std::string_view, std::uint64_t, std::string_view text,
           std::vector<KeyValue>& out) const override {
    for_each_line(text, [&](std::string_view line, std::size_t) {
      if (line.empty()) return;
      out.push_back({std::string(line.substr(0, kKeyBytes)), std::string(line)});
    });
  }
  void reduce(const std::string&, const std::vector<std::string>& values,
              std::string& out) const override {
    for (const auto& v : values) {
      out += v;
      out += '\n';
    }
  }
  int partition(const std::string& key, int reduce_tasks) const override {
    assert(reduce_tasks > 0);
    // A missing byte sorts before every byte, and bytes outside the printable range clamp to
    // its ends: both keep the map monotone (std::string compares bytes as unsigned char).
    auto digit = [&](std::size_t i) -> std::int64_t {
      if (i >= key.size()) return 0;
      int c = static_cast<unsigned char>(key[i]);
      return std::clamp(c, kFirst, kLast) - kFirst;
    };
    std::int64_t position = digit(0) * kSpan + digit(1);  // in [0, kSpan^2)
    return static_cast<int>(position * reduce_tasks / (kSpan * kSpan));
  }
};

}  // namespace

// --- App defaults ------------------------------------------------------------------------

void App::combine(const std::string&, const std::vector<std::string>&,
                  std::vector<KeyValue>&) const {
  // A combiner that silently dropped or passed pairs would change the output; callers check
  // has_combiner() first.
  throw std::logic_error("mapreduce: combine() called on an application without a combiner");
}

int App::partition(const std::string& key, int reduce_tasks) const {
  assert(reduce_tasks > 0);
  // stable_hash (FNV-1a 64), never std::hash: the partition of a key must be the same on every
  // machine and standard library, or outputs would not compare across runs.
  return static_cast<int>(stable_hash(key) % static_cast<std::uint64_t>(reduce_tasks));
}

// --- factory -----------------------------------------------------------------------------

std::unique_ptr<App> make_app(const Config& config) {
  if (config.app == "wordcount") return std::make_unique<WordCount>();
  if (config.app == "inverted-index") return std::make_unique<InvertedIndex>();
  if (config.app == "grep") return std::make_unique<Grep>(config.grep_pattern);
  if (config.app == "sort") return std::make_unique<Sort>();
  return nullptr;
}

const std::vector<std::string>& app_names() {
  static const std::vector<std::string> names = {"wordcount", "inverted-index", "grep", "sort"};
  return names;
}

// --- running the functions ---------------------------------------------------------------

std::vector<std::vector<KeyValue>> run_map(const App& app, const Job& job, const Split& split,
                                           bool combine) {
  const int reduce_tasks = job.reduce_tasks;
  assert(reduce_tasks > 0);
  const std::string& file = job.files.at(static_cast<std::size_t>(split.file)).name;

  std::vector<KeyValue> pairs;
  app.map(file, split.offset, job.text(split), pairs);

  std::vector<std::vector<KeyValue>> partitions(static_cast<std::size_t>(reduce_tasks));
  for (auto& kv : pairs) {
    int r = app.partition(kv.key, reduce_tasks);
    assert(r >= 0 && r < reduce_tasks);
    partitions[static_cast<std::size_t>(r)].push_back(std::move(kv));
  }
  for (auto& part : partitions) {
    std::sort(part.begin(), part.end(), pair_less);
    if (!combine || !app.has_combiner()) continue;
    // §4.3: the combiner runs on the machine that did the map, once per key of each partition.
    std::vector<KeyValue> combined;
    for_each_group(part, [&](const std::string& key, const std::vector<std::string>& values) {
      app.combine(key, values, combined);
    });
    std::sort(combined.begin(), combined.end(), pair_less);
    part = std::move(combined);
  }
  return partitions;
}

std::string run_reduce(const App& app, const std::vector<KvList>& partitions) {
  std::size_t total = 0;
  for (const auto& p : partitions)
    if (p) total += p->size();
  std::vector<KeyValue> pairs;
  pairs.reserve(total);
  for (const auto& p : partitions)
    if (p) pairs.insert(pairs.end(), p->begin(), p->end());
  // §4.2: sorted by key; by value too, so the result does not depend on the order in which the
  // partitions were fetched (equal pairs are identical, so any sort gives the same sequence).
  std::sort(pairs.begin(), pairs.end(), pair_less);

  std::string out;
  for_each_group(pairs, [&](const std::string& key, const std::vector<std::string>& values) {
    app.reduce(key, values, out);
  });
  return out;
}

std::vector<std::string> run_sequential(const App& app, const Job& job, bool combine) {
  const auto reduce_tasks = static_cast<std::size_t>(job.reduce_tasks);
  std::vector<std::vector<KvList>> inputs(reduce_tasks);
  for (const auto& split : job.splits) {
    auto partitions = run_map(app, job, split, combine);
    for (std::size_t r = 0; r < reduce_tasks; ++r)
      inputs[r].push_back(std::make_shared<const std::vector<KeyValue>>(std::move(partitions[r])));
  }
  std::vector<std::string> outputs;
  outputs.reserve(reduce_tasks);
  for (std::size_t r = 0; r < reduce_tasks; ++r) outputs.push_back(run_reduce(app, inputs[r]));
  return outputs;
}

std::uint64_t pairs_bytes(const std::vector<KeyValue>& pairs) {
  std::uint64_t bytes = 0;
  for (const auto& kv : pairs) bytes += kv.key.size() + kv.value.size() + 2;
  return bytes;
}

}  // namespace faultline::mapreduce
