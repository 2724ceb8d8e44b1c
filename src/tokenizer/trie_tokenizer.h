#pragma once
// The tokenizer behind RWKV World and GGUF token lists: every id owns a byte string and Encode
// takes, at each position, the longest token whose bytes start there (greedy, over raw bytes,
// as BlinkDL's reference TRIE_TOKENIZER does). Internal to the tokenizer layer: the rest of the
// code goes through LoadWorldTokenizer / MakeTokenListTokenizer in tokenizer.h.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/tokenizer.h"

namespace dte {

// tokens[id] is the byte string of `id`. Empty entries (end-of-text, control, padding) are
// never produced by Encode and decode to nothing. Refused unless every single byte 0x00..0xFF
// is some token, since otherwise Encode could meet text it cannot represent.
// `kind` is what Tokenizer::kind() reports ("world" or "gguf").
Result<std::unique_ptr<Tokenizer>> MakeTrieTokenizer(const std::vector<std::string>& tokens,
                                                     std::string_view kind);

}  // namespace dte
