#pragma once
// Which tokenizer goes with a model: the vocabulary embedded in the file (GGUF), else the
// byte-level one for 256-token models, else the RWKV World vocabulary for 65536-token models.
// The result is checked against the model's n_vocab.

#include <memory>
#include <string>

#include "base/status.h"
#include "model/model_file.h"
#include "tokenizer/tokenizer.h"

namespace dte {

// The shipped World vocabulary: `explicit_path` if given, else $DTE_DATA_DIR/<name>, else the
// project's models/ directory (as built), else models/<name> under the working directory.
std::string FindWorldVocab(const std::string& explicit_path = "");

Result<std::unique_ptr<Tokenizer>> TokenizerForModel(const ModelFile& file,
                                                     const std::string& vocab_path = "");

}  // namespace dte
