#include <string>

#include "tokenizer/tokenizer.h"

namespace dte {
namespace {

constexpr int64_t kByteVocab = 256;
constexpr int64_t kWorldModelVocab = 65536;  // World models pad their 65530 ids to 65536 rows
constexpr int64_t kWorldTokenizerVocab = 65530;

std::string Describe(const Tokenizer& t) {
  return "the " + std::string(t.kind()) + " tokenizer (" + std::to_string(t.vocab_size()) + " ids)";
}

}  // namespace

Status CheckTokenizerFitsModel(const Tokenizer& tokenizer, int64_t model_n_vocab) {
  const int64_t vocab = tokenizer.vocab_size();
  const std::string pair =
      Describe(tokenizer) + " and a model with n_vocab " + std::to_string(model_n_vocab);
  if (model_n_vocab <= 0) return Status::InvalidArgument("model n_vocab must be positive: " + pair);
  // Ids past the model's rows would index outside its embedding.
  if (vocab > model_n_vocab) {
    return Status::InvalidArgument("tokenizer does not fit the model: " + pair +
                                   "; its ids would index past the embedding rows");
  }
  // Smaller vocabularies fit the embedding but mean a different family: ids mean other text.
  if (model_n_vocab == kWorldModelVocab && vocab < kWorldTokenizerVocab) {
    return Status::InvalidArgument("tokenizer does not match the model: " + pair +
                                   "; an n_vocab 65536 model is an RWKV World model and needs "
                                   "the World vocabulary (65530 ids)");
  }
  if (vocab * 2 < model_n_vocab) {
    return Status::InvalidArgument("tokenizer does not match the model: " + pair +
                                   "; the tokenizer covers less than half the model's rows, so it "
                                   "is from another model family");
  }
  if (tokenizer.kind() == "byte" && model_n_vocab != kByteVocab) {
    return Status::InvalidArgument("tokenizer does not match the model: " + pair +
                                   "; byte-level tokens need a 256-token model");
  }
  return Status::Ok();
}

}  // namespace dte
