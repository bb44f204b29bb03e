// reports/history_io: the JSONL and EDN history readers, from_entries, and their errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "reports/history_io.hpp"

namespace faultline::lin {
namespace {

using nlohmann::json;

const std::string kHistories = std::string(FAULTLINE_SOURCE_DIR) + "/tests/data/histories";

History edn(const std::string& text, Model model = Model::CasRegister) {
  std::istringstream in(text);
  return read_edn(in, model);
}

History jsonl(const std::string& text, Model model = Model::Kv) {
  std::istringstream in(text);
  return read_jsonl(in, model);
}

/// The error a text gives, as "line:col: message (suggestion)".
std::string error_of(const std::string& text, Model model) {
  try {
    read_history_text(text, model);
  } catch (const HistoryError& e) {
    return fmt::format("{}:{}: {}", e.line(), e.column(), e.what());
  }
  return "no error";
}

TEST(HistoryIoEdn, PairsInvocationsWithCompletions) {
  const History h = edn(R"([{:process 0, :type :invoke, :f :write, :value 1}
 {:process :nemesis, :type :info, :f :start, :value "cut [:n1]"}
 {:process 0, :type :ok, :f :write, :value 1}
 ; a comment line
 {:process 1, :type :invoke, :f :cas, :value [1 2]}
 {:process 2, :type :invoke, :f :write, :value 3}
 {:process 1, :type :fail, :f :cas, :value [1 2]}
 {:process 2, :type :info, :f :write, :value 3}
 {:process 3, :type :invoke, :f :read, :value nil}
 {:process 3, :type :ok, :f :read, :value 3}
 {:process 4, :type :invoke, :f :cas, :value [3 4]}
 {:process 4, :type :ok, :f :cas, :value [3 4]}
 {:process 5, :type :invoke, :f :read, :value nil}])");
  ASSERT_EQ(h.ops.size(), 5u);  // the failed cas is gone, the nemesis ignored
  const Op& w = h.ops[0];
  EXPECT_EQ(w.process, 0);
  EXPECT_EQ(w.f, "write");
  EXPECT_EQ(w.value, json(1));
  EXPECT_EQ(w.status, Op::Status::Ok);
  EXPECT_EQ(w.invoke_index, 0u);
  EXPECT_EQ(w.complete_index, 2u);  // the nemesis op counts in the indexes (Jepsen's :index)
  EXPECT_EQ(w.invoke_line, 1u);
  EXPECT_FALSE(w.key.has_value());

  const Op& info = h.ops[1];
  EXPECT_EQ(info.process, 2);
  EXPECT_EQ(info.status, Op::Status::Info);
  EXPECT_EQ(info.invoke_index, 4u);
  EXPECT_EQ(info.complete_index, 4u);
  EXPECT_EQ(info.invoke_line, 6u);

  const Op& read = h.ops[2];
  EXPECT_EQ(read.status, Op::Status::Ok);
  EXPECT_EQ(read.output, json(3));
  EXPECT_TRUE(read.output_known);
  EXPECT_EQ(read.invoke_index, 7u);
  EXPECT_EQ(read.complete_index, 8u);

  const Op& cas = h.ops[3];
  EXPECT_EQ(cas.value, json::array({3, 4}));
  EXPECT_EQ(cas.cas_result, std::optional<bool>(true));  // Jepsen: an ok cas succeeded

  const Op& pending = h.ops[4];
  EXPECT_EQ(pending.process, 5);
  EXPECT_EQ(pending.status, Op::Status::Info);
  EXPECT_EQ(pending.complete_index, pending.invoke_index);
}

TEST(HistoryIoEdn, NilReadIsUnknown) {
  const History h = edn(R"((
  {:type :invoke, :f :read, :value nil, :process 1}
  {:type :ok, :f :read, :value nil, :process 1}
  {:type :invoke, :f :read, :value nil, :process 2}
  {:type :ok, :f :read, :process 2}))");
  ASSERT_EQ(h.ops.size(), 2u);
  for (const Op& op : h.ops) {
    EXPECT_EQ(op.status, Op::Status::Ok);
    EXPECT_FALSE(op.output_known);
    EXPECT_TRUE(op.output.is_null());
  }
}

TEST(HistoryIoEdn, OneMapPerLineWithTimesTagsAndUnknownKeys) {
  const History h = edn(R"(; newer Jepsen
{:index 0, :time 1500000000, :type :invoke, :process 0, :f :write, :value "a", :extra {:x #{1 2}}}
#jepsen.history.Op{:index 1, :time 2500000000, :type :ok, :process 0, :f :write, :value "a"}
#_{:process 9, :type :ok, :f :read, :value 1}
{:time 3000000000 :type :invoke :process 1 :f :read :value nil :error [:timeout "x"]})");
  ASSERT_EQ(h.ops.size(), 2u);
  EXPECT_DOUBLE_EQ(h.ops[0].invoke_time, 1.5);
  EXPECT_DOUBLE_EQ(h.ops[0].complete_time, 2.5);
  EXPECT_EQ(h.ops[0].value, json("a"));
  EXPECT_EQ(h.ops[0].invoke_line, 2u);
  EXPECT_EQ(h.ops[1].invoke_index, 2u);  // the discarded form is not an op
  EXPECT_EQ(h.ops[1].invoke_line, 5u);
  EXPECT_DOUBLE_EQ(h.ops[1].invoke_time, 3.0);
}

TEST(HistoryIoEdn, ValuesBecomeJson) {
  const History h = edn(R"([{:process 0, :type :invoke, :f :write,
  :value {:kw :a/b, :str "q\"\n\u00e9", :int -12, :big 123456789012345678901234N, :float 1.5e3, :dec 2.5M,
          :ratio 1/4, :nil nil, :t true, :f false, :vec [1 (2 3) #{4}], :char \x, :sym foo, "s" 1, 7 8}}])");
  ASSERT_EQ(h.ops.size(), 1u);
  const json& v = h.ops[0].value;
  EXPECT_EQ(v["kw"], "a/b");
  EXPECT_EQ(v["str"], "q\"\n\xc3\xa9");
  EXPECT_EQ(v["int"], -12);
  EXPECT_TRUE(v["big"].is_number_float());
  EXPECT_EQ(v["float"], 1500.0);
  EXPECT_EQ(v["dec"], 2.5);
  EXPECT_EQ(v["ratio"], 0.25);
  EXPECT_TRUE(v["nil"].is_null());
  EXPECT_EQ(v["t"], true);
  EXPECT_EQ(v["f"], false);
  EXPECT_EQ(v["vec"], json::parse("[1, [2, 3], [4]]"));
  EXPECT_EQ(v["char"], "x");
  EXPECT_EQ(v["sym"], "foo");
  EXPECT_EQ(v["s"], 1);
  EXPECT_EQ(v["7"], 8);
}

TEST(HistoryIoEdn, MultiRegisterTxn) {
  const History h = edn(R"([{:type :invoke, :f :txn, :value [[:read :x nil] [:write :y 2]], :process 3}
{:type :ok, :f :txn, :value [[:read :x 0] [:write :y 2]], :process 3}])",
                        Model::MultiRegister);
  ASSERT_EQ(h.ops.size(), 1u);
  EXPECT_EQ(h.ops[0].value, json::parse(R"([["read", "x", null], ["write", "y", 2]])"));
  EXPECT_EQ(h.ops[0].output, json::parse(R"([["read", "x", 0], ["write", "y", 2]])"));
  EXPECT_TRUE(h.ops[0].output_known);
}

TEST(HistoryIoJsonl, ReadsFaultlineHistories) {
  const History h = jsonl(
      "{\"process\": 3, \"type\": \"invoke\", \"f\": \"cas\", \"key\": \"x\", \"value\": [\"\", \"b\"], \"time\": 0.5}\r\n"
      "\n"
      "{\"process\": 4, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"x\", \"value\": null, \"time\": 0.6}\n"
      "{\"process\": 3, \"type\": \"ok\", \"f\": \"cas\", \"key\": \"x\", \"value\": [\"\", \"b\"], \"result\": false, "
      "\"time\": 0.7, \"node\": \"c1\"}\n"
      "{\"process\": 4, \"type\": \"ok\", \"f\": \"get\", \"key\": \"x\", \"value\": null, \"time\": 0.8}\n"
      "{\"process\": 5, \"type\": \"invoke\", \"f\": \"put\", \"key\": \"y\", \"value\": \"v\"}\n"
      "{\"process\": 5, \"type\": \"fail\", \"f\": \"put\", \"key\": \"y\", \"value\": \"v\"}\n");
  ASSERT_EQ(h.ops.size(), 2u);
  const Op& cas = h.ops[0];
  EXPECT_EQ(cas.key, std::optional<std::string>("x"));
  EXPECT_EQ(cas.cas_result, std::optional<bool>(false));
  EXPECT_EQ(cas.invoke_index, 0u);
  EXPECT_EQ(cas.complete_index, 2u);  // blank lines are not ops
  EXPECT_EQ(cas.invoke_line, 1u);
  EXPECT_DOUBLE_EQ(cas.invoke_time, 0.5);
  EXPECT_DOUBLE_EQ(cas.complete_time, 0.7);
  const Op& get = h.ops[1];
  EXPECT_EQ(get.invoke_line, 3u);
  EXPECT_EQ(get.status, Op::Status::Ok);
  EXPECT_TRUE(get.output_known);  // in JSONL null is a real value
  EXPECT_TRUE(get.output.is_null());
}

TEST(HistoryIoJsonl, CasWithoutResultMatched) {
  const History h = jsonl(R"({"process": 1, "type": "invoke", "f": "cas", "value": [0, 1]}
{"process": 1, "type": "ok", "f": "cas", "value": [0, 1]})",
                          Model::CasRegister);
  ASSERT_EQ(h.ops.size(), 1u);
  EXPECT_FALSE(h.ops[0].cas_result.has_value());
}

TEST(HistoryIoFormat, Detection) {
  EXPECT_EQ(detect_format("{\"process\": 1}"), HistoryFormat::Jsonl);
  EXPECT_EQ(detect_format("  \n{ \"type\": 1}"), HistoryFormat::Jsonl);
  EXPECT_EQ(detect_format(""), HistoryFormat::Jsonl);
  EXPECT_EQ(detect_format("{:process 1}"), HistoryFormat::Edn);
  EXPECT_EQ(detect_format("[{:process 1}]"), HistoryFormat::Edn);
  EXPECT_EQ(detect_format("; comment\n[]"), HistoryFormat::Edn);
  EXPECT_EQ(detect_format("({:process 1})"), HistoryFormat::Edn);
  EXPECT_THROW(detect_format("hello"), HistoryError);
}

TEST(HistoryIoFormat, EmptyHistoriesAreEmpty) {
  EXPECT_TRUE(read_history_text("", Model::Kv).ops.empty());
  EXPECT_TRUE(read_history_text("\n\n", Model::Kv).ops.empty());
  EXPECT_TRUE(read_history_text("[]", Model::CasRegister).ops.empty());
  EXPECT_TRUE(read_history_text("[{:process :nemesis, :type :info, :f :kill}]", Model::CasRegister).ops.empty());
}

TEST(HistoryIoEntries, SameAsJsonl) {
  std::vector<HistoryEntry> entries;
  auto add = [&](std::int64_t process, OpType type, const std::string& f, json value, Time t,
                 std::optional<bool> result = std::nullopt) {
    HistoryEntry e;
    e.process = process;
    e.type = type;
    e.f = f;
    e.key = "k1";
    e.value = std::move(value);
    e.time = t;
    e.result = result;
    entries.push_back(e);
  };
  add(1, OpType::Invoke, "put", "a", milliseconds(1));
  add(2, OpType::Invoke, "cas", json::array({"a", "b"}), milliseconds(2));
  add(1, OpType::Ok, "put", "a", milliseconds(3));
  add(2, OpType::Ok, "cas", json::array({"a", "b"}), milliseconds(4), false);
  add(3, OpType::Invoke, "get", nullptr, milliseconds(5));
  add(3, OpType::Info, "get", nullptr, milliseconds(6));
  const History h = from_entries(entries, Model::Kv);

  std::string text;
  for (const auto& e : entries) text += to_json(e).dump() + "\n";
  const History j = jsonl(text);
  ASSERT_EQ(h.ops.size(), 3u);
  ASSERT_EQ(j.ops.size(), 3u);
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    EXPECT_EQ(h.ops[i].process, j.ops[i].process);
    EXPECT_EQ(h.ops[i].f, j.ops[i].f);
    EXPECT_EQ(h.ops[i].key, j.ops[i].key);
    EXPECT_EQ(h.ops[i].value, j.ops[i].value);
    EXPECT_EQ(h.ops[i].output, j.ops[i].output);
    EXPECT_EQ(h.ops[i].cas_result, j.ops[i].cas_result);
    EXPECT_EQ(h.ops[i].status, j.ops[i].status);
    EXPECT_EQ(h.ops[i].invoke_index, j.ops[i].invoke_index);
    EXPECT_EQ(h.ops[i].complete_index, j.ops[i].complete_index);
    EXPECT_EQ(h.ops[i].invoke_line, j.ops[i].invoke_line);
    EXPECT_DOUBLE_EQ(h.ops[i].invoke_time, j.ops[i].invoke_time);
  }
  EXPECT_EQ(h.ops[1].cas_result, std::optional<bool>(false));
  EXPECT_DOUBLE_EQ(h.ops[0].complete_time, 0.003);

  entries.push_back(entries[0]);
  entries.back().type = OpType::Ok;
  try {
    from_entries(entries, Model::Kv);
    FAIL() << "expected an error";
  } catch (const HistoryError& e) {
    EXPECT_EQ(e.line(), 7u);  // the history.jsonl line the entry would be on
    EXPECT_NE(std::string(e.what()).find("no pending invocation"), std::string::npos);
  }
}

TEST(HistoryIoErrors, FormatNamesFileLineColumn) {
  const HistoryError e("unknown 'f' 'raed'", 3, 7, "did you mean 'read'?");
  EXPECT_EQ(e.format("h.jsonl"), "h.jsonl:3:7: error: unknown 'f' 'raed' (did you mean 'read'?)");
  EXPECT_EQ(HistoryError("x", 1, 1).format("p"), "p:1:1: error: x");
}

TEST(HistoryIoErrors, Syntax) {
  const auto cas = Model::CasRegister;
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :read, :value nil}\n {:process 1, :ty", cas),
            "2:18: unexpected end of file: the '{' at line 2, column 2 is never closed (the file may be truncated)");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :cas, :value [1 2}]", cas),
            "1:50: unexpected '}': expected ']' to close the '[' at line 1, column 46");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :read}]]", cas), "1:40: unmatched ']'");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :write, :value \"abc}]", cas),
            "1:48: unterminated string (it starts here) (the file may be truncated)");
  EXPECT_EQ(error_of("[{:process 1, :type}]", cas), "1:15: key :type has no value");
  EXPECT_EQ(error_of("[1 2]", cas), "1:2: expected an op map {...}, found '1'");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :write, :value 12x}]", cas), "1:48: invalid number '12x'");
  EXPECT_EQ(error_of("[{:process 1 :process 2}]", cas), "1:14: duplicate key :process");
  EXPECT_EQ(error_of("{\"process\": 1, \"type\": \"invoke\" \"f\": \"get\"}", Model::Kv).substr(0, 20),
            "1:33: invalid JSON: ");
  EXPECT_EQ(error_of("{\"process\": 1}\n[1]", Model::Kv).substr(0, 40), "1:1: missing key 'type'");
  EXPECT_EQ(error_of("{\"process\": 1, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"k\"}\n[1]", Model::Kv),
            "2:1: expected a JSON object (one op per line), not [1]");
  EXPECT_EQ(error_of("[{:process 1 :type :invoke :f :write :value \"\xff\"}]", cas), "1:46: invalid UTF-8");
  EXPECT_EQ(error_of(std::string(5000, '['), cas).substr(0, 42), "1:201: EDN nested more than 200 levels dee");
  EXPECT_EQ(error_of("{\"process\": " + std::string(5000, '['), Model::Kv).substr(0, 43),
            "1:212: JSON nested more than 200 levels dee");
}

TEST(HistoryIoErrors, Semantics) {
  const auto cas = Model::CasRegister;
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :write, :value 1}\n{:process 2, :type :ok, :f :write, :value 1}]", cas),
            "2:1: 'ok' completion of process 2 has no pending invocation (every completion follows an invoke of the "
            "same process)");
  EXPECT_EQ(error_of("{:process 1, :type :invoke, :f :write, :value 1}\n{:process 1, :type :invoke, :f :read}", cas),
            "2:1: process 1 invokes 'read' while its 'write' (line 1) is still open (a process has at most one "
            "operation open; after an info, a client continues under a new process id)");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :raed}]", cas),
            "1:33: unknown :f 'raed' for the cas-register model (did you mean 'read'? valid: read, write, cas)");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :cas, :value 1}]", Model::Register),
            "1:33: unknown :f 'cas' for the register model (valid: read, write)");
  EXPECT_EQ(error_of("[{:process 1, :type :invok, :f :read}]", cas),
            "1:21: unknown :type 'invok' (did you mean 'invoke'? valid: invoke, ok, fail, info)");
  EXPECT_EQ(error_of("[{:process \"p\", :type :invoke, :f :read}]", cas),
            "1:12: :process must be an integer or a keyword, not \"p\"");
  EXPECT_EQ(error_of("[{:type :invoke, :f :read}]", cas), "1:2: missing key :process");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :cas, :value [1]}]", cas),
            "1:46: a cas value must be [expected, new], not [1]");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :write, :value 1, :time \"t\"}]", cas),
            "1:57: :time must be a number, not \"t\"");
  EXPECT_EQ(error_of("{:process 1, :type :invoke, :f :write}\n{:process 1, :type :ok, :f :read}", cas),
            "2:28: this completion's :f 'read' does not match its invocation's 'write' (line 1)");
  const auto kv = Model::Kv;
  EXPECT_EQ(error_of(R"({"process": 1, "type": "invoke", "f": "get"})", kv),
            "1:1: missing key 'key' (the kv model needs one on every op)");
  EXPECT_EQ(error_of(R"({"process": 1, "type": "invoke", "f": "put", "key": "k", "value": 3})", kv),
            "1:67: a kv put value must be a string, not 3");
  EXPECT_EQ(error_of("{\"process\": 1, \"type\": \"invoke\", \"f\": \"get\", \"key\": \"k\"}\n"
                     "{\"process\": 1, \"type\": \"ok\", \"f\": \"get\", \"key\": \"k\"}",
                     kv)
                .substr(0, 52),
            "2:1: missing key 'value': an ok get says what it rea");
  EXPECT_EQ(error_of("{\"process\": 1, \"type\": \"invoke\", \"f\": \"cas\", \"key\": \"k\", \"value\": [\"\", \"a\"]}\n"
                     "{\"process\": 1, \"type\": \"ok\", \"f\": \"cas\", \"key\": \"k\", \"result\": \"no\"}",
                     kv),
            "2:64: 'result' must be true or false, not \"no\"");
  EXPECT_EQ(error_of(R"({"process": 1.5, "type": "invoke", "f": "get", "key": "k"})", kv),
            "1:13: 'process' must be an integer, not 1.5");
  const auto multi = Model::MultiRegister;
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :txn, :value [[:raed :x nil]]}]", multi),
            "1:46: unknown txn micro-op 'raed' (did you mean 'read'? valid: read, write)");
  EXPECT_EQ(error_of("[{:process 1, :type :invoke, :f :txn, :value [[:read :x nil]]}\n"
                     " {:process 1, :type :ok, :f :txn, :value [[:write :x 1]]}]",
                     multi),
            "2:42: the completed txn [[\"write\",\"x\",1]] does not have the micro-ops of its invocation "
            "[[\"read\",\"x\",null]] (line 1)");
}

TEST(HistoryIoFiles, ReadsFixturesAndReportsUnreadableFiles) {
  EXPECT_EQ(read_history_file(kHistories + "/kv.jsonl", Model::Kv).ops.size(), 6u);
  EXPECT_EQ(read_history_file(kHistories + "/register-one-per-line.edn", Model::CasRegister).ops.size(), 4u);
  EXPECT_TRUE(read_history_file(kHistories + "/empty.jsonl", Model::Register).ops.empty());
  try {
    read_history_file(kHistories + "/no-such-file.jsonl", Model::Kv);
    FAIL() << "expected an error";
  } catch (const HistoryError& e) {
    EXPECT_EQ(e.format("x"), "x:1:1: error: cannot read file: No such file or directory");
  }
  EXPECT_THROW(read_history_file(kHistories, Model::Kv), HistoryError);
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Random truncations and byte mutations of real histories: a HistoryError or a history whose
// ops are consistent, never anything else.
TEST(HistoryIoFuzz, MutationsNeverCrash) {
  std::vector<std::string> texts;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(kHistories))
    if (entry.is_regular_file() && entry.path().extension() != ".json") texts.push_back(slurp(entry.path()));
  const std::filesystem::path knossos = std::string(FAULTLINE_SOURCE_DIR) + "/../shared/data/knossos";
  for (const char* name : {"cas-register/bad/rethink-fail-minimal.edn", "cas-register/bad/bad-analysis.edn",
                           "cas-register/good/cas-register-bug.edn"})
    if (std::filesystem::exists(knossos / name)) texts.push_back(slurp(knossos / name));
  ASSERT_GT(texts.size(), 10u);
  const std::string alphabet = "{}[]()\":;#_\\ \n,0123456789-.eE+:nilrtuefaxNM/^\xC3\xA9\xFF";
  std::mt19937_64 rng(20240601);
  std::size_t parsed = 0, errors = 0;
  for (int iteration = 0; iteration < 20000; ++iteration) {
    std::string t = texts[rng() % texts.size()];
    const int kind = static_cast<int>(rng() % 3);
    if (kind != 0) {
      const int n = 1 + static_cast<int>(rng() % 6);
      for (int k = 0; k < n && !t.empty(); ++k) {
        const std::size_t p = rng() % t.size();
        switch (rng() % 3) {
          case 0: t[p] = alphabet[rng() % alphabet.size()]; break;
          case 1: t.erase(p, 1 + rng() % 4); break;
          default: t.insert(p, 1, alphabet[rng() % alphabet.size()]); break;
        }
      }
    }
    if (kind != 1) t = t.substr(0, rng() % (t.size() + 1));
    for (const Model model : {Model::Register, Model::CasRegister, Model::Kv, Model::MultiRegister}) {
      try {
        const History h = read_history_text(t, model);
        ++parsed;
        for (const Op& op : h.ops) {
          ASSERT_LE(op.invoke_index, op.complete_index);
          ASSERT_GE(op.invoke_line, 1u);
          (void)op.value.dump();  // valid UTF-8, not too deep
          (void)op.output.dump();
        }
      } catch (const HistoryError& e) {
        ++errors;
        ASSERT_GE(e.line(), 1u);
        ASSERT_GE(e.column(), 1u);
      }
    }
  }
  EXPECT_GT(parsed, 0u);
  EXPECT_GT(errors, 0u);
}

}  // namespace
}  // namespace faultline::lin
