#pragma once
// safetensors: a little-endian u64 header length N, N bytes of JSON
//   {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//    "__metadata__": {"k": "v"}}
// then the data section (offsets relative to its start). Shapes are PyTorch's (row-major, the
// last dimension contiguous), i.e. the reverse of ggml order.
//
// SafetensorsFile parses over a memory mapping with every offset, size and count checked (the
// header length is bounded; errors name the file, the tensor and what was expected). Immutable
// after Open; thread-safe. Tensor data pointers live as long as the mapping.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"

namespace dte {

constexpr uint64_t kSafetensorsMaxHeader = 100ull << 20;  // the format's own limit

struct SafetensorsTensor {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", ...
  std::vector<int64_t> shape;  // PyTorch order
  uint64_t offset = 0;         // in the data section
  const uint8_t* data = nullptr;
  size_t bytes = 0;
  int64_t elements() const;
};

class SafetensorsFile {
 public:
  static Result<SafetensorsFile> Open(const std::string& path);
  static Result<SafetensorsFile> Parse(std::shared_ptr<const MappedFile> file);

  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<const MappedFile>& mapping() const { return file_; }
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }  // by data offset
  const SafetensorsTensor* Find(std::string_view name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  std::shared_ptr<const MappedFile> file_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// Bytes per element of a safetensors dtype, or 0 if unknown.
size_t SafetensorsDTypeSize(std::string_view dtype);

// Writes a safetensors file (used by tests and tools): tensors in the given order.
struct SafetensorsOutTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;  // PyTorch order
  std::vector<uint8_t> bytes;
};
Status WriteSafetensors(const std::string& path, const std::vector<SafetensorsOutTensor>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace dte
