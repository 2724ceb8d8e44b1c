#pragma once
// Text <-> token ids. Every tokenizer maps ids to byte strings; Decode concatenates them, so a
// decoded piece may end inside a UTF-8 character (callers stream bytes, not characters).
// Immutable after construction; safe to share across threads.
//
// Related headers: rwkv_token_escape.h (the escaped token text stored in GGUF files),
// world_vocab.h (the World vocab file parser).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Any bytes (valid UTF-8 or not) encode, and Decode(Encode(text)) == text.
  virtual std::vector<int32_t> Encode(std::string_view text) const = 0;
  // Bytes of the tokens, concatenated. Ids out of range decode to nothing.
  virtual std::string Decode(std::span<const int32_t> ids) const = 0;
  // Number of ids the tokenizer can produce or decode (its highest id + 1).
  virtual int64_t vocab_size() const = 0;
  // "byte", "world", "gguf"
  virtual std::string_view kind() const = 0;
};

// Vocab 256: token id = byte value (the tiny test models).
std::unique_ptr<Tokenizer> MakeByteTokenizer();

// The RWKV World vocabulary file (lines `<id> <python str/bytes literal> <byte length>`);
// greedy longest byte match over a trie. Id 0 is end of text: never produced by Encode, decodes
// to nothing. vocab_size() is the highest id + 1 (65530 for rwkv_vocab_v20230424.txt).
// Errors: NotFound/IoError for the file, Corrupt naming the file and line for a malformed line.
Result<std::unique_ptr<Tokenizer>> LoadWorldTokenizer(const std::string& path);

// A token list as stored in a GGUF file (index = id, raw bytes per token: unescape GGUF's
// escaped RWKV tokens with UnescapeRwkvToken first), tokenized like World. Pass an empty string
// for ids that must never be produced by Encode (end of text, control and padding tokens such as
// llama.cpp's "<s>" at id 0); they decode to nothing. When several ids hold the same bytes,
// Encode produces the lowest. InvalidArgument unless every single byte 0x00..0xFF is a token.
Result<std::unique_ptr<Tokenizer>> MakeTokenListTokenizer(std::vector<std::string> tokens);

// Refuses a tokenizer whose ids do not fit the model's n_vocab (or that is clearly the wrong
// family: World vocab on a 256-token model, a byte or 20B-sized vocab on a 65536-row World
// model, ...), with a message naming both sizes.
Status CheckTokenizerFitsModel(const Tokenizer& tokenizer, int64_t model_n_vocab);

}  // namespace dte
