// reports/linearizability: the Wing & Gong / Lowe checker (issue 3). Histories are built directly
// in C++: an op's `invoke_index`/`complete_index` are positions in an imaginary history file.
//
// `fail` operations never reach the checker (they certainly did not happen): the History a reader
// hands over simply does not contain them; the builder below drops them the same way, keeping
// the file positions of everything else.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "reports/linearizability.hpp"

#if __has_include("reports/history_io.hpp")
#include "reports/history_io.hpp"
#define FAULTLINE_LIN_HAVE_READER 1
#endif

namespace faultline::lin {
namespace {

using json = nlohmann::json;

/// Builds a History line by line, like a history file: invoke, then ok/info/fail later.
class Builder {
 public:
  std::size_t invoke(std::int64_t process, const std::string& f, json value = nullptr,
                     std::optional<std::string> key = std::nullopt) {
    Op op;
    op.process = process;
    op.f = f;
    op.key = std::move(key);
    op.value = std::move(value);
    op.status = Op::Status::Info;
    op.output = nullptr;
    op.invoke_index = pos_;
    op.complete_index = pos_;
    op.invoke_line = pos_ + 1;
    op.invoke_time = 0.001 * static_cast<double>(pos_ + 1);
    ++pos_;
    ops_.push_back(op);
    failed_.push_back(false);
    return ops_.size() - 1;
  }
  void ok(std::size_t id, json output = nullptr, std::optional<bool> cas_result = std::nullopt) {
    Op& op = ops_.at(id);
    op.status = Op::Status::Ok;
    op.output = std::move(output);
    op.cas_result = cas_result;
    op.complete_index = pos_;
    op.complete_time = 0.001 * static_cast<double>(pos_ + 1);
    ++pos_;
  }
  /// Completed ok, value unknown (Knossos' nil read).
  void ok_unknown(std::size_t id) {
    ok(id);
    ops_.at(id).output_known = false;
  }
  void info(std::size_t) { ++pos_; }  // an `info` line: the op stays Info
  void fail(std::size_t id) {
    failed_.at(id) = true;
    ++pos_;
  }
  // Sequential shorthands.
  std::size_t write(std::int64_t p, json v) {
    const auto id = invoke(p, "write", v);
    ok(id, v);
    return id;
  }
  std::size_t read(std::int64_t p, json v) {
    const auto id = invoke(p, "read");
    ok(id, std::move(v));
    return id;
  }
  /// The history (failed ops dropped); `index[id]` is the op's index in it.
  History build() {
    History h;
    index.assign(ops_.size(), SIZE_MAX);
    for (std::size_t i = 0; i < ops_.size(); ++i) {
      if (failed_[i]) continue;
      index[i] = h.ops.size();
      h.ops.push_back(ops_[i]);
    }
    return h;
  }
  std::vector<std::size_t> index;

 private:
  std::size_t pos_ = 0;
  std::vector<Op> ops_;
  std::vector<bool> failed_;
};

Options opts(Model model, json initial = nullptr) {
  Options o;
  o.model = model;
  o.initial = std::move(initial);
  return o;
}

Verdict verdict(const History& h, const Options& o) { return check(h, o).verdict; }

// --------------------------------------------------------------------------------------------
// Names

TEST(LinModel, NamesRoundTrip) {
  for (Model m : {Model::Register, Model::CasRegister, Model::Kv, Model::MultiRegister})
    EXPECT_EQ(model_from_string(to_string(m)), m);
  EXPECT_FALSE(model_from_string("registers").has_value());
  EXPECT_EQ(model_functions(Model::Register), (std::vector<std::string>{"read", "write"}));
  EXPECT_EQ(model_functions(Model::CasRegister),
            (std::vector<std::string>{"read", "write", "cas"}));
  EXPECT_EQ(model_functions(Model::Kv), (std::vector<std::string>{"get", "put", "append", "cas"}));
  EXPECT_EQ(model_functions(Model::MultiRegister), (std::vector<std::string>{"txn"}));
  EXPECT_STREQ(to_string(Verdict::Linearizable), "linearizable");
  EXPECT_STREQ(to_string(Verdict::NotLinearizable), "not linearizable");
  EXPECT_STREQ(to_string(Verdict::Unknown), "unknown");
}

TEST(LinModel, UnknownFunctionIsReportedNotThrown) {
  Builder b;
  const auto x = b.invoke(1, "increment", 1);
  b.ok(x);
  const Result r = check(b.build(), opts(Model::Register, 0));
  EXPECT_EQ(r.verdict, Verdict::Unknown);
  EXPECT_NE(r.reason.find("'increment' is not an operation of the register model"),
            std::string::npos)
      << r.reason;
}

TEST(LinModel, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(verdict(History{}, opts(Model::Register, 0)), Verdict::Linearizable);
  const Result r = check(History{}, opts(Model::Kv));
  EXPECT_EQ(r.verdict, Verdict::Linearizable);
  EXPECT_EQ(r.partitions, 0u);
}

// --------------------------------------------------------------------------------------------
// Register rules

TEST(LinRegister, SequentialOkHistory) {
  Builder b;
  b.read(1, 0);
  b.write(1, 1);
  b.read(2, 1);
  b.write(2, 2);
  b.read(1, 2);
  const Result r = check(b.build(), opts(Model::Register, 0));
  EXPECT_EQ(r.verdict, Verdict::Linearizable);
  EXPECT_EQ(r.partitions, 1u);
  EXPECT_GE(r.states_explored, 5u);
  EXPECT_FALSE(r.explanation.has_value());
}

TEST(LinRegister, StaleReadAfterCompletedWriteIsNotLinearizable) {
  Builder b;
  b.write(1, 1);
  b.write(1, 2);
  const auto stale = b.read(2, 1);
  const History h = b.build();
  const Result r = check(h, opts(Model::Register, 0));
  ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
  ASSERT_TRUE(r.explanation.has_value());
  EXPECT_EQ(r.explanation->op, b.index[stale]);
  EXPECT_EQ(r.explanation->states, (std::vector<json>{2}));
  EXPECT_EQ(r.explanation->prefix, (std::vector<std::size_t>{0, 1}));
  EXPECT_FALSE(r.explanation->key.has_value());
}

TEST(LinRegister, ConcurrentWriteAndReadMaySeeEitherValue) {
  for (int seen : {0, 1}) {
    Builder b;
    const auto w = b.invoke(1, "write", 1);
    const auto rd = b.invoke(2, "read");
    b.ok(rd, seen);
    b.ok(w, 1);
    EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::Linearizable) << seen;
  }
  Builder b;
  const auto w = b.invoke(1, "write", 1);
  const auto rd = b.invoke(2, "read");
  b.ok(rd, 7);
  b.ok(w, 1);
  EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::NotLinearizable);
}

TEST(LinRegister, InfoWriteMayTakeEffectMuchLater) {
  Builder b;
  const auto w = b.invoke(1, "write", 5);
  b.info(w);  // timed out: outcome unknown
  for (int i = 0; i < 5; ++i) b.read(2, 0);
  b.write(3, 1);
  b.read(2, 1);
  b.read(4, 5);  // the timed-out write lands now
  b.read(2, 5);
  EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::Linearizable);
}

TEST(LinRegister, InfoWriteMayNeverTakeEffect) {
  Builder b;
  const auto w = b.invoke(1, "write", 5);
  b.info(w);
  b.read(2, 0);
  b.write(3, 1);
  b.read(2, 1);
  EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::Linearizable);
  // An invocation that never completed counts the same.
  Builder c;
  c.invoke(1, "write", 5);
  c.read(2, 0);
  c.read(2, 5);
  c.read(2, 5);
  EXPECT_EQ(verdict(c.build(), opts(Model::Register, 0)), Verdict::Linearizable);
}

TEST(LinRegister, InfoWriteCannotTakeEffectBeforeItsInvocation) {
  Builder b;
  b.read(2, 5);
  const auto w = b.invoke(1, "write", 5);
  b.info(w);
  EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::NotLinearizable);
}

TEST(LinRegister, InfoWriteTakesEffectOnceOnly) {
  // 5 is observed, then overwritten by 1; 5 cannot come back.
  Builder b;
  const auto w = b.invoke(1, "write", 5);
  b.info(w);
  b.read(2, 5);
  b.write(3, 1);
  b.read(2, 5);
  EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::NotLinearizable);
}

TEST(LinRegister, FailedOpsAreAbsentFromTheHistory) {
  // Knossos' immediate-failure.edn: a failed write of 3 cannot explain a read of 3.
  Builder b;
  const auto rd = b.invoke(1, "read");
  const auto w = b.invoke(101, "write", 3);
  b.fail(w);
  b.ok(rd, 3);
  const History h = b.build();
  ASSERT_EQ(h.ops.size(), 1u);
  const Result r = check(h, opts(Model::CasRegister, 0));
  ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(r.explanation->op, 0u);
  EXPECT_EQ(h.ops[r.explanation->op].complete_index, 3u);  // Knossos: index 3
  EXPECT_EQ(r.explanation->states, (std::vector<json>{0}));
  EXPECT_TRUE(r.explanation->prefix.empty());
}

TEST(LinRegister, ConcurrentReads) {
  {  // Reads overlapping a write: any mix of old and new values, as long as order allows.
    Builder b;
    const auto w = b.invoke(1, "write", 1);
    const auto r1 = b.invoke(2, "read");
    const auto r2 = b.invoke(3, "read");
    const auto r3 = b.invoke(4, "read");
    b.ok(r1, 1);
    b.ok(r2, 0);
    b.ok(r3, 1);
    b.ok(w, 1);
    EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::Linearizable);
  }
  {  // A read that saw the new value completed before another read began: the second can't see
     // the old value any more.
    Builder b;
    const auto w = b.invoke(1, "write", 1);
    b.read(2, 1);
    b.read(3, 0);
    b.ok(w, 1);
    EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::NotLinearizable);
  }
  {  // Reads of an unknown value (nil in Knossos) constrain nothing.
    Builder b;
    const auto rd = b.invoke(2, "read");
    b.ok_unknown(rd);
    b.write(1, 3);
    const auto rd2 = b.invoke(2, "read");
    b.ok_unknown(rd2);
    EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::Linearizable);
  }
}

TEST(LinRegister, InitialNullVersusValue) {
  Builder b;
  b.read(1, nullptr);
  const History h = b.build();
  EXPECT_EQ(verdict(h, opts(Model::Register)), Verdict::Linearizable);  // initial null
  EXPECT_EQ(verdict(h, opts(Model::Register, 0)), Verdict::NotLinearizable);
  Builder c;
  c.read(1, 0);
  EXPECT_EQ(verdict(c.build(), opts(Model::Register)), Verdict::NotLinearizable);
  // null is a real value: it can be written and read back.
  Builder d;
  d.write(1, nullptr);
  d.read(2, nullptr);
  EXPECT_EQ(verdict(d.build(), opts(Model::Register, 7)), Verdict::Linearizable);
}

TEST(LinRegister, IntegersEqualIntegralFloats) {
  Builder b;
  b.write(1, 1.0);
  b.read(2, 1);
  b.write(1, json::array({2, "a"}));
  b.read(2, json::array({2.0, "a"}));
  EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0.0)), Verdict::Linearizable);
  Builder c;
  c.read(1, 0);
  EXPECT_EQ(verdict(c.build(), opts(Model::Register, 0.0)), Verdict::Linearizable);
  Builder d;
  d.write(1, 1.5);
  d.read(1, 1);
  EXPECT_EQ(verdict(d.build(), opts(Model::Register, 0)), Verdict::NotLinearizable);
}

// --------------------------------------------------------------------------------------------
// CAS

TEST(LinCasRegister, CasOkWithResultFalseHappenedAndChangedNothing) {
  {  // state 0; cas [1, 2] reported no match: legal, and the register stays 0.
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({1, 2}));
    b.ok(c, nullptr, false);
    b.read(2, 0);
    EXPECT_EQ(verdict(b.build(), opts(Model::CasRegister, 0)), Verdict::Linearizable);
  }
  {  // ... so a later read of 2 is a violation.
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({1, 2}));
    b.ok(c, nullptr, false);
    b.read(2, 2);
    EXPECT_EQ(verdict(b.build(), opts(Model::CasRegister, 0)), Verdict::NotLinearizable);
  }
  {  // state 0; cas [0, 2] reported no match: impossible, the compare would have matched.
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({0, 2}));
    b.ok(c, nullptr, false);
    const Result r = check(b.build(), opts(Model::CasRegister, 0));
    ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
    EXPECT_NE(r.explanation->text.find("compare would have matched"), std::string::npos)
        << r.explanation->text;
  }
  {  // ... unless a concurrent write made the register differ first.
    Builder b;
    const auto w = b.invoke(2, "write", 5);
    const auto c = b.invoke(1, "cas", json::array({0, 2}));
    b.ok(c, nullptr, false);
    b.ok(w, 5);
    EXPECT_EQ(verdict(b.build(), opts(Model::CasRegister, 0)), Verdict::Linearizable);
  }
}

TEST(LinCasRegister, CasOkRequiresMatch) {
  {
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({1, 2}));
    b.ok(c, nullptr, true);
    const Result r = check(b.build(), opts(Model::CasRegister, 0));
    ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
    EXPECT_NE(r.explanation->text.find("expected value 1"), std::string::npos)
        << r.explanation->text;
  }
  {  // absent result means matched
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({0, 2}));
    b.ok(c);
    b.read(2, 2);
    EXPECT_EQ(verdict(b.build(), opts(Model::CasRegister, 0)), Verdict::Linearizable);
  }
  {  // an info cas may take effect or not
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({0, 2}));
    b.info(c);
    b.read(2, 0);
    b.read(2, 2);
    EXPECT_EQ(verdict(b.build(), opts(Model::CasRegister, 0)), Verdict::Linearizable);
  }
  {  // a cas is not a register op
    Builder b;
    const auto c = b.invoke(1, "cas", json::array({0, 2}));
    b.ok(c);
    EXPECT_EQ(verdict(b.build(), opts(Model::Register, 0)), Verdict::Unknown);
  }
}

// --------------------------------------------------------------------------------------------
// kv and multi-register

TEST(LinKv, KeysArePartitionedAndTheVerdictNamesTheKey) {
  Builder b;
  auto put = [&](std::int64_t p, const std::string& k, const std::string& v) {
    const auto id = b.invoke(p, "put", v, k);
    b.ok(id);
  };
  auto get = [&](std::int64_t p, const std::string& k, const std::string& v) {
    const auto id = b.invoke(p, "get", nullptr, k);
    b.ok(id, v);
    return id;
  };
  put(1, "x", "1");
  get(2, "x", "1");
  put(1, "y", "a");
  get(2, "x", "1");
  put(1, "y", "b");
  const auto bad = get(3, "y", "a");
  get(2, "x", "1");
  const History h = b.build();
  const Result r = check(h, opts(Model::Kv));
  ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(r.explanation->key, std::optional<std::string>("y"));
  EXPECT_EQ(r.explanation->op, b.index[bad]);
  EXPECT_EQ(r.explanation->states, (std::vector<json>{"b"}));
  EXPECT_EQ(r.explanation->prefix, (std::vector<std::size_t>{2, 4}));
  EXPECT_EQ(r.partitions, 2u);
  EXPECT_EQ(r.explanation->text.rfind("Not linearizable (key y): process 3's get of \"a\"", 0), 0u)
      << r.explanation->text;
  const json j = r.to_json(h);
  EXPECT_EQ(j["explanation"]["op"]["key"], "y");

  // Without the bad get every key is fine.
  Builder c;
  const auto x = c.invoke(1, "put", "1", std::string("x"));
  c.ok(x);
  const auto y = c.invoke(1, "get", nullptr, std::string("y"));
  c.ok(y, "");  // keys start as ""
  const Result ok = check(c.build(), opts(Model::Kv));
  EXPECT_EQ(ok.verdict, Verdict::Linearizable);
  EXPECT_EQ(ok.partitions, 2u);
}

TEST(LinKv, AppendConcatenates) {
  auto run = [](const std::string& seen, bool concurrent) {
    Builder b;
    const std::string k = "k";
    if (concurrent) {
      const auto a1 = b.invoke(1, "append", "a", k);
      const auto a2 = b.invoke(2, "append", "b", k);
      b.ok(a2);
      b.ok(a1);
    } else {
      const auto a1 = b.invoke(1, "append", "a", k);
      b.ok(a1);
      const auto a2 = b.invoke(2, "append", "b", k);
      b.ok(a2);
    }
    const auto g = b.invoke(3, "get", nullptr, k);
    b.ok(g, seen);
    return verdict(b.build(), opts(Model::Kv));
  };
  EXPECT_EQ(run("ab", false), Verdict::Linearizable);
  EXPECT_EQ(run("ba", false), Verdict::NotLinearizable);
  EXPECT_EQ(run("ba", true), Verdict::Linearizable);
  EXPECT_EQ(run("ab", true), Verdict::Linearizable);
  EXPECT_EQ(run("a", true), Verdict::NotLinearizable);
  EXPECT_EQ(run("b", false), Verdict::NotLinearizable);
}

TEST(LinKv, PutAndCasOnStrings) {
  Builder b;
  const std::string k = "k";
  const auto p = b.invoke(1, "put", "v1", k);
  b.ok(p);
  const auto c1 = b.invoke(1, "cas", json::array({"v0", "v2"}), k);
  b.ok(c1, nullptr, false);
  const auto c2 = b.invoke(2, "cas", json::array({"v1", "v3"}), k);
  b.ok(c2, nullptr, true);
  const auto a = b.invoke(2, "append", "x", k);
  b.ok(a);
  const auto g = b.invoke(3, "get", nullptr, k);
  b.ok(g, "v3x");
  EXPECT_EQ(verdict(b.build(), opts(Model::Kv)), Verdict::Linearizable);
}

TEST(LinKv, TimedOutAppendAndCasMayLandLateButOnlyOnTheRightValue) {
  const std::string k = "k";
  auto put = [&](Builder& b, std::int64_t p, const std::string& v) {
    b.ok(b.invoke(p, "put", v, k));
  };
  auto get = [&](Builder& b, std::int64_t p, const std::string& v) {
    b.ok(b.invoke(p, "get", nullptr, k), v);
  };
  {  // the append lands after a read that did not see it
    Builder b;
    put(b, 1, "v1");
    b.info(b.invoke(2, "append", "a1", k));
    get(b, 3, "v1");
    get(b, 3, "v1a1");
    EXPECT_EQ(verdict(b.build(), opts(Model::Kv)), Verdict::Linearizable);
  }
  {  // ... but it can only have extended v1, which is gone once v2 is put
    Builder b;
    put(b, 1, "v1");
    b.info(b.invoke(2, "append", "a1", k));
    put(b, 1, "v2");
    get(b, 3, "v1a1");
    const Result r = check(b.build(), opts(Model::Kv));
    ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
    EXPECT_EQ(r.explanation->op, 3u);
  }
  {  // a timed-out cas is the only way to "c": it needs "v1" when it lands
    Builder b;
    put(b, 1, "v1");
    b.info(b.invoke(2, "cas", json::array({"v1", "c"}), k));
    get(b, 3, "v1");
    get(b, 3, "c");
    EXPECT_EQ(verdict(b.build(), opts(Model::Kv)), Verdict::Linearizable);
  }
  {
    Builder b;
    put(b, 1, "v1");
    b.info(b.invoke(2, "cas", json::array({"v1", "c"}), k));
    put(b, 1, "v2");
    get(b, 3, "c");
    EXPECT_EQ(verdict(b.build(), opts(Model::Kv)), Verdict::NotLinearizable);
  }
}

TEST(LinMultiRegister, TxnsAreAtomic) {
  const json initial = {{"x", 0}, {"y", 0}};
  auto txn = [](json ops) { return ops; };
  {
    Builder b;
    const auto w = b.invoke(1, "txn", txn({{"write", "x", 1}, {"write", "y", 2}}));
    const auto r = b.invoke(2, "txn", txn({{"read", "x", nullptr}, {"read", "y", nullptr}}));
    b.ok(r, txn({{"read", "x", 0}, {"read", "y", 0}}));
    b.ok(w, txn({{"write", "x", 1}, {"write", "y", 2}}));
    const auto r2 = b.invoke(2, "txn", txn({{"read", "x", nullptr}, {"read", "y", nullptr}}));
    b.ok(r2, txn({{"read", "x", 1}, {"read", "y", 2}}));
    EXPECT_EQ(verdict(b.build(), opts(Model::MultiRegister, initial)), Verdict::Linearizable);
  }
  {  // a torn read: x new, y old
    Builder b;
    const auto w = b.invoke(1, "txn", txn({{"write", "x", 1}, {"write", "y", 2}}));
    const auto r = b.invoke(2, "txn", txn({{"read", "x", nullptr}, {"read", "y", nullptr}}));
    b.ok(r, txn({{"read", "x", 1}, {"read", "y", 0}}));
    b.ok(w, txn({{"write", "x", 1}, {"write", "y", 2}}));
    const Result res = check(b.build(), opts(Model::MultiRegister, initial));
    ASSERT_EQ(res.verdict, Verdict::NotLinearizable);
    EXPECT_EQ(res.explanation->op, 1u);
    // the longest prefix (the write txn) first
    EXPECT_EQ(res.explanation->states,
              (std::vector<json>{{{"x", 1}, {"y", 2}}, {{"x", 0}, {"y", 0}}}));
  }
  {  // reads see the txn's own earlier writes; a nil read matches anything; missing keys are null
    Builder b;
    const auto t = b.invoke(
        1, "txn", txn({{"write", "x", 5}, {"read", "x", nullptr}, {"read", "z", nullptr}}));
    b.ok(t, txn({{"write", "x", 5}, {"read", "x", 5}, {"read", "z", nullptr}}));
    const auto u = b.invoke(1, "txn", txn({{"read", "y", nullptr}, {"read", "x", nullptr}}));
    b.ok(u, txn({{"read", "y", nullptr}, {"read", "x", 5}}));
    EXPECT_EQ(verdict(b.build(), opts(Model::MultiRegister, initial)), Verdict::Linearizable);
  }
  {  // a read inside a txn that contradicts the txn's own write
    Builder b;
    const auto t = b.invoke(1, "txn", txn({{"write", "x", 5}, {"read", "x", nullptr}}));
    b.ok(t, txn({{"write", "x", 5}, {"read", "x", 0}}));
    EXPECT_EQ(verdict(b.build(), opts(Model::MultiRegister, initial)), Verdict::NotLinearizable);
  }
}

// --------------------------------------------------------------------------------------------
// Explanations

TEST(LinExplanation, RethinkFailMinimal) {
  // Knossos' rethink-fail-minimal.edn: 0 is written, then a read of 3 runs concurrently with a
  // write of 4 and a read of 4 follows. The read of 3 (index 4) is the op to blame, not the read
  // after it; the register was 0 or 4.
  Builder b;
  b.write(0, 0);
  const auto rd = b.invoke(1, "read");
  const auto w = b.invoke(2, "write", 4);
  b.ok(rd, 3);
  b.ok(w, 4);
  b.read(3, 4);
  const History h = b.build();
  for (const json& initial : {json(nullptr), json(0)}) {
    const Result r = check(h, opts(Model::CasRegister, initial));
    ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
    const Explanation& e = *r.explanation;
    EXPECT_EQ(e.op, b.index[rd]);
    EXPECT_EQ(h.ops[e.op].complete_index, 4u);
    EXPECT_EQ(e.states, (std::vector<json>{4, 0}));  // the longest prefix's state first
    EXPECT_EQ(e.prefix, (std::vector<std::size_t>{0, 2}));
    EXPECT_EQ(
        e.text.substr(0, e.text.find('\n')),
        "Not linearizable: process 1's read of 3 (history line 3, invoked at 0.003 s, completed "
        "at 0.005 s) cannot be linearized. The ops before it can be ordered (longest linearizable "
        "prefix: 2 ops), but every such order leaves the register in one of these states: 4, 0 — "
        "none of which a read of 3 can observe.");

    const json j = r.to_json(h);
    EXPECT_EQ(j["verdict"], "not linearizable");
    EXPECT_FALSE(j.contains("reason"));
    EXPECT_EQ(j["partitions"], 1);
    EXPECT_EQ(j["explanation"]["op"], (json{{"process", 1},
                                            {"f", "read"},
                                            {"value", nullptr},
                                            {"output", 3},
                                            {"index", 2},
                                            {"line", 3},
                                            {"time", 0.003}}));
    EXPECT_EQ(j["explanation"]["states"], json::array({4, 0}));
    EXPECT_EQ(j["explanation"]["prefix_length"], 2);
    EXPECT_EQ(j["explanation"]["prefix"],
              (json::array({{{"process", 0}, {"f", "write"}, {"value", 0}, {"output", 0}},
                            {{"process", 2}, {"f", "write"}, {"value", 4}, {"output", 4}}})));
    EXPECT_TRUE(j["wall_time_s"].is_number());
    EXPECT_TRUE(j["states_explored"].is_number_unsigned());
  }
}

TEST(LinExplanation, EarliestReturningOpAtTheDeepestFrontier) {
  // Like Knossos' cas-failure.edn: 0 is read by concurrent reads while 2 is written; a read of 0
  // that begins after all of them (and after the write completed) cannot be linearized.
  Builder b;
  const auto w = b.invoke(76, "write", 2);
  const auto r1 = b.invoke(74, "read");
  const auto r2 = b.invoke(73, "read");
  b.ok(r1, 0);
  b.ok(w, 2);
  b.ok(r2, 0);
  const auto late = b.invoke(70, "read");
  b.ok(late, 0);
  b.read(71, 2);
  const History h = b.build();
  const Result r = check(h, opts(Model::CasRegister, 0));
  ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(r.explanation->op, b.index[late]);
  EXPECT_EQ(r.explanation->states, (std::vector<json>{2}));
  EXPECT_EQ(r.explanation->prefix, (std::vector<std::size_t>{1, 2, 0}));
  EXPECT_NE(
      r.explanation->text.find("leaves the register in state 2, which a read of 0 cannot observe"),
      std::string::npos)
      << r.explanation->text;
}

TEST(LinExplanation, JsonOfOtherVerdicts) {
  Builder b;
  b.write(1, 1);
  b.read(2, 1);
  const History h = b.build();
  const json ok = check(h, opts(Model::Register, 0)).to_json(h);
  EXPECT_EQ(ok["verdict"], "linearizable");
  EXPECT_FALSE(ok.contains("reason"));
  EXPECT_FALSE(ok.contains("explanation"));
  EXPECT_EQ(ok["partitions"], 1);
  EXPECT_GE(ok["states_explored"].get<int>(), 2);
  Options o = opts(Model::Register, 0);
  o.memory_limit_bytes = 1;
  const json unknown = check(h, o).to_json(h);
  EXPECT_EQ(unknown["verdict"], "unknown");
  EXPECT_EQ(unknown["reason"], "memory budget of 1 byte exhausted");
  EXPECT_FALSE(unknown.contains("explanation"));
}

TEST(LinExplanation, DeterministicAcrossRuns) {
  Builder b;
  for (int i = 0; i < 6; ++i) b.invoke(i, "write", i);
  for (int i = 0; i < 6; ++i) b.ok(i, i);
  b.read(10, 9);
  const History h = b.build();
  const Result a = check(h, opts(Model::Register, 0));
  const Result c = check(h, opts(Model::Register, 0));
  json ja = a.to_json(h), jc = c.to_json(h);
  ja.erase("wall_time_s");
  jc.erase("wall_time_s");
  EXPECT_EQ(ja, jc);
  EXPECT_EQ(a.explanation->states.size(), 6u);  // any of the six writes may have been last
}

// --------------------------------------------------------------------------------------------
// Property test: random histories from a sequential model run with random concurrency, then one
// read corrupted; the checker must agree with a brute-force search on every case.

struct GenConfig {
  bool kv = false;
  int processes = 3;
  int ops = 6;
  double info_p = 0.15;
  int keys = 2;         // kv
  bool unique = false;  // kv: every put/append value distinct, cas expecting the current value
  bool multi = false;   // multi-register txns over x and y (instead of register ops)
};

History generate(std::mt19937_64& rng, const GenConfig& g, json initial) {
  struct G {
    Op op;
    double start, lin, end;
    bool effect = true;
  };
  std::uniform_real_distribution<double> u(0, 1);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint64_t>(n)); };
  std::vector<G> ops;
  std::vector<double> clock(static_cast<std::size_t>(g.processes), 0.0);
  std::vector<std::int64_t> pid(static_cast<std::size_t>(g.processes));
  for (int p = 0; p < g.processes; ++p) pid[static_cast<std::size_t>(p)] = p;
  std::int64_t next_pid = g.processes;
  const std::vector<std::string> keys = {"x", "y"};
  for (int i = 0; i < g.ops; ++i) {
    const auto p = static_cast<std::size_t>(pick(g.processes));
    G x;
    x.start = clock[p] + u(rng);
    x.end = x.start + 0.1 + 2 * u(rng);
    x.lin = x.start + (x.end - x.start) * u(rng);
    clock[p] = x.end;
    x.op.process = pid[p];
    const int kind = pick(4);
    if (g.kv) {
      x.op.key = keys[static_cast<std::size_t>(pick(g.keys))];
      static const char* fs[] = {"get", "put", "append", "cas"};
      x.op.f = fs[kind];
      const std::string v = g.unique ? (x.op.f == "put" ? "v" : "a") + std::to_string(i)
                                     : std::string(1, static_cast<char>('a' + pick(3)));
      if (x.op.f == "put" || x.op.f == "append") x.op.value = v;
      if (x.op.f == "cas") x.op.value = json::array({pick(2) ? std::string() : v, v + v});
    } else if (g.multi) {
      x.op.f = "txn";
      x.op.value = json::array();
      for (int m = pick(3); m >= 0; --m)
        x.op.value.push_back(pick(2) ? json::array({"read", pick(2) ? "x" : "y", nullptr})
                                     : json::array({"write", pick(2) ? "x" : "y", pick(3)}));
    } else {
      static const char* fs[] = {"read", "write", "cas", "read"};
      x.op.f = fs[kind];
      if (x.op.f == "write") x.op.value = pick(3);
      if (x.op.f == "cas") x.op.value = json::array({pick(3), pick(3)});
    }
    if (u(rng) < g.info_p) {
      x.op.status = Op::Status::Info;
      // Takes effect later (possibly after the end of the history) or never.
      x.lin = x.start + 4 * u(rng);
      x.effect = pick(3) != 0;
      pid[p] = next_pid++;
    }
    ops.push_back(x);
  }
  // Run the sequential model in linearization order.
  std::vector<std::size_t> order(ops.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ops[a].lin < ops[b].lin; });
  json reg = initial;
  std::map<std::string, std::string> kv;
  for (auto i : order) {
    G& x = ops[i];
    if (g.unique && x.op.f == "cas" && pick(2)) x.op.value[0] = kv[*x.op.key];
    if (!x.effect) continue;
    if (g.kv) {
      std::string& s = kv[*x.op.key];
      if (x.op.f == "get") x.op.output = s;
      if (x.op.f == "put") s = x.op.value.get<std::string>();
      if (x.op.f == "append") s += x.op.value.get<std::string>();
      if (x.op.f == "cas") {
        const bool m = s == x.op.value[0].get<std::string>();
        if (m) s = x.op.value[1].get<std::string>();
        x.op.cas_result = m;
      }
    } else if (g.multi) {
      if (reg.is_null() || !reg.is_object()) reg = initial;
      x.op.output = x.op.value;
      for (auto& m : x.op.output) {
        if (m[0] == "read") m[2] = reg[m[1].get<std::string>()];
        if (m[0] == "write") reg[m[1].get<std::string>()] = m[2];
      }
    } else {
      if (x.op.f == "read") x.op.output = reg;
      if (x.op.f == "write") reg = x.op.value;
      if (x.op.f == "cas") {
        const bool m = reg == x.op.value[0];
        if (m) reg = x.op.value[1];
        x.op.cas_result = m;
      }
    }
    if (x.op.status == Op::Status::Info) {
      x.op.cas_result.reset();
      if (g.multi) x.op.output = nullptr;
    }
  }
  // Positions in the file: events sorted by time.
  struct Ev {
    double t;
    std::size_t op;
    bool ret;
  };
  std::vector<Ev> evs;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    evs.push_back({ops[i].start, i, false});
    if (ops[i].op.status == Op::Status::Ok) evs.push_back({ops[i].end, i, true});
  }
  std::sort(evs.begin(), evs.end(), [](const Ev& a, const Ev& b) { return a.t < b.t; });
  for (std::size_t k = 0; k < evs.size(); ++k) {
    Op& op = ops[evs[k].op].op;
    if (evs[k].ret) {
      op.complete_index = k;
      op.complete_time = evs[k].t;
    } else {
      op.invoke_index = op.complete_index = k;
      op.invoke_line = k + 1;
      op.invoke_time = evs[k].t;
    }
  }
  History h;
  for (const auto& x : ops) h.ops.push_back(x.op);
  std::sort(h.ops.begin(), h.ops.end(),
            [](const Op& a, const Op& b) { return a.invoke_index < b.invoke_index; });
  return h;
}

/// Corrupts one ok read's value; false if there is none.
bool corrupt(std::mt19937_64& rng, History& h, bool kv) {
  if (!h.ops.empty() && h.ops[0].f == "txn") {  // a read inside a completed txn
    std::vector<std::pair<std::size_t, std::size_t>> reads;
    for (std::size_t i = 0; i < h.ops.size(); ++i)
      if (h.ops[i].status == Op::Status::Ok)
        for (std::size_t m = 0; m < h.ops[i].output.size(); ++m)
          if (h.ops[i].output[m][0] == "read") reads.push_back({i, m});
    if (reads.empty()) return false;
    const auto [i, m] = reads[rng() % reads.size()];
    h.ops[i].output[m][2] = static_cast<int>(rng() % 3);
    return true;
  }
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < h.ops.size(); ++i)
    if (h.ops[i].status == Op::Status::Ok && (h.ops[i].f == "read" || h.ops[i].f == "get"))
      reads.push_back(i);
  if (reads.empty()) return false;
  Op& op = h.ops[reads[rng() % reads.size()]];
  static const char* strs[] = {"", "a", "b", "aa", "ab", "ba", "bb", "c"};
  if (rng() % 2 == 0) {
    op.output = h.ops[reads[rng() % reads.size()]].output;  // what another read saw: plausible
  } else {
    op.output = kv ? json(strs[rng() % 8]) : json(static_cast<int>(rng() % 4));
  }
  return true;
}

/// Brute force: every order of the ops consistent with real time (an op may go next when no
/// unplaced ok op completed before its invocation; info ops may be left out). Returns whether
/// some order linearizes every ok op, and (Knossos' rule) the ok op right after the longest
/// completion-ordered run of ok ops any reachable order linearizes.
struct Brute {
  bool linearizable = false;
  std::size_t blamed = SIZE_MAX;
};

Brute brute_force(const History& h, bool kv, json initial) {
  const std::size_t n = h.ops.size();
  std::vector<std::size_t> by_completion;
  for (std::size_t i = 0; i < n; ++i)
    if (h.ops[i].status == Op::Status::Ok) by_completion.push_back(i);
  std::sort(by_completion.begin(), by_completion.end(),
            [&](auto a, auto b) { return h.ops[a].complete_index < h.ops[b].complete_index; });
  std::vector<bool> placed(n, false);
  std::size_t deepest = 0;
  bool found = false;
  using State = std::pair<json, std::map<std::string, std::string>>;
  std::function<void(const State&)> dfs = [&](const State& s) {
    std::size_t depth = 0;
    while (depth < by_completion.size() && placed[by_completion[depth]]) ++depth;
    deepest = std::max(deepest, depth);
    if (depth == by_completion.size()) {
      found = true;
      return;
    }
    for (std::size_t i = 0; i < n && !found; ++i) {
      if (placed[i]) continue;
      const Op& op = h.ops[i];
      bool blocked = false;
      for (std::size_t q = 0; q < n; ++q)
        if (!placed[q] && h.ops[q].status == Op::Status::Ok &&
            h.ops[q].complete_index < op.invoke_index)
          blocked = true;
      if (blocked) continue;
      State t = s;
      const bool ok = op.status == Op::Status::Ok;
      bool legal = true;
      if (kv) {
        std::string& v = t.second[*op.key];
        if (op.f == "get") legal = !ok || v == op.output.get<std::string>();
        if (op.f == "put") v = op.value.get<std::string>();
        if (op.f == "append") v += op.value.get<std::string>();
        if (op.f == "cas") {
          const bool m = v == op.value[0].get<std::string>();
          if (ok && op.cas_result == false) {
            legal = !m;
          } else {
            legal = m;
            v = op.value[1].get<std::string>();
          }
        }
      } else if (op.f == "txn") {
        const json& body = ok ? op.output : op.value;
        for (const auto& m : body) {
          json& v = t.first[m[1].get<std::string>()];
          if (m[0] == "read" && !m[2].is_null() && v != m[2]) legal = false;
          if (m[0] == "write") v = m[2];
        }
      } else {
        json& v = t.first;
        if (op.f == "read") legal = !ok || v == op.output;
        if (op.f == "write") v = op.value;
        if (op.f == "cas") {
          const bool m = v == op.value[0];
          if (ok && op.cas_result == false) {
            legal = !m;
          } else {
            legal = m;
            v = op.value[1];
          }
        }
      }
      if (!legal) continue;
      placed[i] = true;
      dfs(t);
      placed[i] = false;
    }
  };
  dfs(State{initial, {}});
  Brute b;
  b.linearizable = found;
  if (!found) b.blamed = by_completion[deepest];
  return b;
}

TEST(LinProperty, AgreesWithBruteForceOnSmallRandomHistories) {
  std::mt19937_64 rng(20240611);
  int cases = 0, violations = 0;
  for (int round = 0; round < 500; ++round) {
    GenConfig g;
    g.kv = round % 2 == 1;
    g.keys = round % 4 == 1 ? 1 : 2;
    g.unique = round % 8 == 1;
    g.multi = round % 8 == 2;
    g.processes = 2 + static_cast<int>(rng() % 3);
    g.ops = 3 + static_cast<int>(rng() % 5);  // <= 7 ops
    const json initial = g.kv      ? json(nullptr)
                         : g.multi ? json{{"x", 0}, {"y", 0}}
                                   : json(static_cast<int>(rng() % 2));
    Options o = opts(g.kv      ? Model::Kv
                     : g.multi ? Model::MultiRegister
                               : Model::CasRegister,
                     initial);
    History h = generate(rng, g, initial);
    ASSERT_EQ(check(h, o).verdict, Verdict::Linearizable) << round;
    ASSERT_TRUE(brute_force(h, g.kv, initial).linearizable) << round;
    if (!corrupt(rng, h, g.kv)) continue;
    ++cases;
    const Result r = check(h, o);
    const Brute bf = brute_force(h, g.kv, initial);
    ASSERT_EQ(r.verdict, bf.linearizable ? Verdict::Linearizable : Verdict::NotLinearizable)
        << "round " << round;
    if (!bf.linearizable) {
      ++violations;
      ASSERT_TRUE(r.explanation.has_value());
      if (!g.kv || g.keys == 1) {  // (kv: brute force sees all keys at once)
        EXPECT_EQ(r.explanation->op, bf.blamed) << "round " << round;
      }
    }
  }
  EXPECT_GT(cases, 300);
  EXPECT_GT(violations, 50);
}

/// A plain Wing & Gong search with Lowe's memo over (placed ops, state), JSON states, none of
/// the checker's reductions: the reference for medium-sized histories.
bool reference_linearizable(const History& h, bool kv, const json& initial) {
  const std::size_t n = h.ops.size();
  std::vector<bool> placed(n, false);
  std::set<std::pair<std::vector<bool>, std::string>> seen;
  std::size_t ok_left = 0;
  for (const auto& op : h.ops) ok_left += op.status == Op::Status::Ok;
  std::function<bool(const json&, std::size_t)> dfs = [&](const json& state, std::size_t left) {
    if (left == 0) return true;
    for (std::size_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      const Op& op = h.ops[i];
      bool blocked = false;
      for (std::size_t q = 0; q < n && !blocked; ++q)
        blocked = !placed[q] && h.ops[q].status == Op::Status::Ok &&
                  h.ops[q].complete_index < op.invoke_index;
      if (blocked) continue;
      const bool ok = op.status == Op::Status::Ok;
      json next = state;
      json& v = kv ? next[*op.key] : next;
      if (kv && v.is_null()) v = "";
      bool legal = true;
      if (op.f == "read" || op.f == "get") legal = !ok || v == op.output;
      if (op.f == "txn") {
        const json& body = ok ? op.output : op.value;
        for (const auto& m : body) {
          json& r = next[m[1].get<std::string>()];
          if (m[0] == "read" && !m[2].is_null() && r != m[2]) legal = false;
          if (m[0] == "write") r = m[2];
        }
      }
      if (op.f == "write" || op.f == "put") v = op.value;
      if (op.f == "append") v = v.get<std::string>() + op.value.get<std::string>();
      if (op.f == "cas") {
        const bool m = v == op.value[0];
        if (ok && op.cas_result == false) {
          legal = !m;
        } else {
          legal = m;
          v = op.value[1];
        }
      }
      if (!legal) continue;
      placed[i] = true;
      if (seen.insert({placed, next.dump()}).second && dfs(next, left - ok)) return true;
      placed[i] = false;
    }
    return false;
  };
  return dfs(kv ? json::object() : initial, ok_left);
}

TEST(LinProperty, AgreesWithAReferenceSearchOnMediumRandomHistories) {
  // 20-40 ops, up to 5 processes, info ops, kv with distinct values (so the requirement analysis
  // — which op alone can produce a value — has something to work on): the reductions of the
  // verdict search must never change it.
  std::mt19937_64 rng(99);
  int violations = 0;
  for (int round = 0; round < 240; ++round) {
    GenConfig g;
    g.kv = round % 3 != 0;
    g.unique = round % 3 == 1;
    g.keys = round % 6 == 2 ? 2 : 1;
    g.multi = round % 6 == 3;
    g.processes = 2 + static_cast<int>(rng() % 4);
    g.ops = 20 + static_cast<int>(rng() % 21);
    g.info_p = 0.1;
    const json initial = g.kv      ? json(nullptr)
                         : g.multi ? json{{"x", 0}, {"y", 0}}
                                   : json(static_cast<int>(rng() % 2));
    Options o = opts(g.kv      ? Model::Kv
                     : g.multi ? Model::MultiRegister
                               : Model::CasRegister,
                     initial);
    History h = generate(rng, g, initial);
    ASSERT_EQ(check(h, o).verdict, Verdict::Linearizable) << round;
    if (!corrupt(rng, h, g.kv)) continue;
    const bool expected = reference_linearizable(h, g.kv, initial);
    const Result r = check(h, o);
    ASSERT_EQ(r.verdict, expected ? Verdict::Linearizable : Verdict::NotLinearizable)
        << "round " << round;
    violations += !expected;
  }
  EXPECT_GT(violations, 60);
}

TEST(LinProperty, LargerRandomHistoriesAreLinearizable) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 60; ++round) {
    GenConfig g;
    g.kv = round % 2 == 0;
    g.processes = 5;
    g.ops = 120;
    g.info_p = 0.05;
    const json initial = g.kv ? json(nullptr) : json(0);
    const History h = generate(rng, g, initial);
    const Result r = check(h, opts(g.kv ? Model::Kv : Model::CasRegister, initial));
    ASSERT_EQ(r.verdict, Verdict::Linearizable) << round;
  }
}

// --------------------------------------------------------------------------------------------
// Budgets

History pathological(int writers) {
  // Two waves of concurrent writes of distinct values, then a read of a value of the first wave:
  // impossible, but the search must try every subset of the first wave (in every order) before
  // it knows. (A value nobody wrote would be caught at once: nothing can produce it.)
  Builder b;
  for (int i = 0; i < writers; ++i) b.invoke(i, "write", i + 1);
  for (int i = 0; i < writers; ++i) b.ok(static_cast<std::size_t>(i), i + 1);
  for (int i = 0; i < writers; ++i) b.invoke(100 + i, "write", 100 + i);
  for (int i = 0; i < writers; ++i) b.ok(static_cast<std::size_t>(writers + i), 100 + i);
  b.read(999, 1);
  return b.build();
}

TEST(LinBudget, TinyTimeoutReturnsUnknownQuickly) {
  const History h = pathological(24);
  Options o = opts(Model::Register, 0);
  o.timeout_s = 0.05;
  const auto t0 = std::chrono::steady_clock::now();
  const Result r = check(h, o);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.verdict, Verdict::Unknown);
  EXPECT_EQ(r.reason, "time budget of 0.05 s exhausted");
  EXPECT_LT(elapsed, 1.0);
  EXPECT_FALSE(r.explanation.has_value());
  EXPECT_EQ(r.to_json(h)["reason"], "time budget of 0.05 s exhausted");
}

TEST(LinBudget, TinyMemoryLimitReturnsUnknown) {
  const History h = pathological(24);
  Options o = opts(Model::Register, 0);
  o.memory_limit_bytes = std::size_t{4} << 20;
  const Result r = check(h, o);
  EXPECT_EQ(r.verdict, Verdict::Unknown);
  EXPECT_EQ(r.reason, "memory budget of 4 MiB exhausted");
  o.memory_limit_bytes = std::size_t{1} << 30;
  o.timeout_s = 0.01;
  EXPECT_EQ(check(h, o).verdict, Verdict::Unknown);
}

TEST(LinBudget, KvReportsAViolationEvenIfAnotherKeyRanOutOfBudget) {
  History h = pathological(24);
  for (auto& op : h.ops) {
    op.key = "slow";
    if (op.f == "write") op.f = "put";
    if (op.f == "read") op.f = "get";
    op.value = op.value.is_null() ? op.value : json(op.value.dump());
    if (op.f == "get") op.output = op.output.dump();
  }
  const std::size_t base = h.ops.back().complete_index + 1;
  for (std::size_t i = 0; i < 2; ++i) {
    Op op;
    op.process = 500;
    op.f = i == 0 ? "put" : "get";
    op.key = "fast";
    op.value = i == 0 ? json("1") : json(nullptr);
    op.output = i == 0 ? json(nullptr) : json("2");
    op.invoke_index = base + 2 * i;
    op.complete_index = base + 2 * i + 1;
    h.ops.push_back(op);
  }
  Options o = opts(Model::Kv);
  o.memory_limit_bytes = std::size_t{4} << 20;
  const Result r = check(h, o);
  ASSERT_EQ(r.verdict, Verdict::NotLinearizable);
  EXPECT_EQ(r.explanation->key, std::optional<std::string>("fast"));
}

// --------------------------------------------------------------------------------------------
// Knossos' reference histories, when the EDN reader (reports/history_io.hpp) is built.

#ifdef FAULTLINE_LIN_HAVE_READER
/// tests/data/knossos (a copy of Knossos' data/), or $FAULTLINE_KNOSSOS_DATA.
std::string knossos(const std::string& rel) {
  if (const char* env = std::getenv("FAULTLINE_KNOSSOS_DATA")) return std::string(env) + "/" + rel;
#ifdef FAULTLINE_SOURCE_DIR
  return std::string(FAULTLINE_SOURCE_DIR) + "/tests/data/knossos/" + rel;
#else
  return "tests/data/knossos/" + rel;
#endif
}

TEST(LinKnossos, BadHistoriesBlameTheSameOpAsKnossos) {
  struct Case {
    const char* file;
    json initial;
    std::int64_t process;
    std::size_t index;  // position of the op's completion in the file
  };
  const Case cases[] = {{"cas-register/bad/cas-failure.edn", 0, 70, 491},
                        {"cas-register/bad/immediate-failure.edn", 0, 1, 3},
                        {"cas-register/bad/rethink-fail-minimal.edn", 0, 1, 4},
                        {"cas-register/bad/rethink-fail-minimal.edn", nullptr, 1, 4}};
  for (const auto& c : cases) {
    const std::string path = knossos(c.file);
    if (!std::filesystem::exists(path)) {
      GTEST_SKIP() << "no " << path;
    }
    const History h = read_history_file(path, Model::CasRegister);
    const Result r = check(h, opts(Model::CasRegister, c.initial));
    ASSERT_EQ(r.verdict, Verdict::NotLinearizable) << c.file;
    const Op& op = h.ops.at(r.explanation->op);
    EXPECT_EQ(op.process, c.process) << c.file;
    EXPECT_EQ(op.complete_index, c.index) << c.file;
  }
}

TEST(LinKnossos, EveryReferenceHistoryGetsItsVerdict) {
  const std::string root = knossos("");
  if (!std::filesystem::exists(root + "cas-register")) {
    GTEST_SKIP() << "no " << root;
  }
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    const std::string path = entry.path().string();
    if (entry.path().extension() != ".edn") continue;
    const bool multi = path.find("multi-register") != std::string::npos;
    const Options o =
        multi ? opts(Model::MultiRegister, {{"x", 0}, {"y", 0}}) : opts(Model::CasRegister, 0);
    const Result r = check(read_history_file(path, o.model), o);
    const bool bad = path.find("/bad/") != std::string::npos;
    EXPECT_EQ(r.verdict, bad ? Verdict::NotLinearizable : Verdict::Linearizable) << path;
    EXPECT_LT(r.wall_time_s, 1.0) << path;
    ++files;
  }
  EXPECT_EQ(files, 121);
}
#endif

}  // namespace
}  // namespace faultline::lin
