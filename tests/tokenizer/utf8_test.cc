#include "tokenizer/utf8.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tokenizer_test_util.h"

namespace dte {
namespace {

TEST(Utf8Test, EncodesEachLength) {
  std::string s;
  AppendUtf8(0x41, &s);
  AppendUtf8(0xE9, &s);
  AppendUtf8(0x4E2D, &s);
  AppendUtf8(0x1F680, &s);
  EXPECT_EQ(s, "Aé中🚀");
}

TEST(Utf8Test, SequenceLengthRejectsIllFormed) {
  EXPECT_EQ(Utf8SequenceLength("中"), 3u);
  EXPECT_EQ(Utf8SequenceLength(""), 0u);
  EXPECT_EQ(Utf8SequenceLength("\x80"), 0u);              // lone continuation
  EXPECT_EQ(Utf8SequenceLength("\xc0\xaf"), 0u);          // overlong '/'
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\xaf"), 0u);      // overlong
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80"), 0u);      // surrogate U+D800
  EXPECT_EQ(Utf8SequenceLength("\xf4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(Utf8SequenceLength("\xe4\xb8"), 0u);          // truncated
  EXPECT_TRUE(IsValidUtf8("héllo 世界 🚀"));
  EXPECT_FALSE(IsValidUtf8("h\xffllo"));
}

RC_GTEST_PROP(Utf8Property, GeneratedStringsAreValid, ()) {
  RC_ASSERT(IsValidUtf8(*testing::GenUtf8String()));
}

}  // namespace
}  // namespace dte
