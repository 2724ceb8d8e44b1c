// Fuzzes the rwkv.cpp .bin reader (ReadRwkvCppFile), then binds and runs what it accepts.

#include <cstddef>
#include <cstdint>

#include "model/model_file.h"
#include "model_fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dte::fuzz::MemFile* file = new dte::fuzz::MemFile;
  dte::Result<dte::ModelFile> parsed = dte::ReadRwkvCppFile(file->Write(data, size));
  if (!parsed.ok()) {
    dte::fuzz::CheckError(parsed.status());
    return 0;
  }
  dte::fuzz::BuildAndRun(std::move(parsed).value(), size);
  return 0;
}
