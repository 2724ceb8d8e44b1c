#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace dte {
namespace {

TEST(ByteTokenizerTest, IdIsByteValue) {
  auto t = MakeByteTokenizer();
  EXPECT_EQ(t->kind(), "byte");
  EXPECT_EQ(t->vocab_size(), 256);
  std::string text("\"in\x00\xff", 5);
  EXPECT_EQ(t->Encode(text), (std::vector<int32_t>{34, 105, 110, 0, 255}));
  EXPECT_TRUE(t->Encode("").empty());
}

TEST(ByteTokenizerTest, DecodeSkipsOutOfRangeIds) {
  auto t = MakeByteTokenizer();
  std::vector<int32_t> ids = {104, -1, 256, 105, 70000};
  EXPECT_EQ(t->Decode(ids), "hi");
}

RC_GTEST_PROP(ByteTokenizerProperty, RoundTripsUtf8, ()) {
  static const auto t = MakeByteTokenizer();
  const std::string s = *testing::GenUtf8String();
  RC_ASSERT(t->Decode(t->Encode(s)) == s);
}

RC_GTEST_PROP(ByteTokenizerProperty, RoundTripsBytes, ()) {
  static const auto t = MakeByteTokenizer();
  const std::string s = *testing::GenByteString();
  std::vector<int32_t> ids = t->Encode(s);
  RC_ASSERT(ids.size() == s.size());
  RC_ASSERT(t->Decode(ids) == s);
}

}  // namespace
}  // namespace dte
