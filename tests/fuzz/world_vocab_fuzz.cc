// Fuzzes the RWKV World vocabulary: the in-memory parser (ParseWorldVocab) and the file
// loader that builds the trie tokenizer (LoadWorldTokenizer), then checks the tokenizer's
// promise Decode(Encode(text)) == text on text taken from the input.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/world_vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dte::fuzz::MemFile* file = new dte::fuzz::MemFile;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dte::Result<std::vector<std::string>> tokens = dte::ParseWorldVocab(text, "fuzz");
  if (!tokens.ok()) {
    dte::fuzz::CheckError(tokens.status());
  } else {
    if (tokens->empty() || !(*tokens)[0].empty())
      dte::fuzz::Fail("ParseWorldVocab: id 0 must exist and be empty");
    if (tokens->size() > static_cast<size_t>(dte::kMaxWorldVocabId) + 1)
      dte::fuzz::Fail("ParseWorldVocab returned more ids than kMaxWorldVocabId");
  }

  dte::Result<std::unique_ptr<dte::Tokenizer>> tokenizer =
      dte::LoadWorldTokenizer(file->Write(data, size));
  if (!tokenizer.ok()) {
    dte::fuzz::CheckError(tokenizer.status());
    return 0;
  }
  if (!tokens.ok()) dte::fuzz::Fail("LoadWorldTokenizer accepted what ParseWorldVocab refused");
  const dte::Tokenizer& tok = **tokenizer;
  // Text: the input's tail (often a mix of token bytes and literal syntax).
  const std::string_view sample = text.substr(size > 256 ? size - 256 : 0);
  std::vector<int32_t> ids = tok.Encode(sample);
  for (int32_t id : ids) {
    if (id <= 0 || id >= tok.vocab_size())
      dte::fuzz::Fail("Encode produced id " + std::to_string(id) + " (vocab " +
                      std::to_string(tok.vocab_size()) + ")");
  }
  if (tok.Decode(ids) != sample) dte::fuzz::Fail("Decode(Encode(text)) != text");
  return 0;
}
