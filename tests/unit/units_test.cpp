// Units of scenario files (SCENARIOS.md, "Units"): every unit, every error, and format_* reading
// back exactly through parse_*.
#include "common/units.hpp"

#include <gtest/gtest.h>

#include <string>

namespace faultline::units {
namespace {

template <class T>
T ok(const Parsed<T>& p) {
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error());
  return p.ok() ? p.value() : T{};
}

template <class T>
std::string error(const Parsed<T>& p) {
  EXPECT_FALSE(p.ok());
  return p.ok() ? std::string() : p.error();
}

TEST(UnitsDuration, EveryUnit) {
  EXPECT_EQ(ok(parse_duration("10ns")), 10);
  EXPECT_EQ(ok(parse_duration("250us")), 250 * kMicrosecond);
  EXPECT_EQ(ok(parse_duration("250µs")), 250 * kMicrosecond);
  EXPECT_EQ(ok(parse_duration("300ms")), 300 * kMillisecond);
  EXPECT_EQ(ok(parse_duration("2s")), 2 * kSecond);
  EXPECT_EQ(ok(parse_duration("3min")), 180 * kSecond);
  EXPECT_EQ(ok(parse_duration("1h")), 3600 * kSecond);
}

TEST(UnitsDuration, DecimalsAreExact) {
  EXPECT_EQ(ok(parse_duration("1.5ms")), 1'500'000);
  EXPECT_EQ(ok(parse_duration("1.05s")), 1'050'000'000);
  EXPECT_EQ(ok(parse_duration("0.25ms")), 250'000);
  EXPECT_EQ(ok(parse_duration("0.1s")), 100'000'000);
  EXPECT_EQ(ok(parse_duration("2.2s")), 2'200'000'000);
  EXPECT_EQ(ok(parse_duration("1.5min")), 90 * kSecond);
  EXPECT_EQ(ok(parse_duration(".5s")), 500'000'000);
  EXPECT_EQ(ok(parse_duration("1e3ms")), kSecond);
  EXPECT_EQ(ok(parse_duration("0.0000015ms")), 2);  // rounded to the nearest ns
  EXPECT_EQ(ok(parse_duration("1.000000001s")), 1'000'000'001);
}

TEST(UnitsDuration, ZeroBlanksAndSign) {
  EXPECT_EQ(ok(parse_duration("0s")), 0);
  EXPECT_EQ(ok(parse_duration("0ms")), 0);
  EXPECT_EQ(ok(parse_duration(" 5 ms ")), 5 * kMillisecond);
  EXPECT_EQ(ok(parse_duration("+5ms")), 5 * kMillisecond);
  EXPECT_EQ(ok(parse_duration("-0ms")), 0);
}

TEST(UnitsDuration, BareNumberNamesTheUnitProbablyMeant) {
  auto p = parse_duration("300");
  EXPECT_EQ(error(p), "expected a duration with a unit, e.g. '300ms'");
  EXPECT_EQ(p.suggestion, "300ms");
  auto small = parse_duration("0.5");
  EXPECT_EQ(error(small), "expected a duration with a unit, e.g. '0.5s'");
  EXPECT_EQ(small.suggestion, "0.5s");
}

TEST(UnitsDuration, Errors) {
  EXPECT_NE(error(parse_duration("")).find("got nothing"), std::string::npos);
  EXPECT_NE(error(parse_duration("fast")).find("expected a duration with a unit such as"),
            std::string::npos);
  EXPECT_NE(error(parse_duration("-5ms")).find("expected a duration >= 0"), std::string::npos);
  EXPECT_NE(error(parse_duration("5sec")).find("unknown duration unit 'sec'"), std::string::npos);
  EXPECT_NE(error(parse_duration("5 m s")).find("unknown duration unit"), std::string::npos);
  EXPECT_NE(error(parse_duration("5MS")).find("unknown duration unit 'MS'"), std::string::npos);
  EXPECT_NE(error(parse_duration("1e30s")).find("too large"), std::string::npos);
  EXPECT_NE(error(parse_duration("99999999999999999999999h")).find("too large"), std::string::npos);
  EXPECT_NE(error(parse_duration("0.1ns")).find("resolution"), std::string::npos);
  EXPECT_NE(error(parse_duration("ms")).find("expected a duration"), std::string::npos);
  EXPECT_NE(error(parse_duration(".")).find("expected a duration"), std::string::npos);
}

TEST(UnitsDuration, GuessDependsOnTheKindOfValue) {
  EXPECT_EQ(guess_duration("300"), "300ms");
  EXPECT_EQ(guess_duration("1"), "1ms");
  EXPECT_EQ(guess_duration("0.5"), "0.5s");
  EXPECT_EQ(guess_duration("10", true), "10s");
  EXPECT_EQ(guess_duration("2000", true), "2000ms");
  EXPECT_EQ(guess_duration("10ms"), "");
  EXPECT_EQ(guess_duration("abc"), "");
}

TEST(UnitsDuration, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(format_duration(150 * kMillisecond), "150ms");
  EXPECT_EQ(format_duration(1'500'000'000), "1.5s");
  EXPECT_EQ(format_duration(1'050'000'000), "1.05s");
  EXPECT_EQ(format_duration(250 * kMicrosecond), "250us");
  EXPECT_EQ(format_duration(180 * kSecond), "3min");
  EXPECT_EQ(format_duration(90 * kSecond), "90s");
  EXPECT_EQ(format_duration(7200 * kSecond), "2h");
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(7), "7ns");
  EXPECT_EQ(format_duration(1'234'567), "1234.567us");
  EXPECT_EQ(format_duration(1'000'100'000), "1000.1ms");
  EXPECT_EQ(format_duration(-5 * kMillisecond), "-5ms");
}

TEST(UnitsDuration, FormatReadsBackExactly) {
  for (Duration d :
       {Duration{1}, Duration{999}, Duration{1'000}, Duration{1'234'567}, Duration{150'000'000},
        Duration{1'500'000'000}, Duration{59'999'999'999}, Duration{60'000'000'000},
        Duration{3'600'000'000'001}, Duration{9'223'372'036'854'775'807}}) {
    EXPECT_EQ(ok(parse_duration(format_duration(d))), d) << format_duration(d);
  }
}

TEST(UnitsBandwidth, BitsPerSecond) {
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("8bps")), 1);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("8Kbps")), 1e3);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("8kbps")), 1e3);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("100Mbps")), 12.5e6);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("1Gbps")), 1.25e8);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("10Gbps")), 1.25e9);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("1Tbps")), 1.25e11);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("1Gbit/s")), 1.25e8);
}

TEST(UnitsBandwidth, BytesPerSecond) {
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("100B/s")), 100);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("4KB/s")), 4e3);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("12.5MB/s")), 12.5e6);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("2GB/s")), 2e9);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("1TB/s")), 1e12);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("100Bps")), 100);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("4KBps")), 4e3);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("30MBps")), 30e6);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("2GBps")), 2e9);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("1MiB/s")), 1048576);
  EXPECT_DOUBLE_EQ(ok(parse_bandwidth("0Gbps")), 0);
}

TEST(UnitsBandwidth, Errors) {
  auto bare = parse_bandwidth("100");
  EXPECT_NE(error(bare).find("expected a bandwidth with a unit"), std::string::npos);
  EXPECT_EQ(bare.suggestion, "100Mbps");
  EXPECT_NE(error(parse_bandwidth("100Mbs")).find("unknown bandwidth unit 'Mbs'"),
            std::string::npos);
  EXPECT_NE(error(parse_bandwidth("-1Gbps")).find(">= 0"), std::string::npos);
  EXPECT_NE(error(parse_bandwidth("fast")).find("expected a bandwidth"), std::string::npos);
  EXPECT_NE(error(parse_bandwidth("1e400Gbps")).find("too large"), std::string::npos);
}

TEST(UnitsBandwidth, FormatPrefersTheShorterForm) {
  EXPECT_EQ(format_bandwidth(1.25e8), "1Gbps");
  EXPECT_EQ(format_bandwidth(12.5e6), "100Mbps");
  EXPECT_EQ(format_bandwidth(30e6), "30MB/s");
  EXPECT_EQ(format_bandwidth(1.25e9), "10Gbps");
  EXPECT_EQ(format_bandwidth(1), "8bps");
  EXPECT_EQ(format_bandwidth(0), "0bps");
  for (double b : {1.25e8, 12.5e6, 30e6, 2e10, 1.0, 123456.0}) {
    EXPECT_DOUBLE_EQ(ok(parse_bandwidth(format_bandwidth(b))), b) << format_bandwidth(b);
  }
}

TEST(UnitsSize, EveryUnit) {
  EXPECT_EQ(ok(parse_size("100B")), 100u);
  EXPECT_EQ(ok(parse_size("4KB")), 4'000u);
  EXPECT_EQ(ok(parse_size("4kB")), 4'000u);
  EXPECT_EQ(ok(parse_size("64MB")), 64'000'000u);
  EXPECT_EQ(ok(parse_size("2GB")), 2'000'000'000u);
  EXPECT_EQ(ok(parse_size("1TB")), 1'000'000'000'000u);
  EXPECT_EQ(ok(parse_size("4KiB")), 4096u);
  EXPECT_EQ(ok(parse_size("1MiB")), 1u << 20);
  EXPECT_EQ(ok(parse_size("1GiB")), 1u << 30);
  EXPECT_EQ(ok(parse_size("1TiB")), 1ull << 40);
  EXPECT_EQ(ok(parse_size("1.5KB")), 1'500u);
  EXPECT_EQ(ok(parse_size("0.5KiB")), 512u);
}

TEST(UnitsSize, Errors) {
  auto bare = parse_size("64");
  EXPECT_NE(error(bare).find("expected a size with a unit"), std::string::npos);
  EXPECT_EQ(bare.suggestion, "64B");
  EXPECT_NE(error(parse_size("64Mb")).find("unknown size unit 'Mb'"), std::string::npos);
  EXPECT_NE(error(parse_size("-1MB")).find(">= 0"), std::string::npos);
  EXPECT_NE(error(parse_size("99999999TB")).find("too large"), std::string::npos);
  EXPECT_NE(error(parse_size("big")).find("expected a size"), std::string::npos);
}

TEST(UnitsSize, Format) {
  EXPECT_EQ(format_size(64'000'000), "64MB");
  EXPECT_EQ(format_size(1u << 20), "1MiB");
  EXPECT_EQ(format_size(4096), "4KiB");
  EXPECT_EQ(format_size(1000), "1KB");
  EXPECT_EQ(format_size(100), "100B");
  EXPECT_EQ(format_size(0), "0B");
  for (std::uint64_t b : {std::uint64_t{1}, std::uint64_t{1'500}, std::uint64_t{1u << 20},
                          std::uint64_t{123'456'789}, std::uint64_t{64'000'000}}) {
    EXPECT_EQ(ok(parse_size(format_size(b))), b) << format_size(b);
  }
}

TEST(UnitsProbability, FractionsAndPercentages) {
  EXPECT_DOUBLE_EQ(ok(parse_probability("0.1")), 0.1);
  EXPECT_DOUBLE_EQ(ok(parse_probability("10%")), 0.1);
  EXPECT_DOUBLE_EQ(ok(parse_probability("66%")), 0.66);
  EXPECT_DOUBLE_EQ(ok(parse_probability("0")), 0);
  EXPECT_DOUBLE_EQ(ok(parse_probability("1")), 1);
  EXPECT_DOUBLE_EQ(ok(parse_probability("100%")), 1);
  EXPECT_DOUBLE_EQ(ok(parse_probability("0.5 %")), 0.005);
}

TEST(UnitsProbability, Errors) {
  auto ten = parse_probability("10");
  EXPECT_NE(error(ten).find("out of range"), std::string::npos);
  EXPECT_EQ(ten.suggestion, "10%");
  EXPECT_NE(error(parse_probability("150%")).find("out of range"), std::string::npos);
  EXPECT_NE(error(parse_probability("-0.1")).find("out of range"), std::string::npos);
  EXPECT_NE(error(parse_probability("often")).find("expected a probability"), std::string::npos);
  EXPECT_NE(error(parse_probability("10%%")).find("expected a probability"), std::string::npos);
  EXPECT_NE(error(parse_probability("")).find("expected a probability"), std::string::npos);
}

TEST(UnitsSpeed, EveryUnit) {
  EXPECT_DOUBLE_EQ(ok(parse_speed("100f")), 100);
  EXPECT_DOUBLE_EQ(ok(parse_speed("5Kf")), 5e3);
  EXPECT_DOUBLE_EQ(ok(parse_speed("5kf")), 5e3);
  EXPECT_DOUBLE_EQ(ok(parse_speed("500Mf")), 5e8);
  EXPECT_DOUBLE_EQ(ok(parse_speed("2Gf")), 2e9);
  EXPECT_DOUBLE_EQ(ok(parse_speed("1Tf")), 1e12);
  EXPECT_DOUBLE_EQ(ok(parse_speed("1Pf")), 1e15);
  EXPECT_DOUBLE_EQ(ok(parse_speed("2Gflops")), 2e9);
  EXPECT_DOUBLE_EQ(ok(parse_speed("1.5e9")), 1.5e9);
  EXPECT_DOUBLE_EQ(ok(parse_speed("1000")), 1000);
}

TEST(UnitsSpeed, ErrorsAndFormat) {
  EXPECT_NE(error(parse_speed("2GHz")).find("unknown speed unit 'GHz'"), std::string::npos);
  EXPECT_NE(error(parse_speed("-1Gf")).find(">= 0"), std::string::npos);
  EXPECT_NE(error(parse_speed("quick")).find("expected a speed"), std::string::npos);
  EXPECT_NE(error(parse_speed("1e999")).find("too large"), std::string::npos);
  EXPECT_EQ(format_speed(2e9), "2Gf");
  EXPECT_EQ(format_speed(1.5e9), "1.5Gf");
  EXPECT_EQ(format_speed(1e4), "10Kf");
  EXPECT_EQ(format_speed(12), "12f");
}

TEST(UnitsRate, EveryUnit) {
  EXPECT_DOUBLE_EQ(ok(parse_rate("200/s")), 200);
  EXPECT_DOUBLE_EQ(ok(parse_rate("1.5/ms")), 1500);
  EXPECT_DOUBLE_EQ(ok(parse_rate("120/min")), 2);
  EXPECT_DOUBLE_EQ(ok(parse_rate("3600/h")), 1);
  EXPECT_EQ(format_rate(200), "200/s");
  EXPECT_DOUBLE_EQ(ok(parse_rate(format_rate(2.5))), 2.5);
}

TEST(UnitsRate, Errors) {
  auto bare = parse_rate("200");
  EXPECT_NE(error(bare).find("expected a rate with a unit"), std::string::npos);
  EXPECT_EQ(bare.suggestion, "200/s");
  EXPECT_NE(error(parse_rate("200/sec")).find("unknown rate unit '/sec'"), std::string::npos);
  EXPECT_NE(error(parse_rate("-1/s")).find(">= 0"), std::string::npos);
  EXPECT_NE(error(parse_rate("lots")).find("expected a rate"), std::string::npos);
}

}  // namespace
}  // namespace faultline::units
