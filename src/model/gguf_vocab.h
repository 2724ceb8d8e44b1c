#pragma once
// Token lists as RWKV GGUF files store them (tokenizer.ggml.model "rwkv"): each token's bytes
// written as Python writes a bytes literal without its b'...' (llama.cpp's converter stores
// `repr(token)[2:-1]`, see tokenizer/rwkv_token_escape.h), with a token type per id.
// Pure functions; thread-safe.
//
// In memory (ModelFile::vocab) a vocabulary is the raw bytes of each id. Ids that are not text
// (the World vocabulary's reserved id 0, padding ids past its end) are empty strings, so a
// tokenizer built from the list can never produce them from text; the GGUF writer stores them
// as llama.cpp's converter does ("<s>" CONTROL for id 0, "[PAD<id>]" UNUSED for the rest).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte {

// ggml's token types (tokenizer.ggml.token_type).
enum class GgufTokenType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

// The 256 one-byte tokens of the byte-level tiny models (token id = byte value).
std::vector<std::string> ByteVocab();

// The RWKV World vocabulary file (tokenizer/world_vocab.h) as bytes per id for a model with
// n_vocab ids (ids the file lacks are empty); refuses a file with ids past n_vocab.
Result<std::vector<std::string>> LoadWorldVocab(const std::string& path, int64_t n_vocab);

// The GGUF token strings and types for a vocabulary in memory (see above).
struct GgufTokenList {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
};
GgufTokenList ToGgufTokens(const std::vector<std::string>& vocab);
// The vocabulary in memory from GGUF strings and (optional, may be empty) types; a token that
// does not unescape is an error naming its id.
Result<std::vector<std::string>> FromGgufTokens(const std::vector<std::string>& tokens,
                                                const std::vector<int32_t>& types);

}  // namespace dte
