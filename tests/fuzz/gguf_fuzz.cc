// Fuzzes the GGUF container parser (GgufFile::Open) and the RWKV reader on top of it
// (ReadGgufModelFile), the vocabulary it embeds (MakeTokenListTokenizer), and binds and runs
// the models it accepts.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "model/gguf.h"
#include "model/model_file.h"
#include "model_fuzz_util.h"
#include "tokenizer/tokenizer.h"

namespace {

// Every tensor info the parser accepted points inside the file with the bytes its shape takes.
void CheckGgufFile(const dte::GgufFile& f) {
  const size_t size = f.mapping()->size();
  const uint8_t* base = f.mapping()->data();
  for (const dte::GgufTensorInfo& t : f.tensors()) {
    if (t.data == nullptr) continue;
    if (t.data < base || t.data > base + size ||
        t.bytes > static_cast<size_t>(base + size - t.data))
      dte::fuzz::Fail("GGUF tensor '" + t.name + "' (" + std::to_string(t.bytes) +
                      " bytes) lies outside the file");
  }
  for (const dte::GgufKeyValue& kv : f.metadata()) (void)kv.value.ToString();
}

// Encode/Decode round trip (tokenizer.h promises Decode(Encode(text)) == text).
void CheckRoundTrip(const dte::Tokenizer& tokenizer, std::string_view text) {
  std::vector<int32_t> ids = tokenizer.Encode(text);
  for (int32_t id : ids) {
    if (id < 0 || id >= tokenizer.vocab_size())
      dte::fuzz::Fail("Encode produced id " + std::to_string(id) + " outside the vocabulary");
  }
  if (tokenizer.Decode(ids) != text) dte::fuzz::Fail("Decode(Encode(text)) != text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dte::fuzz::MemFile* file = new dte::fuzz::MemFile;
  const std::string& path = file->Write(data, size);
  dte::Result<dte::GgufFile> gguf = dte::GgufFile::Open(path);
  if (!gguf.ok()) {
    dte::fuzz::CheckError(gguf.status());
    return 0;
  }
  CheckGgufFile(*gguf);

  dte::Result<dte::ModelFile> parsed = dte::ReadGgufModelFile(path);
  if (!parsed.ok()) {
    dte::fuzz::CheckError(parsed.status());
    return 0;
  }
  if (parsed->vocab) {
    dte::Result<std::unique_ptr<dte::Tokenizer>> tokenizer =
        dte::MakeTokenListTokenizer(*parsed->vocab);
    if (tokenizer.ok()) {
      CheckRoundTrip(**tokenizer, std::string_view(reinterpret_cast<const char*>(data),
                                                   std::min<size_t>(size, 64)));
    } else {
      dte::fuzz::CheckError(tokenizer.status());
    }
  }
  dte::fuzz::BuildAndRun(std::move(parsed).value(), size);
  return 0;
}
