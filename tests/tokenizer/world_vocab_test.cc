#include "tokenizer/world_vocab.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/mapped_file.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer_test_util.h"

namespace dte {
namespace {

using ::testing::HasSubstr;

// The 256 single-byte tokens as World writes them (ids 1..256), so that small test vocabs pass
// the all-bytes check of the trie tokenizer.
std::string SingleByteLines() {
  std::string text;
  for (int b = 0; b < 256; ++b) {
    char line[32];
    std::snprintf(line, sizeof(line), "%d b'\\x%02x' 1\n", b + 1, b);
    text += line;
  }
  return text;
}

TEST(WorldVocabTest, ParsesStrAndBytesLines) {
  Result<std::vector<std::string>> r = ParseWorldVocab(
      "1 '\\n\\n' 2\n"
      "2 b'\\x80' 1\n"
      "3 \"'\" 1\n"
      "5 ' a b ' 5\r\n"  // spaces inside the literal; CRLF; id 4 unused
      "\n"
      "6 '中' 3",  // no final newline
      "test.txt");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<std::string>& tokens = *r;
  ASSERT_EQ(tokens.size(), 7u);
  EXPECT_EQ(tokens[0], "");
  EXPECT_EQ(tokens[1], "\n\n");
  EXPECT_EQ(tokens[2], "\x80");
  EXPECT_EQ(tokens[3], "'");
  EXPECT_EQ(tokens[4], "");
  EXPECT_EQ(tokens[5], " a b ");
  EXPECT_EQ(tokens[6], "中");
}

struct MalformedCase {
  const char* name;
  std::string text;
  int line;
  const char* expected;  // part of the message
};

class WorldVocabMalformedTest : public ::testing::TestWithParam<MalformedCase> {};

TEST_P(WorldVocabMalformedTest, IsCorruptNamingFileAndLine) {
  const MalformedCase& c = GetParam();
  Result<std::vector<std::string>> r = ParseWorldVocab(c.text, "vocab.txt");
  ASSERT_FALSE(r.ok()) << c.name;
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_THAT(r.status().message(), HasSubstr("vocab.txt:" + std::to_string(c.line) + ": "));
  EXPECT_THAT(r.status().message(), HasSubstr(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    Lines, WorldVocabMalformedTest,
    ::testing::Values(MalformedCase{"BadLiteral", "1 'a' 1\n2 'b 1\n", 2, "bad python literal"},
                      MalformedCase{"BadEscape", "1 '\\xZZ' 1\n", 1, "two hex digits"},
                      MalformedCase{"NotALiteral", "1 abc 3\n", 1, "bad python literal"},
                      MalformedCase{"WrongLength", "1 'a' 1\n2 'ab' 3\n", 2,
                                    "declared byte length 3 but the literal `'ab'` is 2 bytes"},
                      MalformedCase{"WrongLengthUtf8", "1 '中' 1\n", 1, "is 3 bytes"},
                      MalformedCase{"DuplicateId", "1 'a' 1\n2 'b' 1\n1 'c' 1\n", 3,
                                    "duplicate token id 1 (first on line 1)"},
                      MalformedCase{"DuplicateBytes", "1 'a' 1\n2 b'a' 1\n", 2,
                                    "same bytes as token 1"},
                      MalformedCase{"ReservedId0", "0 'a' 1\n", 1, "id 0 is reserved"},
                      MalformedCase{"NegativeId", "-1 'a' 1\n", 1, "decimal token id"},
                      MalformedCase{"HugeId", "99999999999 'a' 1\n", 1, "past the limit"},
                      MalformedCase{"MissingLength", "1 'a'\n", 1, "expected `<id> <python"},
                      MalformedCase{"LengthNotANumber", "1 'a' one\n", 1, "decimal byte length"},
                      MalformedCase{"OnlyId", "\n\n7\n", 3, "expected `<id>"},
                      MalformedCase{"EmptyToken", "1 '' 0\n", 1, "empty token"}),
    [](const ::testing::TestParamInfo<MalformedCase>& info) { return info.param.name; });

TEST(WorldVocabTest, EmptyFileIsCorrupt) {
  EXPECT_EQ(ParseWorldVocab("", "e.txt").status().code(), StatusCode::kCorrupt);
  EXPECT_EQ(ParseWorldVocab("\n \n", "e.txt").status().code(), StatusCode::kCorrupt);
}

// Garbage from a small alphabet of the characters that matter to the format: an error or a
// token list, never a crash (run under ASan/UBSan in the sanitizer build).
RC_GTEST_PROP(WorldVocabProperty, GarbageNeverCrashes, ()) {
  const std::string alphabet("0123 'b\"\\xuU\n\r\xe4\xb8\xad\xff");
  const std::string text = *rc::gen::container<std::string>(rc::gen::elementOf(alphabet));
  Result<std::vector<std::string>> r = ParseWorldVocab(text, "fuzz");
  if (!r.ok()) RC_ASSERT(r.status().code() == StatusCode::kCorrupt);
}

class TempFile {
 public:
  explicit TempFile(const std::string& contents) {
    char name[] = "/tmp/dte_world_vocab_test_XXXXXX";
    int fd = mkstemp(name);
    DTE_CHECK(fd >= 0, "mkstemp");
    close(fd);
    path_ = name;
    std::ofstream(path_, std::ios::binary) << contents;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(LoadWorldTokenizerTest, ErrorNamesThePathAndLine) {
  TempFile file(SingleByteLines() + "300 'ab' 3\n");
  Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer(file.path());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kCorrupt);
  EXPECT_THAT(t.status().message(), HasSubstr(file.path() + ":257: declared byte length 3"));
}

TEST(LoadWorldTokenizerTest, MissingFileIsNotFound) {
  Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer("/nonexistent/vocab.txt");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
}

TEST(LoadWorldTokenizerTest, RefusesVocabWithoutAllBytes) {
  TempFile file("1 'a' 1\n2 'b' 1\n");
  Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer(file.path());
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("no token for the single byte 0x00"));
}

TEST(LoadWorldTokenizerTest, SmallVocabWorks) {
  TempFile file(SingleByteLines() + "257 '\\n\\n' 2\n258 'hello' 5\n259 'hell' 4\n");
  Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer(file.path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ((*t)->kind(), "world");
  EXPECT_EQ((*t)->vocab_size(), 260);
  EXPECT_EQ((*t)->Encode("hello\n\nhells"), (std::vector<int32_t>{258, 257, 259, 's' + 1}));
}

TEST(LoadWorldTokenizerTest, BundledVocabMatchesSharedCopy) {
  // models/ ships an unmodified copy of the shared vocabulary.
  Result<std::string> bundled = ReadFileToString(testing::BundledWorldVocabPath());
  ASSERT_TRUE(bundled.ok());
  EXPECT_EQ(bundled->size(), 1093733u);
  Result<std::string> shared =
      ReadFileToString(std::string(DTE_SHARED_DIR) + "/tokenizers/rwkv_vocab_v20230424.txt");
  if (!shared.ok()) GTEST_SKIP() << "no shared dir: " << shared.status().ToString();
  EXPECT_TRUE(*bundled == *shared);
}

}  // namespace
}  // namespace dte
