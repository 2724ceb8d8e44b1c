#include "model/model_tokenizer.h"

#include <cstdlib>
#include <filesystem>

namespace dte {
namespace {
constexpr const char* kWorldVocabName = "rwkv_vocab_v20230424.txt";
}

std::string FindWorldVocab(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  std::vector<std::string> candidates;
  if (const char* dir = std::getenv("DTE_DATA_DIR")) candidates.push_back(std::string(dir) + "/" + kWorldVocabName);
#ifdef DTE_DEFAULT_DATA_DIR
  candidates.push_back(std::string(DTE_DEFAULT_DATA_DIR) + "/" + kWorldVocabName);
#endif
  candidates.push_back(std::string("models/") + kWorldVocabName);
  for (const auto& c : candidates)
    if (std::filesystem::exists(c)) return c;
  return candidates.back();
}

Result<std::unique_ptr<Tokenizer>> TokenizerForModel(const ModelFile& file, const std::string& vocab_path) {
  const int64_t n_vocab = file.config.n_vocab;
  Result<std::unique_ptr<Tokenizer>> tok = Status::Internal("no tokenizer chosen");
  if (!vocab_path.empty()) {
    tok = LoadWorldTokenizer(vocab_path);
  } else if (file.vocab) {
    tok = MakeTokenListTokenizer(*file.vocab);
  } else if (n_vocab == 256) {
    tok = MakeByteTokenizer();
  } else {
    tok = LoadWorldTokenizer(FindWorldVocab());
  }
  if (!tok.ok()) return tok.status();
  DTE_RETURN_IF_ERROR(CheckTokenizerFitsModel(**tok, n_vocab));
  return tok;
}

}  // namespace dte
