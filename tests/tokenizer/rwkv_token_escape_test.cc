#include "tokenizer/rwkv_token_escape.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "tokenizer_test_util.h"

namespace dte {
namespace {

// repr(bytes([i]))[2:-1] for i in 0..255, printed by Python 3.11 (the form llama.cpp's
// converter writes into GGUF files).
const char* const kPythonReprOfByte[256] = {
    "\\x00", "\\x01", "\\x02", "\\x03", "\\x04", "\\x05", "\\x06", "\\x07", "\\x08", "\\t",
    "\\n",   "\\x0b", "\\x0c", "\\r",   "\\x0e", "\\x0f", "\\x10", "\\x11", "\\x12", "\\x13",
    "\\x14", "\\x15", "\\x16", "\\x17", "\\x18", "\\x19", "\\x1a", "\\x1b", "\\x1c", "\\x1d",
    "\\x1e", "\\x1f", " ",     "!",     "\"",    "#",     "$",     "%",     "&",     "'",
    "(",     ")",     "*",     "+",     ",",     "-",     ".",     "/",     "0",     "1",
    "2",     "3",     "4",     "5",     "6",     "7",     "8",     "9",     ":",     ";",
    "<",     "=",     ">",     "?",     "@",     "A",     "B",     "C",     "D",     "E",
    "F",     "G",     "H",     "I",     "J",     "K",     "L",     "M",     "N",     "O",
    "P",     "Q",     "R",     "S",     "T",     "U",     "V",     "W",     "X",     "Y",
    "Z",     "[",     "\\\\",  "]",     "^",     "_",     "`",     "a",     "b",     "c",
    "d",     "e",     "f",     "g",     "h",     "i",     "j",     "k",     "l",     "m",
    "n",     "o",     "p",     "q",     "r",     "s",     "t",     "u",     "v",     "w",
    "x",     "y",     "z",     "{",     "|",     "}",     "~",     "\\x7f", "\\x80", "\\x81",
    "\\x82", "\\x83", "\\x84", "\\x85", "\\x86", "\\x87", "\\x88", "\\x89", "\\x8a", "\\x8b",
    "\\x8c", "\\x8d", "\\x8e", "\\x8f", "\\x90", "\\x91", "\\x92", "\\x93", "\\x94", "\\x95",
    "\\x96", "\\x97", "\\x98", "\\x99", "\\x9a", "\\x9b", "\\x9c", "\\x9d", "\\x9e", "\\x9f",
    "\\xa0", "\\xa1", "\\xa2", "\\xa3", "\\xa4", "\\xa5", "\\xa6", "\\xa7", "\\xa8", "\\xa9",
    "\\xaa", "\\xab", "\\xac", "\\xad", "\\xae", "\\xaf", "\\xb0", "\\xb1", "\\xb2", "\\xb3",
    "\\xb4", "\\xb5", "\\xb6", "\\xb7", "\\xb8", "\\xb9", "\\xba", "\\xbb", "\\xbc", "\\xbd",
    "\\xbe", "\\xbf", "\\xc0", "\\xc1", "\\xc2", "\\xc3", "\\xc4", "\\xc5", "\\xc6", "\\xc7",
    "\\xc8", "\\xc9", "\\xca", "\\xcb", "\\xcc", "\\xcd", "\\xce", "\\xcf", "\\xd0", "\\xd1",
    "\\xd2", "\\xd3", "\\xd4", "\\xd5", "\\xd6", "\\xd7", "\\xd8", "\\xd9", "\\xda", "\\xdb",
    "\\xdc", "\\xdd", "\\xde", "\\xdf", "\\xe0", "\\xe1", "\\xe2", "\\xe3", "\\xe4", "\\xe5",
    "\\xe6", "\\xe7", "\\xe8", "\\xe9", "\\xea", "\\xeb", "\\xec", "\\xed", "\\xee", "\\xef",
    "\\xf0", "\\xf1", "\\xf2", "\\xf3", "\\xf4", "\\xf5", "\\xf6", "\\xf7", "\\xf8", "\\xf9",
    "\\xfa", "\\xfb", "\\xfc", "\\xfd", "\\xfe", "\\xff",
};

TEST(RwkvTokenEscapeTest, SingleBytesMatchPythonRepr) {
  for (int b = 0; b < 256; ++b) {
    const std::string raw(1, static_cast<char>(b));
    EXPECT_EQ(EscapeRwkvToken(raw), kPythonReprOfByte[b]) << "byte " << b;
    Result<std::string> back = UnescapeRwkvToken(kPythonReprOfByte[b]);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, raw) << "byte " << b;
  }
}

TEST(RwkvTokenEscapeTest, QuotesFollowPythonRepr) {
  // Python picks " as the quote when the bytes hold ' but no ", and escapes only its quote.
  EXPECT_EQ(EscapeRwkvToken("'"), "'");        // repr: b"'"
  EXPECT_EQ(EscapeRwkvToken("it's"), "it's");  // repr: b"it's"
  EXPECT_EQ(EscapeRwkvToken("say \"hi\""), "say \"hi\"");
  EXPECT_EQ(EscapeRwkvToken("'\""), "\\'\"");  // repr: b'\'"'
  EXPECT_EQ(EscapeRwkvToken("\\'"), "\\\\'");  // repr: b"\\'"
  EXPECT_EQ(EscapeRwkvToken(std::string("a\\b\n\x00\xff\t\r", 8)), "a\\\\b\\n\\x00\\xff\\t\\r");
  EXPECT_EQ(EscapeRwkvToken("中"), "\\xe4\\xb8\\xad");
  EXPECT_EQ(EscapeRwkvToken("\n\n"), "\\n\\n");
}

TEST(RwkvTokenEscapeTest, UnescapeAcceptsUppercaseHexAndBothQuotes) {
  EXPECT_EQ(*UnescapeRwkvToken("\\xE4\\xb8\\xAD"), "中");
  EXPECT_EQ(*UnescapeRwkvToken("\\'\\\""), "'\"");
  EXPECT_EQ(*UnescapeRwkvToken(""), "");
}

TEST(RwkvTokenEscapeTest, UnescapeRejectsMalformed) {
  for (std::string_view bad : {"abc\\", "\\x4", "\\x", "\\xg0", "\\q", "ok\\x0"}) {
    Result<std::string> r = UnescapeRwkvToken(bad);
    EXPECT_FALSE(r.ok()) << "accepted `" << bad << "`";
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(RwkvTokenEscapeTest, WholeWorldVocabRoundTrips) {
  const Tokenizer& t = testing::WorldTokenizer();
  for (int32_t id = 0; id < t.vocab_size(); ++id) {
    const std::vector<int32_t> one = {id};
    const std::string raw = t.Decode(one);
    const std::string escaped = EscapeRwkvToken(raw);
    for (char c : escaped) {
      ASSERT_TRUE(c >= 0x20 && c < 0x7f) << "escaped token " << id << " is not printable ASCII";
    }
    Result<std::string> back = UnescapeRwkvToken(escaped);
    ASSERT_TRUE(back.ok()) << id;
    ASSERT_EQ(*back, raw) << id;
  }
}

RC_GTEST_PROP(RwkvTokenEscapeProperty, RoundTripsRandomBytes, ()) {
  const std::string raw = *testing::GenByteString();
  Result<std::string> back = UnescapeRwkvToken(EscapeRwkvToken(raw));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == raw);
}

RC_GTEST_PROP(RwkvTokenEscapeProperty, UnescapeNeverCrashes, ()) {
  // Arbitrary text from a file: either an error or some bytes, never a crash.
  const auto alphabet = std::string("\\xn'\"0aF9 \t");
  const std::string s = *rc::gen::container<std::string>(rc::gen::elementOf(alphabet));
  Result<std::string> r = UnescapeRwkvToken(s);
  if (r.ok()) RC_ASSERT(r->size() <= s.size());
}

}  // namespace
}  // namespace dte
