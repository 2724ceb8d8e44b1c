#include "model/gguf_vocab.h"

#include "base/mapped_file.h"
#include "tokenizer/rwkv_token_escape.h"
#include "tokenizer/world_vocab.h"

namespace dte {

std::vector<std::string> ByteVocab() {
  std::vector<std::string> v(256);
  for (int b = 0; b < 256; ++b) v[b] = std::string(1, static_cast<char>(b));
  return v;
}

Result<std::vector<std::string>> LoadWorldVocab(const std::string& path, int64_t n_vocab) {
  DTE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  DTE_ASSIGN_OR_RETURN(std::vector<std::string> vocab, ParseWorldVocab(text, path));
  if (static_cast<int64_t>(vocab.size()) > n_vocab) {
    return Status::InvalidArgument("vocabulary '" + path + "' has ids up to " +
                                   std::to_string(vocab.size() - 1) + " but the model has " +
                                   std::to_string(n_vocab) + " tokens");
  }
  vocab.resize(static_cast<size_t>(n_vocab));
  return vocab;
}

GgufTokenList ToGgufTokens(const std::vector<std::string>& vocab) {
  GgufTokenList out;
  out.tokens.reserve(vocab.size());
  out.types.reserve(vocab.size());
  for (size_t id = 0; id < vocab.size(); ++id) {
    if (!vocab[id].empty()) {
      out.tokens.push_back(EscapeRwkvToken(vocab[id]));
      out.types.push_back(static_cast<int32_t>(GgufTokenType::kNormal));
    } else if (id == 0) {
      out.tokens.push_back("<s>");
      out.types.push_back(static_cast<int32_t>(GgufTokenType::kControl));
    } else {
      out.tokens.push_back("[PAD" + std::to_string(id) + "]");
      out.types.push_back(static_cast<int32_t>(GgufTokenType::kUnused));
    }
  }
  return out;
}

Result<std::vector<std::string>> FromGgufTokens(const std::vector<std::string>& tokens,
                                                const std::vector<int32_t>& types) {
  std::vector<std::string> vocab(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    const int32_t type =
        id < types.size() ? types[id] : static_cast<int32_t>(GgufTokenType::kNormal);
    if (type == static_cast<int32_t>(GgufTokenType::kNormal) ||
        type == static_cast<int32_t>(GgufTokenType::kUserDefined) ||
        type == static_cast<int32_t>(GgufTokenType::kByte)) {
      Result<std::string> bytes = UnescapeRwkvToken(tokens[id]);
      if (!bytes.ok()) return bytes.status().WithPrefix("token " + std::to_string(id));
      vocab[id] = std::move(*bytes);
    }
  }
  return vocab;
}

}  // namespace dte
