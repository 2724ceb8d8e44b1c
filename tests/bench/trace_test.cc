// Trace replay: the first lines of both real traces parse into offsets and lengths, scaling
// works, prompts have the scaled token (word) counts, and Mooncake's hash ids become shared
// prompt text.
#include "bench/trace.h"

#include <gtest/gtest.h>

#include <sstream>

namespace dte::bench {
namespace {

const std::string kTraces = std::string(DTE_SHARED_DIR) + "/traces/";

int64_t Words(const std::string& s) {
  std::istringstream in(s);
  int64_t n = 0;
  std::string w;
  while (in >> w) ++n;
  return n;
}

TEST(TraceTest, ParsesTheFirstLinesOfTheAzureTrace) {
  Result<std::vector<TraceRequest>> t = LoadTrace(kTraces + "AzureLLMInferenceTrace_conv.csv", 200);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 200u);
  // The file's first rows: 18:15:46.6805900,374,44 then 18:15:50.9951690,396,109.
  EXPECT_DOUBLE_EQ((*t)[0].at_s, 0);
  EXPECT_EQ((*t)[0].input_tokens, 374);
  EXPECT_EQ((*t)[0].output_tokens, 44);
  EXPECT_NEAR((*t)[1].at_s, 4.314579, 1e-5);
  EXPECT_EQ((*t)[1].input_tokens, 396);
  EXPECT_EQ((*t)[1].output_tokens, 109);
  for (size_t i = 1; i < t->size(); ++i) EXPECT_GE((*t)[i].at_s, (*t)[i - 1].at_s);
  EXPECT_TRUE((*t)[0].hash_ids.empty());
}

TEST(TraceTest, ParsesTheFirstLinesOfTheMooncakeTrace) {
  Result<std::vector<TraceRequest>> t = LoadTrace(kTraces + "mooncake_synthetic_trace.jsonl", 50);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 50u);
  EXPECT_EQ((*t)[0].input_tokens, 40160);
  EXPECT_EQ((*t)[0].output_tokens, 6);
  ASSERT_EQ((*t)[0].hash_ids.size(), 79u);  // ceil(40160 / 512)
  EXPECT_EQ((*t)[0].hash_ids[78], 78u);
  EXPECT_DOUBLE_EQ((*t)[2].at_s, 0.040);  // timestamps are milliseconds
  for (const TraceRequest& r : *t) {
    EXPECT_EQ(static_cast<int64_t>(r.hash_ids.size()),
              (r.input_tokens + kMooncakeBlockTokens - 1) / kMooncakeBlockTokens);
  }
}

TEST(TraceTest, RejectsMalformedLines) {
  EXPECT_FALSE(ParseAzureCsv("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,1,2\n").ok());
  EXPECT_FALSE(ParseAzureCsv("2023-11-16 18:15:46.68,x,2\n").ok());
  EXPECT_FALSE(ParseMooncakeJsonl("{\"timestamp\": 1}\n").ok());
  EXPECT_FALSE(ParseMooncakeJsonl("[1,2]\n").ok());
  EXPECT_FALSE(LoadTrace("/nonexistent.csv").ok());
  Result<std::vector<TraceRequest>> day = ParseAzureCsv(
      "2023-12-31 23:59:59.5,10,1\n2024-01-01 00:00:00.25,10,1\n");  // across a year's end
  ASSERT_TRUE(day.ok());
  EXPECT_NEAR((*day)[1].at_s, 0.75, 1e-6);
}

TEST(TraceTest, ScalesTimeAndLengthAndSynthesizesPrompts) {
  TraceRequest r;
  r.at_s = 10;
  r.input_tokens = 400;
  r.output_tokens = 50;
  TraceOptions o;
  o.time_scale = 0.1;
  o.length_scale = 0.5;
  PlannedRequest p = ReplayRequest(r, o, 3);
  EXPECT_DOUBLE_EQ(p.at_s, 1.0);
  EXPECT_EQ(p.max_tokens, 25);
  EXPECT_EQ(Words(p.prompt), 200);
  EXPECT_NE(ReplayRequest(r, o, 4).prompt, p.prompt);  // each request its own text
  r.output_tokens = 1;
  o.length_scale = 0.01;
  EXPECT_EQ(ReplayRequest(r, o, 3).max_tokens, 1);  // never below one token
}

TEST(TraceTest, MooncakeHashIdsBecomeSharedPrefixes) {
  TraceOptions o;
  o.length_scale = 1.0 / 64;  // 512-token blocks become 8 words
  TraceRequest a, b;
  a.input_tokens = 3 * 512;
  a.hash_ids = {1, 2, 3};
  b.input_tokens = 3 * 512 - 100;
  b.hash_ids = {1, 2, 9};
  const std::string pa = ReplayRequest(a, o, 0).prompt, pb = ReplayRequest(b, o, 1).prompt;
  EXPECT_EQ(Words(pa), 24);
  EXPECT_EQ(Words(pb), 22);  // 1436 tokens / 64
  size_t common = 0;
  while (common < pa.size() && common < pb.size() && pa[common] == pb[common]) ++common;
  // Blocks 1 and 2 (16 words) are shared; block 3 vs 9 differ.
  std::istringstream in(pa.substr(0, common));
  int64_t shared_words = 0;
  std::string w;
  while (in >> w) ++shared_words;
  EXPECT_GE(shared_words, 16);
  EXPECT_LT(shared_words, 20);
}

TEST(TraceTest, SourceReplaysInOrderWithScaledDuration) {
  Result<std::vector<TraceRequest>> t = LoadTrace(kTraces + "AzureLLMInferenceTrace_conv.csv", 20);
  ASSERT_TRUE(t.ok());
  const double last = t->back().at_s;
  TraceOptions o;
  o.time_scale = 0.01;
  std::unique_ptr<RequestSource> source = TraceSource(*t, o);
  EXPECT_NEAR(source->DurationS(), last * 0.01, 0.01);
  int n = 0;
  double previous = -1;
  while (std::optional<PlannedRequest> p = source->Next()) {
    EXPECT_GE(p->at_s, previous);
    previous = p->at_s;
    ++n;
  }
  EXPECT_EQ(n, 20);
}

}  // namespace
}  // namespace dte::bench
