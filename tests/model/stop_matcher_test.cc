#include "model/stop_matcher.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "model/utf8_stream.h"

namespace dte {
namespace {

constexpr int32_t kTok = 100;  // an ordinary (non-stop) token id
const std::string kFffd(kReplacementChar);

// Feeds chunks in order; returns everything emitted (including Finish when no stop).
struct Streamed {
  std::string text;
  std::vector<std::string> steps;
  StopStep last;
};

Streamed Stream(StopMatcher& m, const std::vector<std::string>& chunks) {
  Streamed s;
  for (const std::string& chunk : chunks) {
    s.last = m.Feed(kTok, chunk);
    s.steps.emplace_back(s.last.text);
    s.text += s.last.text;
    if (s.last.stopped) return s;
  }
  s.last = m.Finish();
  s.steps.emplace_back(s.last.text);
  s.text += s.last.text;
  return s;
}

std::string Utf8All(const std::vector<std::string>& chunks, std::vector<std::string>* steps) {
  Utf8StreamBuffer buffer;
  std::string all;
  for (const std::string& chunk : chunks) {
    std::string out;
    buffer.Append(chunk, &out);
    if (steps) steps->push_back(out);
    all += out;
  }
  buffer.Flush(&all);
  return all;
}

TEST(Utf8StreamBufferTest, AsciiPassesThrough) {
  std::vector<std::string> steps;
  EXPECT_EQ(Utf8All({"Hello", ", ", "world"}, &steps), "Hello, world");
  EXPECT_EQ(steps, (std::vector<std::string>{"Hello", ", ", "world"}));
}

TEST(Utf8StreamBufferTest, HoldsSplitCharacters) {
  // "é" = C3 A9, "€" = E2 82 AC, "😀" = F0 9F 98 80.
  std::vector<std::string> steps;
  EXPECT_EQ(Utf8All({"a\xC3",
                     "\xA9"
                     "b\xE2",
                     "\x82", "\xAC\xF0\x9F", "\x98", "\x80!"},
                    &steps),
            "a\xC3\xA9"
            "b\xE2\x82\xAC\xF0\x9F\x98\x80!");
  EXPECT_EQ(steps, (std::vector<std::string>{"a",
                                             "\xC3\xA9"
                                             "b",
                                             "", "\xE2\x82\xAC", "", "\xF0\x9F\x98\x80!"}));
}

TEST(Utf8StreamBufferTest, EverySplitOfValidTextReassembles) {
  const std::string text = "x\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80y\xE4\xBD\xA0";
  for (size_t a = 0; a <= text.size(); ++a) {
    for (size_t b = a; b <= text.size(); ++b) {
      std::vector<std::string> steps;
      const std::string all =
          Utf8All({text.substr(0, a), text.substr(a, b - a), text.substr(b)}, &steps);
      EXPECT_EQ(all, text) << a << "," << b;
    }
  }
}

TEST(Utf8StreamBufferTest, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(Utf8All({"a\xFF"
                     "b"},
                    nullptr),
            "a" + kFffd + "b");
  EXPECT_EQ(Utf8All({"\x80"}, nullptr), kFffd);                          // stray continuation
  EXPECT_EQ(Utf8All({"\xC0\xAF"}, nullptr), kFffd + kFffd);              // overlong lead
  EXPECT_EQ(Utf8All({"\xE0\x80"}, nullptr), kFffd + kFffd);              // E0 needs A0..BF next
  EXPECT_EQ(Utf8All({"\xED\xA0\x80"}, nullptr), kFffd + kFffd + kFffd);  // surrogate
  EXPECT_EQ(Utf8All({"\xF4\x90"}, nullptr), kFffd + kFffd);              // above U+10FFFF
  EXPECT_EQ(Utf8All({"\xF0\x9F\x98", "x"}, nullptr), kFffd + "x");       // truncated, one U+FFFD
  EXPECT_EQ(Utf8All({"\xE2\x82"}, nullptr), kFffd);                      // incomplete at flush
  EXPECT_EQ(Utf8All({"\xC3\xC3\xA9"}, nullptr), kFffd + "\xC3\xA9");
}

TEST(StopMatcherTest, NoStopsPassesTextThrough) {
  StopMatcher m;
  const Streamed s = Stream(m, {"Hello", " world"});
  EXPECT_EQ(s.steps, (std::vector<std::string>{"Hello", " world", ""}));
  EXPECT_FALSE(s.last.stopped);
}

TEST(StopMatcherTest, StopTokenEndsWithoutItsBytes) {
  StopMatcher m({0, 261}, {});
  EXPECT_EQ(m.Feed(kTok, "Hi").text, "Hi");
  const StopStep step = m.Feed(261, "\n\n");
  EXPECT_TRUE(step.stopped);
  EXPECT_EQ(step.reason, StopReason::kToken);
  EXPECT_EQ(step.stop_token, 261);
  EXPECT_EQ(step.text, "");
  EXPECT_TRUE(m.stopped());
}

TEST(StopMatcherTest, StopTokenReleasesHeldText) {
  StopMatcher m({0}, {"\nUser:"});
  EXPECT_EQ(m.Feed(kTok, "ok\nUs").text, "ok");
  const StopStep step = m.Feed(0, "");
  EXPECT_TRUE(step.stopped);
  EXPECT_EQ(step.text, "\nUs");
}

TEST(StopMatcherTest, StopStringInsideOneToken) {
  StopMatcher m({}, {"\nUser:"});
  const Streamed s = Stream(m, {"Hello\nUser: more"});
  EXPECT_TRUE(s.last.stopped);
  EXPECT_EQ(s.last.reason, StopReason::kString);
  EXPECT_EQ(s.last.stop_string, 0);
  EXPECT_EQ(s.text, "Hello");
}

TEST(StopMatcherTest, StopStringAcrossTokens) {
  StopMatcher m({}, {"\nUser:"});
  const Streamed s = Stream(m, {"Hel", "lo\nUs", "er", ":", "never"});
  EXPECT_EQ(s.steps, (std::vector<std::string>{"Hel", "lo", "", ""}));
  EXPECT_TRUE(s.last.stopped);
  EXPECT_EQ(s.text, "Hello");
}

TEST(StopMatcherTest, FalseStartIsReleased) {
  StopMatcher m({}, {"\nUser:"});
  const Streamed s = Stream(m, {"a\nU", "x", "b"});
  EXPECT_EQ(s.steps, (std::vector<std::string>{"a", "\nUx", "b", ""}));
  EXPECT_FALSE(s.last.stopped);
}

TEST(StopMatcherTest, FinishReleasesHeldSuffix) {
  StopMatcher m({}, {"\nUser:"});
  const Streamed s = Stream(m, {"abc\nUs"});
  EXPECT_EQ(s.steps, (std::vector<std::string>{"abc", "\nUs"}));
}

TEST(StopMatcherTest, OverlappingPrefixes) {
  StopMatcher m({}, {"aab"});
  const Streamed s = Stream(m, {"a", "a", "a", "b"});
  EXPECT_TRUE(s.last.stopped);
  EXPECT_EQ(s.text, "a");
}

TEST(StopMatcherTest, EarliestStopStringWins) {
  StopMatcher m({}, {"cde", "bc"});
  const Streamed s = Stream(m, {"abcdef"});
  EXPECT_EQ(s.last.stop_string, 1);
  EXPECT_EQ(s.text, "a");
}

TEST(StopMatcherTest, MultibyteStopStringSplitInsideCharacter) {
  StopMatcher m({}, {"\xE3\x80\x82"});  // "。"
  const Streamed s = Stream(m, {"\xE4\xBD\xA0\xE5\xA5", "\xBD\xE3", "\x80", "\x82"});
  EXPECT_EQ(s.steps, (std::vector<std::string>{"\xE4\xBD\xA0", "\xE5\xA5\xBD", "", ""}));
  EXPECT_TRUE(s.last.stopped);
}

TEST(StopMatcherTest, PartialUtf8HeldWithoutStopStrings) {
  StopMatcher m;
  EXPECT_EQ(m.Feed(kTok, "caf\xC3").text, "caf");
  EXPECT_EQ(m.Feed(kTok, "\xA9!").text, "\xC3\xA9!");
  EXPECT_EQ(m.Feed(kTok, "\xE2\x82").text, "");
  EXPECT_EQ(m.Finish().text, kFffd);
}

TEST(StopMatcherTest, TextBeforeStopFlushesIncompleteUtf8) {
  StopMatcher m({}, {"END"});
  const Streamed s = Stream(m, {"x\xE2\x82", "END"});
  EXPECT_EQ(s.text, "x" + kFffd);
}

TEST(StopMatcherTest, FeedAfterStopIsInert) {
  StopMatcher m({}, {"!"});
  EXPECT_TRUE(m.Feed(kTok, "hi!").stopped);
  const StopStep step = m.Feed(kTok, "more");
  EXPECT_TRUE(step.stopped);
  EXPECT_EQ(step.text, "");
  m.Reset();
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.Feed(kTok, "again").text, "again");
}

TEST(StopMatcherTest, ValidateRejectsEmptyStopString) {
  const std::vector<std::string> ok = {"a", "\n\n"};
  EXPECT_TRUE(StopMatcher::Validate(ok).ok());
  const std::vector<std::string> bad = {"a", ""};
  const Status status = StopMatcher::Validate(bad);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("stop[1]"), std::string::npos);
}

// Random texts over a small alphabet cut at random points: the streamed output must equal the
// text before the first stop occurrence, and no step may emit a byte past it.
TEST(StopMatcherTest, RandomSplitsMatchReference) {
  const std::vector<std::string> stops = {"aba", "bb",
                                          "\xC3\xA9"
                                          "a"};
  const std::vector<std::string> alphabet = {"a", "b", "c", "\xC3\xA9"};
  std::mt19937 rng(11);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    const int len = 1 + rng() % 12;
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    size_t first = std::string::npos;
    for (const std::string& stop : stops) first = std::min(first, text.find(stop));
    const std::string expected = text.substr(0, first);

    std::vector<std::string> chunks;
    for (size_t i = 0; i < text.size();) {
      const size_t n = 1 + rng() % 4;
      chunks.push_back(text.substr(i, n));
      i += n;
    }
    StopMatcher m({}, stops);
    const Streamed s = Stream(m, chunks);
    ASSERT_EQ(s.text, expected) << "text " << text;
    EXPECT_EQ(s.last.stopped, first != std::string::npos);
  }
}

}  // namespace
}  // namespace dte
