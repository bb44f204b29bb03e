// The real-mode applications (protocols/mapreduce/apps.hpp): the user functions of §2, the
// partitioners of §4.1, the combiner of §4.3, and the sequential reference every distributed
// run is compared with. The determinism rule under test: output bytes depend only on the input
// and R, never on how the input is split nor on the order map outputs reach a reducer.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "common/rng.hpp"
#include "protocols/mapreduce/apps.hpp"

namespace faultline::mapreduce {
namespace {

const std::string kData = std::string(FAULTLINE_SOURCE_DIR) + "/data/mapreduce";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Config config_for(const std::string& app, const std::string& grep_pattern = "the") {
  Config config;
  config.app = app;
  config.grep_pattern = grep_pattern;
  return config;
}

/// A real-mode Job built by hand: each file cut into `pieces` splits of about equal size, each
/// ending at a line end (as plan_job does), so the splits cover every byte exactly once.
Job make_job(const std::vector<InputFile>& files, int pieces, int reduce_tasks) {
  Job job;
  job.files = files;
  job.reduce_tasks = reduce_tasks;
  for (int f = 0; f < static_cast<int>(files.size()); ++f) {
    const std::string& content = files[static_cast<std::size_t>(f)].content;
    const std::uint64_t target = std::max<std::uint64_t>(1, content.size() / pieces);
    std::uint64_t start = 0;
    while (start < content.size()) {
      std::uint64_t end = std::min<std::uint64_t>(content.size(), start + target);
      std::size_t newline = content.find('\n', end == 0 ? 0 : end - 1);
      end = newline == std::string::npos ? content.size() : newline + 1;
      Split split;
      split.id = static_cast<int>(job.splits.size());
      split.file = f;
      split.offset = start;
      split.bytes = end - start;
      job.splits.push_back(split);
      start = end;
    }
  }
  return job;
}

std::string concat(const std::vector<std::string>& outputs) {
  return std::accumulate(outputs.begin(), outputs.end(), std::string());
}

std::vector<std::string> run(const std::string& app_name, const std::vector<InputFile>& files,
                             int pieces, int reduce_tasks, bool combine = false,
                             const std::string& grep_pattern = "the") {
  auto app = make_app(config_for(app_name, grep_pattern));
  EXPECT_NE(app, nullptr);
  return run_sequential(*app, make_job(files, pieces, reduce_tasks), combine);
}

/// The first `bytes` of a text from data/mapreduce, cut at a line end.
std::string text_prefix(const std::string& rel, std::size_t bytes) {
  std::string content = read_file(kData + "/" + rel);
  std::size_t end = content.find('\n', std::min(bytes, content.size() - 1));
  return content.substr(0, end == std::string::npos ? content.size() : end + 1);
}

// --- make_app ----------------------------------------------------------------------------

TEST(MapReduceApps, MakeApp_EveryListedNameMakesThatApp) {
  ASSERT_EQ(app_names(), (std::vector<std::string>{"wordcount", "inverted-index", "grep", "sort"}));
  for (const auto& name : app_names()) {
    auto app = make_app(config_for(name));
    ASSERT_NE(app, nullptr) << name;
    EXPECT_EQ(app->name(), name);
  }
  EXPECT_EQ(make_app(config_for("pagerank")), nullptr);
}

TEST(MapReduceApps, Combine_WithoutCombinerThrows) {
  // Only wordcount has a combiner (§4.3); calling the base combine() is a caller's bug.
  for (const auto& name : app_names()) {
    auto app = make_app(config_for(name));
    EXPECT_EQ(app->has_combiner(), name == "wordcount") << name;
    if (app->has_combiner()) continue;
    std::vector<KeyValue> out;
    EXPECT_THROW(app->combine("k", {"v"}, out), std::logic_error) << name;
    EXPECT_TRUE(out.empty());
  }
}

// --- wordcount ---------------------------------------------------------------------------

TEST(MapReduceApps, WordCountMap_SplitsOnEveryNonLetterAndLowerCases) {
  auto app = make_app(config_for("wordcount"));
  std::vector<KeyValue> pairs;
  app->map("f", 0, "Hello, world!\nHELLO don't 42x\xc3\xa9t\xc3\xa9 a-b", pairs);
  std::vector<KeyValue> expected;
  for (const char* w : {"hello", "world", "hello", "don", "t", "x", "t", "a", "b"})
    expected.push_back({w, "1"});
  EXPECT_EQ(pairs, expected);
}

TEST(MapReduceApps, WordCount_ExactOutput) {
  std::vector<InputFile> files = {{"a.txt", "The cat, the hat.\nA cat!\n"}, {"b.txt", "cat\n"}};
  EXPECT_EQ(run("wordcount", files, 1, 1),
            (std::vector<std::string>{"a 1\ncat 3\nhat 1\nthe 2\n"}));
  // R = 3: each word in the output file of its hash partition, sorted within it.
  auto app = make_app(config_for("wordcount"));
  auto outputs = run("wordcount", files, 1, 3);
  ASSERT_EQ(outputs.size(), 3u);
  std::vector<std::string> expected(3);
  for (auto [word, count] :
       std::vector<std::pair<std::string, int>>{{"a", 1}, {"cat", 3}, {"hat", 1}, {"the", 2}})
    expected[static_cast<std::size_t>(app->partition(word, 3))] +=
        word + " " + std::to_string(count) + "\n";
  EXPECT_EQ(outputs, expected);
}

TEST(MapReduceApps, WordCountCombiner_SumsPerPartitionAndKeepsOutput) {
  std::vector<InputFile> files = {{"harbour.txt", text_prefix("texts/harbour.txt", 60'000)},
                                  {"mill.txt", text_prefix("texts/mill.txt", 40'000)}};
  for (int reduce_tasks : {1, 3, 7}) {
    EXPECT_EQ(run("wordcount", files, 4, reduce_tasks, /*combine=*/true),
              run("wordcount", files, 4, reduce_tasks, /*combine=*/false))
        << "R=" << reduce_tasks;
  }
  // The combiner leaves one pair per distinct word of each partition (§4.3 "partial merging").
  auto app = make_app(config_for("wordcount"));
  Job job = make_job({{"t", "b a b c b a\n"}}, 1, 1);
  auto combined = run_map(*app, job, job.splits[0], true);
  ASSERT_EQ(combined.size(), 1u);
  EXPECT_EQ(combined[0], (std::vector<KeyValue>{{"a", "2"}, {"b", "3"}, {"c", "1"}}));
  auto plain = run_map(*app, job, job.splits[0], false);
  EXPECT_EQ(plain[0].size(), 6u);
}

TEST(MapReduceApps, WordCount_ShippedTextsMatchTheirReadme) {
  // data/mapreduce/README.md: 446,508 words, 19,773 distinct, "the" 40,588 times, 2,048 once.
  std::vector<InputFile> files;
  for (const char* name : {"harbour.txt", "orchard.txt", "mill.txt", "letters.txt", "voyage.txt"})
    files.push_back({name, read_file(kData + "/texts/" + name)});
  std::istringstream out(concat(run("wordcount", files, 2, 3, /*combine=*/true)));
  std::uint64_t words = 0, distinct = 0, once = 0, the = 0;
  std::string word;
  for (std::uint64_t count; out >> word >> count;) {
    words += count;
    ++distinct;
    once += count == 1;
    if (word == "the") the = count;
  }
  EXPECT_EQ(words, 446'508u);
  EXPECT_EQ(distinct, 19'773u);
  EXPECT_EQ(the, 40'588u);
  EXPECT_EQ(once, 2'048u);
}

// --- inverted index ----------------------------------------------------------------------

TEST(MapReduceApps, InvertedIndex_ExactOutputFilesSortedAndDeduplicated) {
  // zeta.txt is cut into up to three splits (one per line), each containing "ship": the file
  // is listed once.
  std::vector<InputFile> files = {{"zeta.txt", "ship sea\nship\nship Ship\n"},
                                  {"alpha.txt", "sea, ship; sea\n"},
                                  {"mid.txt", "nothing\n"}};
  std::string expected =
      "nothing 1 mid.txt\n"
      "sea 2 alpha.txt,zeta.txt\n"
      "ship 2 alpha.txt,zeta.txt\n";
  for (int pieces : {1, 3, 100})
    EXPECT_EQ(concat(run("inverted-index", files, pieces, 1)), expected);
  // Map emits each distinct word of a split once.
  auto app = make_app(config_for("inverted-index"));
  std::vector<KeyValue> pairs;
  app->map("f", 0, "b a B a", pairs);
  EXPECT_EQ(pairs, (std::vector<KeyValue>{{"a", "f"}, {"b", "f"}}));
}

// --- grep --------------------------------------------------------------------------------

TEST(MapReduceApps, Grep_KeysAreFileAndZeroPaddedLineOffset) {
  // Line starts: 0 "the cat", 8 "dog", 12 "" (empty), 13 "other", 19 "lathe" (no final '\n').
  std::vector<InputFile> files = {{"f.txt", "the cat\ndog\n\nother\nlathe"}};
  std::string expected =
      "f.txt:000000000000 the cat\n"
      "f.txt:000000000013 other\n"
      "f.txt:000000000019 lathe\n";
  for (int pieces : {1, 2, 5}) {
    Job job = make_job(files, pieces, 1);
    if (pieces > 1) {
      EXPECT_GT(job.map_tasks(), 1);
    }
    EXPECT_EQ(concat(run("grep", files, pieces, 1, false, "the")), expected) << pieces;
  }
  // The offset is the split's offset plus the line's position in the split.
  auto app = make_app(config_for("grep", "x"));
  std::vector<KeyValue> pairs;
  app->map("g", 1'000'000'007, "a\nx\n", pairs);
  EXPECT_EQ(pairs, (std::vector<KeyValue>{{"g:001000000009", "x"}}));
}

TEST(MapReduceApps, Grep_PlainSubstringNotRegex) {
  std::vector<InputFile> files = {{"f", "a.c\nabc\n"}};
  EXPECT_EQ(concat(run("grep", files, 1, 1, false, "a.c")), "f:000000000000 a.c\n");
}

TEST(MapReduceApps, Grep_PlantedPhraseMatchesOneLine) {
  // data/mapreduce/README.md: "miller kept a ledger" is planted once in mill.txt.
  std::vector<InputFile> files = {{"mill.txt", read_file(kData + "/texts/mill.txt")}};
  auto out = concat(run("grep", files, 4, 3, false, "miller kept a ledger"));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_NE(out.find("The miller kept a ledger of every sack."), std::string::npos) << out;
}

// --- sort --------------------------------------------------------------------------------

TEST(MapReduceApps, Sort_ExactOutputKeyIsFirstTenBytes) {
  // Records with equal 10-byte keys are ordered by the whole line; an empty line is no record.
  std::vector<InputFile> files = {{"r", "bbbbbbbbbb 2\naaaaaaaaaa z\n\nbbbbbbbbbb 1\nab\n"}};
  EXPECT_EQ(concat(run("sort", files, 1, 1)), "aaaaaaaaaa z\nab\nbbbbbbbbbb 1\nbbbbbbbbbb 2\n");
  auto app = make_app(config_for("sort"));
  std::vector<KeyValue> pairs;
  app->map("r", 0, "0123456789abc\nxy\n", pairs);
  EXPECT_EQ(pairs, (std::vector<KeyValue>{{"0123456789", "0123456789abc"}, {"xy", "xy"}}));
}

TEST(MapReduceApps, SortPartition_RangeOverPrintableAsciiIsMonotone) {
  // §5.3: the partitioner knows the key distribution; ours splits ' '..'~' evenly.
  auto app = make_app(config_for("sort"));
  for (int reduce_tasks : {1, 2, 3, 8, 95, 1000}) {
    EXPECT_EQ(app->partition("", reduce_tasks), 0);
    EXPECT_EQ(app->partition("  ", reduce_tasks), 0);
    EXPECT_EQ(app->partition("~~~~~~~~~~", reduce_tasks), reduce_tasks - 1);
    EXPECT_EQ(app->partition("\xff\xff", reduce_tasks), reduce_tasks - 1);  // clamped
    EXPECT_EQ(app->partition("\x01", reduce_tasks), 0);
  }
  // R = 2 splits the 95 * 95 two-byte prefixes at 4512.5: "OO" is prefix 47 * 95 + 47 = 4512.
  EXPECT_EQ(app->partition("OO~~~~~~~~", 2), 0);
  EXPECT_EQ(app->partition("OP", 2), 1);
  // Monotone: sorted keys get non-decreasing partitions.
  Rng rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    std::string key;
    for (int b = 0, n = static_cast<int>(rng.below(4)); b < n; ++b)
      key.push_back(static_cast<char>(rng.below(256)));
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  for (int reduce_tasks : {3, 10}) {
    for (std::size_t i = 1; i < keys.size(); ++i)
      EXPECT_LE(app->partition(keys[i - 1], reduce_tasks), app->partition(keys[i], reduce_tasks));
  }
}

TEST(MapReduceApps, Sort_ConcatenatedOutputsAreTheSortedRecords) {
  std::vector<InputFile> files = {{"teragen-0.txt", read_file(kData + "/records/teragen-0.txt")},
                                  {"teragen-1.txt", read_file(kData + "/records/teragen-1.txt")}};
  std::vector<std::string> lines;
  for (const auto& f : files) {
    std::istringstream in(f.content);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
  }
  ASSERT_EQ(lines.size(), 10'000u);
  std::sort(lines.begin(), lines.end());
  std::string expected;
  for (const auto& l : lines) expected += l + "\n";

  auto outputs = run("sort", files, 3, 5);
  ASSERT_EQ(outputs.size(), 5u);
  EXPECT_EQ(concat(outputs), expected);
  // Uniform printable keys: the range partitioner balances the reducers (2,000 records each).
  for (const auto& out : outputs) {
    auto records = std::count(out.begin(), out.end(), '\n');
    EXPECT_GT(records, 1700);
    EXPECT_LT(records, 2300);
  }
}

// --- partitioning ------------------------------------------------------------------------

TEST(MapReduceApps, HashPartition_StableFnv1aAndInRange) {
  // §4.1 "hash(key) mod R" with FNV-1a 64: the same on every machine and standard library.
  auto app = make_app(config_for("wordcount"));
  EXPECT_EQ(stable_hash("hello"), 0xa430d84680aabd0bULL);
  EXPECT_EQ(app->partition("hello", 1000), 491);
  EXPECT_EQ(app->partition("hello", 7), 5);
  EXPECT_EQ(app->partition("hello", 1), 0);
  for (const auto& name : {"wordcount", "inverted-index", "grep"}) {
    auto a = make_app(config_for(name));
    for (int reduce_tasks : {1, 2, 5, 64}) {
      std::vector<int> used(static_cast<std::size_t>(reduce_tasks));
      for (int i = 0; i < 500; ++i) {
        std::string key = "key" + std::to_string(i);
        int r = a->partition(key, reduce_tasks);
        ASSERT_GE(r, 0);
        ASSERT_LT(r, reduce_tasks);
        EXPECT_EQ(r, static_cast<int>(stable_hash(key) % static_cast<std::uint64_t>(reduce_tasks)));
        used[static_cast<std::size_t>(r)] = 1;
      }
      if (reduce_tasks <= 5) {
        EXPECT_EQ(std::count(used.begin(), used.end(), 1), reduce_tasks);
      }
    }
  }
}

TEST(MapReduceApps, RunMap_PartitionsSortedByKeyThenValue) {
  auto app = make_app(config_for("inverted-index"));
  Job job = make_job({{"f", "delta alpha charlie bravo alpha echo\n"}}, 1, 3);
  auto partitions = run_map(*app, job, job.splits[0], false);
  ASSERT_EQ(partitions.size(), 3u);
  std::size_t total = 0;
  for (int r = 0; r < 3; ++r) {
    const auto& part = partitions[static_cast<std::size_t>(r)];
    total += part.size();
    EXPECT_TRUE(std::is_sorted(part.begin(), part.end(), [](const KeyValue& a, const KeyValue& b) {
      return std::tie(a.key, a.value) < std::tie(b.key, b.value);
    }));
    for (const auto& kv : part) EXPECT_EQ(app->partition(kv.key, 3), r) << kv.key;
  }
  EXPECT_EQ(total, 5u);  // distinct words of the split
}

// --- determinism -------------------------------------------------------------------------

TEST(MapReduceApps, RunSequential_SameBytesWhateverTheSplitCount) {
  std::vector<InputFile> texts = {{"harbour.txt", text_prefix("texts/harbour.txt", 50'000)},
                                  {"voyage.txt", text_prefix("texts/voyage.txt", 30'000)}};
  std::vector<InputFile> records = {
      {"teragen-0.txt", read_file(kData + "/records/teragen-0.txt").substr(0, 40'000)}};
  struct Case {
    const char* app;
    const std::vector<InputFile>* files;
    const char* pattern;
  };
  for (const Case& c : {Case{"wordcount", &texts, ""}, Case{"inverted-index", &texts, ""},
                        Case{"grep", &texts, "lighthouse"}, Case{"sort", &records, ""}}) {
    auto reference = run(c.app, *c.files, 1, 4, false, c.pattern);
    EXPECT_FALSE(concat(reference).empty()) << c.app;
    for (int pieces : {2, 5, 17}) {
      EXPECT_GE(make_job(*c.files, pieces, 4).map_tasks(), pieces) << c.app;
      EXPECT_EQ(run(c.app, *c.files, pieces, 4, false, c.pattern), reference)
          << c.app << " with " << pieces << " splits per file";
    }
  }
}

TEST(MapReduceApps, RunReduce_IndependentOfPartitionOrder) {
  // A reducer fetches map outputs in whatever order maps finish (§3.1 step 5); the output must
  // not depend on it. Partition 0 of every map of a 6-split job, in several orders.
  for (const auto& name : {"wordcount", "inverted-index", "grep", "sort"}) {
    auto app = make_app(config_for(name, "lighthouse"));
    std::vector<InputFile> files =
        std::string(name) == "sort"
            ? std::vector<InputFile>{{"r", read_file(kData + "/records/teragen-1.txt")
                                               .substr(0, 30'000)}}
            : std::vector<InputFile>{{"harbour.txt", text_prefix("texts/harbour.txt", 30'000)}};
    Job job = make_job(files, 6, 2);
    std::vector<KvList> parts;
    for (const auto& split : job.splits)
      parts.push_back(std::make_shared<const std::vector<KeyValue>>(
          std::move(run_map(*app, job, split, app->has_combiner())[0])));
    const std::string reference = run_reduce(*app, parts);
    EXPECT_FALSE(reference.empty()) << name;
    Rng rng(11);
    for (int trial = 0; trial < 5; ++trial) {
      auto shuffled = parts;
      for (std::size_t i = shuffled.size(); i > 1; --i)
        std::swap(shuffled[i - 1], shuffled[rng.below(i)]);
      shuffled.push_back(nullptr);  // modelled-mode null lists are skipped
      EXPECT_EQ(run_reduce(*app, shuffled), reference) << name;
    }
    std::reverse(parts.begin(), parts.end());
    EXPECT_EQ(run_reduce(*app, parts), reference) << name;
  }
  auto app = make_app(config_for("wordcount"));
  EXPECT_EQ(run_reduce(*app, {}), "");
}

TEST(MapReduceApps, PairsBytes_KeyPlusValuePlusTwo) {
  EXPECT_EQ(pairs_bytes({}), 0u);
  EXPECT_EQ(pairs_bytes({{"", ""}}), 2u);
  EXPECT_EQ(pairs_bytes({{"hello", "1"}, {"ab", "file.txt"}}), (5u + 1 + 2) + (2u + 8 + 2));
}

}  // namespace
}  // namespace faultline::mapreduce
