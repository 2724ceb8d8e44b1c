#include "tokenizer/world_vocab.h"

#include <charconv>
#include <string>
#include <unordered_map>

#include "base/mapped_file.h"
#include "tokenizer/python_literal.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/trie_tokenizer.h"

namespace dte {
namespace {

constexpr std::string_view kLineFormat = "`<id> <python str or bytes literal> <byte length>`";

// A non-negative decimal with nothing else around it.
bool ParseDecimal(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 12) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

std::string Shorten(std::string_view s) {
  constexpr size_t kMax = 60;
  return s.size() <= kMax ? std::string(s) : std::string(s.substr(0, kMax)) + "...";
}

struct Entry {
  int64_t id;
  std::string bytes;
};

// Parses one non-blank line; errors say what was expected, without the location prefix.
Result<Entry> ParseLine(std::string_view line) {
  const size_t first_space = line.find(' ');
  const size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    return Status::Corrupt("expected " + std::string(kLineFormat) + ", got `" + Shorten(line) +
                           "`");
  }
  Entry e;
  std::string_view id_text = line.substr(0, first_space);
  if (!ParseDecimal(id_text, &e.id)) {
    return Status::Corrupt("expected a decimal token id, got `" + Shorten(id_text) + "`");
  }
  if (e.id == 0) return Status::Corrupt("id 0 is reserved for end of text");
  if (e.id > kMaxWorldVocabId) {
    return Status::Corrupt("token id " + std::to_string(e.id) + " is past the limit " +
                           std::to_string(kMaxWorldVocabId));
  }
  std::string_view length_text = line.substr(last_space + 1);
  int64_t declared = 0;
  if (!ParseDecimal(length_text, &declared)) {
    return Status::Corrupt("expected a decimal byte length at the end of the line, got `" +
                           Shorten(length_text) + "`");
  }
  std::string_view literal = line.substr(first_space + 1, last_space - first_space - 1);
  Result<std::string> bytes = ParsePythonLiteral(literal);
  if (!bytes.ok()) {
    return Status::Corrupt("bad python literal `" + Shorten(literal) +
                           "`: " + bytes.status().message());
  }
  if (static_cast<int64_t>(bytes->size()) != declared) {
    return Status::Corrupt("declared byte length " + std::to_string(declared) +
                           " but the literal `" + Shorten(literal) + "` is " +
                           std::to_string(bytes->size()) + " bytes");
  }
  if (bytes->empty()) return Status::Corrupt("empty token");
  e.bytes = std::move(bytes).value();
  return e;
}

}  // namespace

Result<std::vector<std::string>> ParseWorldVocab(std::string_view text, std::string_view source) {
  std::vector<std::string> tokens;
  std::vector<int64_t> line_of_id;  // 0 = id not seen yet
  std::unordered_map<std::string, int64_t> id_of_bytes;
  id_of_bytes.reserve(1 << 17);
  int64_t line_number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

    auto where = [&] { return std::string(source) + ":" + std::to_string(line_number); };
    Result<Entry> entry = ParseLine(line);
    if (!entry.ok()) return entry.status().WithPrefix(where());
    const int64_t id = entry->id;
    if (id >= static_cast<int64_t>(tokens.size())) {
      tokens.resize(id + 1);
      line_of_id.resize(id + 1, 0);
    }
    if (line_of_id[id] != 0) {
      return Status::Corrupt(where() + ": duplicate token id " + std::to_string(id) +
                             " (first on line " + std::to_string(line_of_id[id]) + ")");
    }
    auto [it, inserted] = id_of_bytes.emplace(entry->bytes, id);
    if (!inserted) {
      return Status::Corrupt(where() + ": token " + std::to_string(id) +
                             " has the same bytes as token " + std::to_string(it->second));
    }
    line_of_id[id] = line_number;
    tokens[id] = std::move(entry->bytes);
  }
  if (tokens.empty()) return Status::Corrupt(std::string(source) + ": no tokens");
  return tokens;
}

Result<std::unique_ptr<Tokenizer>> LoadWorldTokenizer(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  DTE_ASSIGN_OR_RETURN(std::vector<std::string> tokens, ParseWorldVocab(text, path));
  Result<std::unique_ptr<Tokenizer>> tokenizer = MakeTrieTokenizer(tokens, "world");
  if (!tokenizer.ok()) return tokenizer.status().WithPrefix(path);
  return tokenizer;
}

}  // namespace dte
