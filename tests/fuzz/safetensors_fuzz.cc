// Fuzzes the safetensors container parser (SafetensorsFile::Open) and the RWKV checkpoint
// reader on top of it (ReadSafetensorsModelFile), then binds and runs what it accepts.

#include <cstddef>
#include <cstdint>
#include <string>

#include "model/model_file.h"
#include "model/safetensors.h"
#include "model_fuzz_util.h"

namespace {

void CheckSafetensorsFile(const dte::SafetensorsFile& f) {
  const size_t size = f.mapping()->size();
  const uint8_t* base = f.mapping()->data();
  for (const dte::SafetensorsTensor& t : f.tensors()) {
    if (t.bytes == 0) continue;
    if (t.data == nullptr || t.data < base || t.data > base + size ||
        t.bytes > static_cast<size_t>(base + size - t.data))
      dte::fuzz::Fail("safetensors tensor '" + t.name + "' (" + std::to_string(t.bytes) +
                      " bytes) lies outside the file");
    const size_t elem = dte::SafetensorsDTypeSize(t.dtype);
    if (elem != 0 && t.bytes != elem * static_cast<size_t>(t.elements()))
      dte::fuzz::Fail("safetensors tensor '" + t.name + "' has " + std::to_string(t.bytes) +
                      " bytes for " + std::to_string(t.elements()) + " " + t.dtype + " elements");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static dte::fuzz::MemFile* file = new dte::fuzz::MemFile;
  const std::string& path = file->Write(data, size);
  dte::Result<dte::SafetensorsFile> st = dte::SafetensorsFile::Open(path);
  if (!st.ok()) {
    dte::fuzz::CheckError(st.status());
    return 0;
  }
  CheckSafetensorsFile(*st);

  dte::Result<dte::ModelFile> parsed = dte::ReadSafetensorsModelFile(path);
  if (!parsed.ok()) {
    dte::fuzz::CheckError(parsed.status());
    return 0;
  }
  dte::fuzz::BuildAndRun(std::move(parsed).value(), size);
  return 0;
}
