#include "telemetry/trace_context.h"

#include <gtest/gtest.h>

#include <set>

namespace dte {
namespace {

constexpr const char* kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, ParsesTheW3cExample) {
  auto c = ParseTraceparent(kValid);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->trace_id.Hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->span_id.Hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(c->sampled);
  EXPECT_EQ(FormatTraceparent(*c), kValid);
}

TEST(TraceparentTest, SampledIsBitZeroOfTheFlags) {
  EXPECT_FALSE(
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")->sampled);
  EXPECT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")->sampled);
  EXPECT_FALSE(
      ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-02")->sampled);
  auto c = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  EXPECT_EQ(FormatTraceparent(*c), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
}

TEST(TraceparentTest, RejectsMalformedHeaders) {
  const char* bad[] = {
      "",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",           // no flags
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        // all-zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        // all-zero parent id
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        // version ff
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        // uppercase
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",        // misplaced dash
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // 00 has no extra fields
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  };
  for (const char* h : bad) EXPECT_FALSE(ParseTraceparent(h).ok()) << h;
}

TEST(TraceparentTest, FutureVersionsParseTheKnownPrefix) {
  auto c = ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->sampled);
  EXPECT_FALSE(ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x").ok());
  EXPECT_TRUE(ParseTraceparent("  00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ").ok());
}

TEST(TraceIdTest, RandomIdsAreValidAndDistinct) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 10000; ++i) {
    TraceId t = TraceId::Random();
    SpanId s = SpanId::Random();
    ASSERT_TRUE(t.IsValid());
    ASSERT_TRUE(s.IsValid());
    traces.insert(t.Hex());
    spans.insert(s.Hex());
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(TraceIdTest, HexRoundTripAndValidation) {
  TraceId t = TraceId::Random();
  auto back = TraceId::FromHex(t.Hex());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  EXPECT_FALSE(TraceId::FromHex("00000000000000000000000000000000").ok());
  EXPECT_FALSE(TraceId::FromHex("abc").ok());
  EXPECT_FALSE(SpanId::FromHex("0000000000000000").ok());
  EXPECT_TRUE(SpanId::FromHex("00F067AA0BA902B7").ok());
  EXPECT_EQ(HexEncode(reinterpret_cast<const uint8_t*>("\x01\xab"), 2), "01ab");
}

}  // namespace
}  // namespace dte
