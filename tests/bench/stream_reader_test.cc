// SseParser and ParseChunk: SSE framing split anywhere, and the chunk shapes of OpenAI,
// dte serve and llama-server.
#include "bench/stream_reader.h"

#include <gtest/gtest.h>

namespace dte::bench {
namespace {

TEST(SseParserTest, EventsSplitAtEveryByteBoundary) {
  const std::string stream =
      ": comment\n\ndata: {\"a\":1}\n\nevent: x\r\ndata: two\r\ndata: lines\r\n\r\ndata: "
      "[DONE]\n\n";
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseParser p;
    std::vector<std::string> got = p.Feed(stream.substr(0, cut));
    for (std::string& s : p.Feed(stream.substr(cut))) got.push_back(std::move(s));
    ASSERT_EQ(got.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(got[0], "{\"a\":1}");
    EXPECT_EQ(got[1], "two\nlines");
    EXPECT_EQ(got[2], "[DONE]");
    EXPECT_EQ(p.pending_bytes(), 0u);
  }
}

TEST(SseParserTest, IncompleteEventIsHeldBack) {
  SseParser p;
  EXPECT_TRUE(p.Feed("data: {\"x\"").empty());
  EXPECT_TRUE(p.Feed(":1}\n").empty());
  EXPECT_GT(p.pending_bytes(), 0u);
  EXPECT_EQ(p.Feed("\n"), std::vector<std::string>{"{\"x\":1}"});
}

TEST(ParseChunkTest, CompletionChatUsageDoneAndErrors) {
  EXPECT_TRUE(ParseChunk("[DONE]").done);
  EXPECT_EQ(ParseChunk(R"({"choices":[{"index":0,"text":"hello"}]})").content_bytes, 5u);
  EXPECT_EQ(
      ParseChunk(R"({"choices":[{"delta":{"role":"assistant","content":""}}]})").content_bytes, 0u);
  EXPECT_EQ(ParseChunk(R"({"choices":[{"delta":{"content":"abc"}}]})").content_bytes, 3u);
  EXPECT_EQ(ParseChunk(R"({"choices":[{"message":{"content":"whole"}}]})").content_bytes, 5u);
  ChunkInfo usage =
      ParseChunk(R"({"choices":[],"usage":{"completion_tokens":64,"prompt_tokens":9}})");
  ASSERT_TRUE(usage.completion_tokens.has_value());
  EXPECT_EQ(*usage.completion_tokens, 64);
  ChunkInfo err = ParseChunk(R"({"error":{"message":"queue full","type":"x"}})");
  ASSERT_TRUE(err.error.has_value());
  EXPECT_EQ(*err.error, "queue full");
  EXPECT_TRUE(ParseChunk("not json").malformed);
  EXPECT_TRUE(ParseChunk("[1,2]").malformed);
  EXPECT_FALSE(ParseChunk(R"({"choices":[{"delta":{"content":null}}],"usage":null})").malformed);
}

}  // namespace
}  // namespace dte::bench
