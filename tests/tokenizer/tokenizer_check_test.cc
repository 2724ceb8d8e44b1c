#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace dte {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

// A stand-in with any size and kind (e.g. the 20B tokenizer, 50277 ids).
class FakeTokenizer final : public Tokenizer {
 public:
  FakeTokenizer(int64_t vocab, std::string kind) : vocab_(vocab), kind_(std::move(kind)) {}
  std::vector<int32_t> Encode(std::string_view) const override { return {}; }
  std::string Decode(std::span<const int32_t>) const override { return {}; }
  int64_t vocab_size() const override { return vocab_; }
  std::string_view kind() const override { return kind_; }

 private:
  int64_t vocab_;
  std::string kind_;
};

TEST(CheckTokenizerFitsModelTest, AcceptsMatchingPairs) {
  EXPECT_TRUE(CheckTokenizerFitsModel(*MakeByteTokenizer(), 256).ok());
  EXPECT_TRUE(CheckTokenizerFitsModel(testing::WorldTokenizer(), 65536).ok());
  EXPECT_TRUE(CheckTokenizerFitsModel(FakeTokenizer(65536, "gguf"), 65536).ok());
  EXPECT_TRUE(CheckTokenizerFitsModel(FakeTokenizer(50277, "20b"), 50277).ok());
  EXPECT_TRUE(CheckTokenizerFitsModel(FakeTokenizer(50277, "20b"), 50304).ok());  // padded rows
}

TEST(CheckTokenizerFitsModelTest, RefusesWorldVocabOnByteModel) {
  Status s = CheckTokenizerFitsModel(testing::WorldTokenizer(), 256);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("65530"), HasSubstr("256"), HasSubstr("world")));
}

TEST(CheckTokenizerFitsModelTest, RefusesByteTokenizerOnWorldModel) {
  Status s = CheckTokenizerFitsModel(*MakeByteTokenizer(), 65536);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), AllOf(HasSubstr("256"), HasSubstr("65536"), HasSubstr("byte")));
}

TEST(CheckTokenizerFitsModelTest, RefusesVocabLargerThanModel) {
  Status s = CheckTokenizerFitsModel(FakeTokenizer(65536, "gguf"), 65530);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), AllOf(HasSubstr("65536"), HasSubstr("65530")));
  // World vocab on a 20B (GPT-NeoX) model.
  s = CheckTokenizerFitsModel(testing::WorldTokenizer(), 50277);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), AllOf(HasSubstr("65530"), HasSubstr("50277")));
}

TEST(CheckTokenizerFitsModelTest, Refuses20BVocabOnWorldModel) {
  Status s = CheckTokenizerFitsModel(FakeTokenizer(50277, "20b"), 65536);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), AllOf(HasSubstr("50277"), HasSubstr("65536")));
}

TEST(CheckTokenizerFitsModelTest, RefusesByteTokenizerOnOtherSmallModels) {
  EXPECT_FALSE(CheckTokenizerFitsModel(*MakeByteTokenizer(), 300).ok());
  EXPECT_FALSE(CheckTokenizerFitsModel(*MakeByteTokenizer(), 255).ok());
  EXPECT_FALSE(CheckTokenizerFitsModel(*MakeByteTokenizer(), 0).ok());
  EXPECT_FALSE(CheckTokenizerFitsModel(FakeTokenizer(1000, "gguf"), 32000).ok());
}

}  // namespace
}  // namespace dte
