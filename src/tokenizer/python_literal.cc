#include "tokenizer/python_literal.h"

#include <cstdint>
#include <optional>

#include "tokenizer/utf8.h"

namespace dte {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reads exactly `digits` hex digits at body[*pos]; advances *pos past them.
std::optional<uint32_t> ReadHex(std::string_view body, size_t* pos, int digits) {
  if (body.size() - *pos < static_cast<size_t>(digits)) return std::nullopt;
  uint32_t value = 0;
  for (int i = 0; i < digits; ++i) {
    int h = HexValue(body[*pos + i]);
    if (h < 0) return std::nullopt;
    value = value * 16 + static_cast<uint32_t>(h);
  }
  *pos += digits;
  return value;
}

// Appends a code point of a str literal as UTF-8. \xHH and octal escapes in a bytes literal are
// raw bytes instead, so they do not come through here.
Status AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp > 0x10FFFF) return Status::InvalidArgument("code point past U+10FFFF");
  if (cp >= 0xD800 && cp <= 0xDFFF) {
    return Status::InvalidArgument("lone surrogate (not encodable as UTF-8)");
  }
  AppendUtf8(cp, out);
  return Status::Ok();
}

// Handles the escape whose letter is body[*pos] (the backslash is already consumed).
Status ParseEscape(std::string_view body, size_t* pos, bool is_bytes, std::string* out) {
  if (*pos >= body.size()) return Status::InvalidArgument("literal ends in a lone backslash");
  char c = body[(*pos)++];
  switch (c) {
    case '\\':
      out->push_back('\\');
      return Status::Ok();
    case '\'':
      out->push_back('\'');
      return Status::Ok();
    case '"':
      out->push_back('"');
      return Status::Ok();
    case 'a':
      out->push_back('\a');
      return Status::Ok();
    case 'b':
      out->push_back('\b');
      return Status::Ok();
    case 'f':
      out->push_back('\f');
      return Status::Ok();
    case 'n':
      out->push_back('\n');
      return Status::Ok();
    case 'r':
      out->push_back('\r');
      return Status::Ok();
    case 't':
      out->push_back('\t');
      return Status::Ok();
    case 'v':
      out->push_back('\v');
      return Status::Ok();
    case 'x': {
      std::optional<uint32_t> v = ReadHex(body, pos, 2);
      if (!v) return Status::InvalidArgument("\\x needs two hex digits");
      if (is_bytes) {
        out->push_back(static_cast<char>(*v));
        return Status::Ok();
      }
      return AppendCodePoint(*v, out);
    }
    case 'u':
    case 'U': {
      if (is_bytes) break;  // not an escape in bytes: Python keeps the backslash
      int digits = c == 'u' ? 4 : 8;
      std::optional<uint32_t> v = ReadHex(body, pos, digits);
      if (!v) {
        return Status::InvalidArgument(std::string("\\") + c + " needs " + std::to_string(digits) +
                                       " hex digits");
      }
      return AppendCodePoint(*v, out);
    }
    case 'N':
      if (!is_bytes) return Status::Unsupported("\\N{...} escapes are not supported");
      break;
    default:
      if (c >= '0' && c <= '7') {
        uint32_t v = static_cast<uint32_t>(c - '0');
        for (int i = 0; i < 2 && *pos < body.size() && body[*pos] >= '0' && body[*pos] <= '7';
             ++i) {
          v = v * 8 + static_cast<uint32_t>(body[(*pos)++] - '0');
        }
        if (is_bytes) {
          if (v > 0xFF) return Status::InvalidArgument("octal escape past \\377 in bytes");
          out->push_back(static_cast<char>(v));
          return Status::Ok();
        }
        return AppendCodePoint(v, out);
      }
      break;
  }
  // Unknown escape: Python keeps both characters.
  out->push_back('\\');
  out->push_back(c);
  return Status::Ok();
}

}  // namespace

Result<std::string> ParsePythonLiteral(std::string_view literal) {
  size_t pos = 0;
  bool is_bytes = false;
  if (!literal.empty() && (literal[0] == 'b' || literal[0] == 'B')) {
    is_bytes = true;
    pos = 1;
  }
  if (pos >= literal.size() || (literal[pos] != '\'' && literal[pos] != '"')) {
    return Status::InvalidArgument("a literal starts with ', \" or b' (got `" +
                                   std::string(literal.substr(0, 8)) + "`)");
  }
  const char quote = literal[pos++];
  if (literal.size() - pos >= 2 && literal[pos] == quote && literal[pos + 1] == quote) {
    return Status::Unsupported("triple-quoted literals are not supported");
  }
  std::string out;
  out.reserve(literal.size());
  while (true) {
    if (pos >= literal.size()) return Status::InvalidArgument("unterminated literal");
    char c = literal[pos];
    if (c == quote) break;
    if (c == '\\') {
      ++pos;
      DTE_RETURN_IF_ERROR(ParseEscape(literal, &pos, is_bytes, &out));
      continue;
    }
    if (c == '\n' || c == '\r') return Status::InvalidArgument("newline inside a literal");
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x80) {
      out.push_back(c);
      ++pos;
      continue;
    }
    if (is_bytes) return Status::InvalidArgument("bytes literal holds a non-ASCII character");
    size_t len = Utf8SequenceLength(literal.substr(pos));
    if (len == 0) return Status::InvalidArgument("invalid UTF-8 inside a str literal");
    out.append(literal.substr(pos, len));
    pos += len;
  }
  ++pos;  // closing quote
  if (pos != literal.size()) {
    return Status::InvalidArgument("unexpected text after the closing quote: `" +
                                   std::string(literal.substr(pos)) + "`");
  }
  return out;
}

}  // namespace dte
