#pragma once
// Reading model files of every supported format into canonical tensors (see tensor_store.h).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/config.h"
#include "model/tensor_store.h"

namespace dte {

enum class FileFormat { kRwkvCpp, kGguf, kSafetensors };
std::string_view FileFormatName(FileFormat f);  // "rwkv.cpp", "gguf", "safetensors"

struct ModelFile {
  FileFormat format = FileFormat::kRwkvCpp;
  std::string path;
  ModelConfig config;
  TensorStore tensors;  // canonical names and conventions
  // Token byte strings stored in the file (GGUF tokenizer.ggml.tokens), index = token id.
  std::optional<std::vector<std::string>> vocab;
};

// Detects the format from the first bytes and reads the file. Errors name the file, the
// tensor or offset, and what was expected.
Result<ModelFile> ReadModelFile(const std::string& path);

// Format readers (each in its own file).
Result<ModelFile> ReadRwkvCppFile(const std::string& path);
Result<ModelFile> ReadGgufModelFile(const std::string& path);
Result<ModelFile> ReadSafetensorsModelFile(const std::string& path);

}  // namespace dte
