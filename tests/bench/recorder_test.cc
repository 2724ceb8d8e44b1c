// ResponseObserver (TTFT, gaps, tokens, error kinds, with a fake clock), SLO parsing,
// TPOT and the Recorder's report.
#include "bench/recorder.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "bench/response_observer.h"

namespace dte::bench {
namespace {

using std::chrono::milliseconds;
const SteadyClock::time_point kT0 = SteadyClock::time_point() + std::chrono::hours(1);

std::string Chunk(const std::string& text) {
  return "data: {\"choices\":[{\"index\":0,\"text\":\"" + text + "\"}]}\n\n";
}

TEST(ResponseObserverTest, StreamTimingAndUsageTokens) {
  ResponseObserver o(kT0, /*streamed=*/true, /*turn=*/3);
  o.OnBytes(": keep-alive\n\n", kT0 + milliseconds(10));
  o.OnBytes(Chunk("a"), kT0 + milliseconds(100));
  o.OnBytes(Chunk("b") + Chunk("c").substr(0, 7), kT0 + milliseconds(150));
  o.OnBytes(Chunk("c").substr(7), kT0 + milliseconds(210));
  o.OnBytes("data: {\"choices\":[],\"usage\":{\"completion_tokens\":5}}\n\ndata: [DONE]\n\n",
            kT0 + milliseconds(300));
  RequestRecord r = o.Finish(Status::Ok(), 200, "", kT0 + milliseconds(310));
  EXPECT_EQ(r.error, "");
  ASSERT_TRUE(r.ttft_s.has_value());
  EXPECT_NEAR(*r.ttft_s, 0.100, 1e-9);
  EXPECT_NEAR(r.e2e_s, 0.310, 1e-9);
  EXPECT_EQ(r.output_tokens, 5);  // usage wins over the 3 chunks
  EXPECT_EQ(r.turn, 3);
  ASSERT_EQ(r.gaps_ns.size(), 2u);
  EXPECT_EQ(r.gaps_ns[0], 50'000'000u);
  EXPECT_EQ(r.gaps_ns[1], 60'000'000u);
  ASSERT_TRUE(TimePerOutputToken(r).has_value());
  EXPECT_NEAR(*TimePerOutputToken(r), (0.310 - 0.100) / 4, 1e-9);
}

TEST(ResponseObserverTest, TokensCountedFromChunksWithoutUsage) {
  ResponseObserver o(kT0, true);
  o.OnBytes(Chunk("x") + Chunk("y") + "data: [DONE]\n\n", kT0 + milliseconds(5));
  EXPECT_EQ(o.Finish(Status::Ok(), 200, "", kT0 + milliseconds(6)).output_tokens, 2);
}

TEST(ResponseObserverTest, ErrorKinds) {
  auto finish = [](ResponseObserver& o, const Status& s, int code) {
    return o.Finish(s, code, "", kT0 + milliseconds(1)).error;
  };
  ResponseObserver no_done(kT0, true);
  no_done.OnBytes(Chunk("x"), kT0);
  EXPECT_EQ(finish(no_done, Status::Ok(), 200), "disconnect");
  ResponseObserver http(kT0, true);
  EXPECT_EQ(finish(http, Status::Ok(), 429), "http_429");
  ResponseObserver refused(kT0, true);
  EXPECT_EQ(finish(refused, Status::Unavailable("cannot connect"), 0), "connect");
  ResponseObserver stalled(kT0, true);
  EXPECT_EQ(
      finish(stalled, Status::IoError("read failed: The socket was closed due to a timeout"), 0),
      "timeout");
  ResponseObserver reset(kT0, true);
  EXPECT_EQ(finish(reset, Status::IoError("read failed: Connection reset by peer"), 0),
            "disconnect");
  ResponseObserver late(kT0, true);
  late.MarkTimedOut();
  EXPECT_EQ(finish(late, Status::Ok(), 200), "timeout");
  ResponseObserver in_stream(kT0, true);
  in_stream.OnBytes("data: {\"error\":{\"message\":\"boom\"}}\n\ndata: [DONE]\n\n", kT0);
  RequestRecord in_stream_record = in_stream.Finish(Status::Ok(), 200, "", kT0);
  EXPECT_EQ(in_stream_record.error, "stream_error");
  EXPECT_EQ(in_stream_record.error_detail, "boom");
  ResponseObserver garbage(kT0, true);
  garbage.OnBytes("data: <html>\n\ndata: [DONE]\n\n", kT0);
  EXPECT_EQ(finish(garbage, Status::Ok(), 200), "bad_response");
}

TEST(ResponseObserverTest, WholeResponseHasTokensButNoTtft) {
  ResponseObserver o(kT0, /*streamed=*/false);
  RequestRecord r =
      o.Finish(Status::Ok(), 200, R"({"choices":[{"text":"abc"}],"usage":{"completion_tokens":7}})",
               kT0 + milliseconds(40));
  EXPECT_EQ(r.error, "");
  EXPECT_FALSE(r.ttft_s.has_value());
  EXPECT_EQ(r.output_tokens, 7);
  ResponseObserver bad(kT0, false);
  EXPECT_EQ(bad.Finish(Status::Ok(), 200, "oops", kT0).error, "bad_response");
}

TEST(SloTest, Parses) {
  Result<Slo> s = ParseSlo("ttft=500ms,tpot=50ms,e2e=2s");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(*s->ttft_s, 0.5);
  EXPECT_DOUBLE_EQ(*s->tpot_s, 0.05);
  EXPECT_DOUBLE_EQ(*s->e2e_s, 2.0);
  EXPECT_DOUBLE_EQ(*ParseSlo("ttft=250")->ttft_s, 0.25);
  EXPECT_DOUBLE_EQ(*ParseSlo("tpot=800us")->tpot_s, 0.0008);
  EXPECT_FALSE(ParseSlo("ttft").ok());
  EXPECT_FALSE(ParseSlo("ttft=5min").ok());
  EXPECT_FALSE(ParseSlo("latency=5ms").ok());
}

RequestRecord Ok(double ttft, double e2e, int64_t tokens, int turn = 0) {
  RequestRecord r;
  r.ttft_s = ttft;
  r.e2e_s = e2e;
  r.output_tokens = tokens;
  r.turn = turn;
  return r;
}

TEST(RecorderTest, ReportCountsThroughputGoodputAndTurns) {
  Slo slo = *ParseSlo("ttft=500ms,tpot=50ms");
  Recorder rec(slo);
  rec.Add(Ok(0.1, 1.0, 10, 1));   // tpot 0.1 s: misses the tpot SLO
  rec.Add(Ok(0.2, 0.65, 10, 2));  // tpot 0.05 s: good
  rec.Add(Ok(0.9, 1.0, 3, 1));    // ttft misses
  RequestRecord failed;
  failed.error = "http_503";
  failed.error_detail = "draining";
  rec.Add(failed);
  Recorder::Progress p = rec.Snapshot();
  EXPECT_EQ(p.completed, 4u);
  EXPECT_EQ(p.errors, 1u);
  EXPECT_EQ(p.output_tokens, 23);

  nlohmann::json j = nlohmann::json::parse(rec.MeasurementsJson(2.0));
  EXPECT_EQ(j["requests"], 4);
  EXPECT_EQ(j["successes"], 3);
  EXPECT_EQ(j["errors_by_kind"]["http_503"], 1);
  EXPECT_EQ(j["error_examples"]["http_503"], "draining");
  EXPECT_DOUBLE_EQ(j["output_tokens_per_s"].get<double>(), 11.5);
  EXPECT_DOUBLE_EQ(j["requests_per_s"].get<double>(), 1.5);
  EXPECT_EQ(j["ttft_ms"]["count"], 3);
  EXPECT_NEAR(j["ttft_ms"]["max"].get<double>(), 900.0, 1e-6);
  EXPECT_EQ(j["goodput"]["good_requests"], 1);
  EXPECT_DOUBLE_EQ(j["goodput"]["goodput_requests_per_s"].get<double>(), 0.5);
  ASSERT_EQ(j["ttft_ms_by_turn"].size(), 2u);
  EXPECT_EQ(j["ttft_ms_by_turn"][0]["turn"], 1);
  EXPECT_EQ(j["ttft_ms_by_turn"][0]["count"], 2);
  EXPECT_EQ(j["ttft_ms_by_turn"][1]["turn"], 2);
  for (const char* metric : {"ttft_ms", "tpot_ms", "e2e_ms"}) {
    const auto& m = j[metric];
    EXPECT_LE(m["min"].get<double>(), m["p50"].get<double>()) << metric;
    EXPECT_LE(m["p50"].get<double>(), m["p99"].get<double>()) << metric;
    EXPECT_LE(m["p99"].get<double>(), m["max"].get<double>()) << metric;
  }
}

}  // namespace
}  // namespace dte::bench
