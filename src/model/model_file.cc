#include "model/model_file.h"

#include <cstring>
#include <fstream>

namespace dte {

std::string_view FileFormatName(FileFormat f) {
  switch (f) {
    case FileFormat::kRwkvCpp: return "rwkv.cpp";
    case FileFormat::kGguf: return "gguf";
    case FileFormat::kSafetensors: return "safetensors";
  }
  return "?";
}

Result<ModelFile> ReadModelFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open model file '" + path + "'");
  char head[9] = {};
  in.read(head, 8);
  const std::streamsize got = in.gcount();
  if (got >= 4 && std::memcmp(head, "fmgg", 4) == 0) return ReadRwkvCppFile(path);
  if (got >= 4 && std::memcmp(head, "GGUF", 4) == 0) return ReadGgufModelFile(path);
  // safetensors: u64 header length, then a JSON object.
  if (got == 8) {
    char brace = 0;
    in.read(&brace, 1);
    if (in.gcount() == 1 && brace == '{') return ReadSafetensorsModelFile(path);
  }
  return Status::Unsupported("'" + path +
                             "' is not a model file this build reads (expected rwkv.cpp .bin, "
                             "GGUF or safetensors)");
}

}  // namespace dte
