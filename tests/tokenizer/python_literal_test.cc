#include "tokenizer/python_literal.h"

#include <gtest/gtest.h>

namespace dte {
namespace {

std::string Parse(std::string_view literal) {
  Result<std::string> r = ParsePythonLiteral(literal);
  EXPECT_TRUE(r.ok()) << literal << ": " << r.status().ToString();
  return r.ok() ? r.value() : std::string();
}

// Expected bytes below are what Python 3 gives for each literal (str.encode("utf-8") for str).
TEST(PythonLiteralTest, StrLiterals) {
  EXPECT_EQ(Parse("'abc'"), "abc");
  EXPECT_EQ(Parse("\"'\""), "'");
  EXPECT_EQ(Parse("'\\''"), "'");
  EXPECT_EQ(Parse("'\"'"), "\"");
  EXPECT_EQ(Parse("'\\n\\t\\r\\\\'"), "\n\t\r\\");
  EXPECT_EQ(Parse("'\\a\\b\\f\\v'"), "\a\b\f\v");
  EXPECT_EQ(Parse("'\\x00'"), std::string(1, '\0'));
  EXPECT_EQ(Parse("'\\x80'"), "\xc2\x80");  // a code point in str, not a byte
  EXPECT_EQ(Parse("'\\u2002'"), "\xe2\x80\x82");
  EXPECT_EQ(Parse("'\\U0001F680'"), "🚀");
  EXPECT_EQ(Parse("'\\101\\0'"), std::string("A\0", 2));  // octal
  EXPECT_EQ(Parse("'中文 ok'"), "中文 ok");
  EXPECT_EQ(Parse("'\\q'"), "\\q");  // unknown escape keeps its backslash
  EXPECT_EQ(Parse("''"), "");
}

TEST(PythonLiteralTest, BytesLiterals) {
  EXPECT_EQ(Parse("b'\\x80'"), "\x80");
  EXPECT_EQ(Parse("b'\\xff\\xFE'"), "\xff\xfe");
  EXPECT_EQ(Parse("b\"it's\""), "it's");
  EXPECT_EQ(Parse("b'\\u2002'"), "\\u2002");  // not an escape in bytes
  EXPECT_EQ(Parse("b'\\377'"), "\xff");
  EXPECT_EQ(Parse("B'x'"), "x");
}

TEST(PythonLiteralTest, RejectsMalformed) {
  for (std::string_view bad : {
           "",               // nothing
           "abc",            // no quotes
           "'abc",           // unterminated
           "'abc'x",         // trailing text
           "'a'b'",          // unescaped quote inside
           "'\\'",           // the backslash eats the closing quote
           "'\\x4'",         // short \x
           "'\\xZZ'",        // bad hex
           "'\\u12'",        // short \u
           "'\\U00110000'",  // past U+10FFFF
           "'\\ud800'",      // lone surrogate: Python cannot encode it as UTF-8
           "b'中'",          // non-ASCII in bytes
           "b'\\777'",       // octal past a byte
           "'''a'''",        // triple quotes
           "r'a'",           // raw prefix
           "'\xff'",         // invalid UTF-8 in a str literal
           "'\\N{DASH}'",    // named escapes
       }) {
    EXPECT_FALSE(ParsePythonLiteral(bad).ok()) << "accepted `" << bad << "`";
  }
}

}  // namespace
}  // namespace dte
