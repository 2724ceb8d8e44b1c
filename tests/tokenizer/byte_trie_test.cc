#include "tokenizer/byte_trie.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "base/mapped_file.h"
#include "tokenizer/world_vocab.h"
#include "tokenizer_test_util.h"

namespace dte {
namespace {

TEST(ByteTrieTest, EmptyTrieMatchesNothing) {
  ByteTrie empty;
  EXPECT_EQ(empty.LongestPrefix("abc").id, -1);
  std::vector<std::string> keys = {"", ""};
  ByteTrie built = ByteTrie::Build(keys);
  EXPECT_EQ(built.LongestPrefix("abc").id, -1);
  EXPECT_EQ(built.LongestPrefix("").length, 0);
}

TEST(ByteTrieTest, FindsLongestPrefix) {
  std::vector<std::string> keys = {"", "a", "ab", "abcd", "b", std::string("\x00\xff", 2)};
  ByteTrie trie = ByteTrie::Build(keys);
  auto m = trie.LongestPrefix("abcz");  // "abc" is only a path, not a key
  EXPECT_EQ(m.id, 2);
  EXPECT_EQ(m.length, 2);
  m = trie.LongestPrefix("abcd!");
  EXPECT_EQ(m.id, 3);
  EXPECT_EQ(m.length, 4);
  EXPECT_EQ(trie.LongestPrefix("zz").id, -1);
  EXPECT_EQ(trie.LongestPrefix(std::string("\x00\xff\x01", 3)).id, 5);
  EXPECT_EQ(trie.LongestPrefix(std::string("\x00", 1)).id, -1);
}

TEST(ByteTrieTest, DuplicateKeysMatchLowestId) {
  std::vector<std::string> keys = {"x", "dup", "y", "dup"};
  ByteTrie trie = ByteTrie::Build(keys);
  EXPECT_EQ(trie.LongestPrefix("dup").id, 1);
}

TEST(ByteTrieTest, AllSingleBytes) {
  std::vector<std::string> keys;
  for (int b = 0; b < 256; ++b) keys.emplace_back(1, static_cast<char>(b));
  ByteTrie trie = ByteTrie::Build(keys);
  for (int b = 0; b < 256; ++b) {
    auto m = trie.LongestPrefix(std::string(1, static_cast<char>(b)));
    EXPECT_EQ(m.id, b);
    EXPECT_EQ(m.length, 1);
  }
}

TEST(ByteTrieTest, WorldVocabPacksDensely) {
  Result<std::string> text = ReadFileToString(testing::BundledWorldVocabPath());
  ASSERT_TRUE(text.ok());
  Result<std::vector<std::string>> tokens = ParseWorldVocab(*text, "world");
  ASSERT_TRUE(tokens.ok());
  ByteTrie trie = ByteTrie::Build(*tokens);
  // The World vocab has 116,078 distinct non-empty prefixes (trie nodes) plus the root; the
  // double array should waste little space around them.
  EXPECT_GE(trie.cell_count(), 116079u);
  EXPECT_LT(trie.cell_count(), 140000u);
  RecordProperty("cells", static_cast<int>(trie.cell_count()));
  for (size_t id = 1; id < tokens->size(); ++id) {
    ByteTrie::Match m = trie.LongestPrefix((*tokens)[id]);
    ASSERT_EQ(m.id, static_cast<int32_t>(id));
  }
}

// Differential test against a brute-force scan, over small alphabets so that keys share
// prefixes often (the interesting case for double-array placement).
RC_GTEST_PROP(ByteTrieProperty, MatchesBruteForce, ()) {
  const auto alphabet = *rc::gen::element(std::string("ab"), std::string("abc\x00", 4),
                                          std::string("\x00\x7f\x80\xff", 4));
  const auto gen_word = rc::gen::container<std::string>(rc::gen::elementOf(alphabet));
  const auto keys = *rc::gen::container<std::vector<std::string>>(gen_word);
  const auto text = *gen_word;
  ByteTrie trie = ByteTrie::Build(keys);
  int32_t best = -1;
  size_t best_len = 0;
  for (size_t id = 0; id < keys.size(); ++id) {
    const std::string& k = keys[id];
    if (!k.empty() && k.size() > best_len && text.compare(0, k.size(), k) == 0) {
      best = static_cast<int32_t>(id);
      best_len = k.size();
    }
  }
  ByteTrie::Match m = trie.LongestPrefix(text);
  RC_ASSERT(m.id == best);
  RC_ASSERT(static_cast<size_t>(m.length) == best_len);
}

}  // namespace
}  // namespace dte
