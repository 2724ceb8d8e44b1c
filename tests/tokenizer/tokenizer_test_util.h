#pragma once
// Shared helpers for the tokenizer tests: the bundled World vocab, loaded once, and rapidcheck
// generators for random UTF-8 text and random bytes.

#include <rapidcheck.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace dte::testing {

inline std::string BundledWorldVocabPath() {
  return std::string(DTE_SOURCE_DIR) + "/models/rwkv_vocab_v20230424.txt";
}

// Loaded once per test binary (tokenizers are immutable and thread-safe).
inline const Tokenizer& WorldTokenizer() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer(BundledWorldVocabPath());
    DTE_CHECK(t.ok(), t.status().ToString());
    return std::move(t).value();
  }();
  return *tokenizer;
}

// A code point from a mix of scripts (ASCII-heavy, like real prompts), never a surrogate.
inline rc::Gen<uint32_t> GenCodePoint() {
  return rc::gen::weightedOneOf<uint32_t>({
      {8, rc::gen::inRange<uint32_t>(0x20, 0x7F)},  // printable ASCII
      {2, rc::gen::element(uint32_t{'\n'}, uint32_t{'\t'}, uint32_t{'\r'}, uint32_t{' '})},
      {1, rc::gen::inRange<uint32_t>(0x00, 0x20)},        // control characters, NUL included
      {2, rc::gen::inRange<uint32_t>(0x80, 0x800)},       // Latin, Greek, Cyrillic, Hebrew, Arabic
      {3, rc::gen::inRange<uint32_t>(0x3040, 0x3100)},    // kana
      {4, rc::gen::inRange<uint32_t>(0x4E00, 0xA000)},    // CJK ideographs
      {1, rc::gen::inRange<uint32_t>(0xAC00, 0xD7A4)},    // Hangul
      {1, rc::gen::inRange<uint32_t>(0xE000, 0x10000)},   // private use .. specials
      {2, rc::gen::inRange<uint32_t>(0x1F300, 0x1FB00)},  // emoji
      {1, rc::gen::inRange<uint32_t>(0x10000, 0x110000)},
  });
}

inline rc::Gen<std::string> GenUtf8String() {
  return rc::gen::map(rc::gen::container<std::vector<uint32_t>>(GenCodePoint()),
                      [](const std::vector<uint32_t>& cps) {
                        std::string s;
                        for (uint32_t cp : cps) AppendUtf8(cp, &s);
                        return s;
                      });
}

inline rc::Gen<std::string> GenByteString() {
  return rc::gen::map(
      rc::gen::container<std::vector<uint8_t>>(rc::gen::arbitrary<uint8_t>()),
      [](const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); });
}

// Reference greedy longest match, written as plainly as possible (quadratic; tests only).
inline std::vector<int32_t> NaiveGreedyEncode(const std::vector<std::string>& tokens,
                                              const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos < text.size()) {
    int32_t best = -1;
    size_t best_len = 0;
    for (size_t id = 0; id < tokens.size(); ++id) {
      const std::string& t = tokens[id];
      if (t.size() > best_len && text.compare(pos, t.size(), t) == 0) {
        best = static_cast<int32_t>(id);
        best_len = t.size();
      }
    }
    if (best < 0) return {};  // no token for this byte
    ids.push_back(best);
    pos += best_len;
  }
  return ids;
}

}  // namespace dte::testing
