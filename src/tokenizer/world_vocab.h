#pragma once
// Reads the RWKV World vocabulary file (rwkv_vocab_v20230424.txt): one token per line,
// `<id> <python str or bytes literal> <byte length>`, e.g. `261 '\n\n' 2` or `129 b'\x80' 1`.
// A str literal stands for its UTF-8 bytes. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte {

// Ids above this are refused (a corrupt id must not make us allocate gigabytes).
inline constexpr int32_t kMaxWorldVocabId = (1 << 20) - 1;

// Parses the whole file text. Returns the token bytes indexed by id (size = highest id + 1);
// id 0 (end of text) and any unused ids are empty. Errors are Corrupt and read
// "<source>:<line>: <what was expected / found>". Refuses id 0, duplicate ids, duplicate
// token bytes and a declared length that differs from the literal's byte count. Blank lines and
// a trailing \r (CRLF files) are accepted.
Result<std::vector<std::string>> ParseWorldVocab(std::string_view text, std::string_view source);

}  // namespace dte
