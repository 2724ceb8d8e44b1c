#include "tokenizer/rwkv_token_escape.h"

namespace dte {
namespace {

int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string EscapeRwkvToken(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Python's bytes repr quotes with " only when the bytes hold ' and no "; the chosen quote
  // character is the one that needs escaping.
  const bool has_single = bytes.find('\'') != std::string_view::npos;
  const bool has_double = bytes.find('"') != std::string_view::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(bytes.size() + 8);
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    if (ch == quote || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (b < 0x20 || b >= 0x7f) {
      out += "\\x";
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

Result<std::string> UnescapeRwkvToken(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    char c = escaped[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 >= escaped.size()) {
      return Status::InvalidArgument("escaped RWKV token ends in a lone backslash");
    }
    char e = escaped[++i];
    switch (e) {
      case '\\':
      case '\'':
      case '"':
        out.push_back(e);
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 'x': {
        int hi = i + 1 < escaped.size() ? HexDigitValue(escaped[i + 1]) : -1;
        int lo = i + 2 < escaped.size() ? HexDigitValue(escaped[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
          return Status::InvalidArgument("escaped RWKV token: \\x at offset " +
                                         std::to_string(i - 1) + " needs two hex digits");
        }
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default:
        return Status::InvalidArgument("escaped RWKV token: unknown escape \\" + std::string(1, e) +
                                       " at offset " + std::to_string(i - 1));
    }
  }
  return out;
}

}  // namespace dte
