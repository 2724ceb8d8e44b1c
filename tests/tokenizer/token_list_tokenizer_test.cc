#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tokenizer/rwkv_token_escape.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace dte {
namespace {

using ::testing::HasSubstr;

// A GGUF-like list: "<s>" control token at 0 (passed as empty), bytes at 1..256, then words.
std::vector<std::string> SmallList() {
  std::vector<std::string> tokens = {""};
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  for (const char* w : {"th", "the", "there", " the", "\n\n", "ab", "abc"}) tokens.push_back(w);
  return tokens;
}

TEST(TokenListTokenizerTest, GreedyLongestMatch) {
  auto t = MakeTokenListTokenizer(SmallList());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->kind(), "gguf");
  EXPECT_EQ((*t)->vocab_size(), 264);
  // "there" (259), " the" (260), "\n\n" (261), "ab" (262) + "d" (byte 'd' = id 101)
  EXPECT_EQ((*t)->Encode("there the\n\nabd"), (std::vector<int32_t>{259, 260, 261, 262, 'd' + 1}));
  const std::vector<int32_t> ids = {0, 258, 263};
  EXPECT_EQ((*t)->Decode(ids), "theabc");  // id 0 has no bytes
}

TEST(TokenListTokenizerTest, EmptyEntriesAreNeverProduced) {
  std::vector<std::string> tokens = SmallList();
  tokens.push_back("");  // padding
  tokens.push_back("");
  auto t = MakeTokenListTokenizer(tokens);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->vocab_size(), 266);
  for (int32_t id : (*t)->Encode("the end")) EXPECT_NE(id, 0);
}

TEST(TokenListTokenizerTest, DuplicateBytesEncodeToLowestId) {
  std::vector<std::string> tokens = SmallList();
  tokens.push_back("the");  // a second "the" at id 264
  auto t = MakeTokenListTokenizer(tokens);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->Encode("the"), (std::vector<int32_t>{258}));
  const std::vector<int32_t> ids = {264};
  EXPECT_EQ((*t)->Decode(ids), "the");
}

TEST(TokenListTokenizerTest, RefusesListWithoutAllSingleBytes) {
  std::vector<std::string> tokens = SmallList();
  tokens[0x41 + 1] = "";  // no token for 'A'
  auto t = MakeTokenListTokenizer(tokens);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(t.status().message(), HasSubstr("0x41"));
  EXPECT_FALSE(MakeTokenListTokenizer({}).ok());
}

// The path a GGUF file takes: World tokens escaped as llama.cpp stores them, unescaped on load,
// must tokenize exactly like the World tokenizer.
TEST(TokenListTokenizerTest, EscapedWorldListMatchesWorldTokenizer) {
  const Tokenizer& world = testing::WorldTokenizer();
  std::vector<std::string> tokens = {""};  // "<s>" in llama.cpp's files
  for (int32_t id = 1; id < world.vocab_size(); ++id) {
    const std::vector<int32_t> one = {id};
    Result<std::string> raw = UnescapeRwkvToken(EscapeRwkvToken(world.Decode(one)));
    ASSERT_TRUE(raw.ok());
    tokens.push_back(*raw);
  }
  while (tokens.size() < 65536) tokens.push_back("");  // padding rows
  auto list = MakeTokenListTokenizer(std::move(tokens));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ((*list)->vocab_size(), 65536);
  const std::string text = "Hello 世界 🚀\n\nfn main() {}\xff";
  EXPECT_EQ((*list)->Encode(text), world.Encode(text));
}

// Differential: random token lists against the brute-force greedy matcher.
RC_GTEST_PROP(TokenListTokenizerProperty, MatchesNaiveGreedy, ()) {
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.emplace_back(1, static_cast<char>(b));
  const auto gen_word = rc::gen::container<std::string>(rc::gen::elementOf(std::string("abc\n")));
  const auto extra = *rc::gen::container<std::vector<std::string>>(gen_word);
  tokens.insert(tokens.end(), extra.begin(), extra.end());
  const std::string text = *gen_word;
  auto t = MakeTokenListTokenizer(tokens);
  RC_ASSERT(t.ok());
  RC_ASSERT((*t)->Encode(text) == testing::NaiveGreedyEncode(tokens, text));
}

}  // namespace
}  // namespace dte
