#pragma once
// GGUF v3, ggml's model container: a header, typed metadata key/values, tensor infos, then the
// tensor data (each tensor at an offset that is a multiple of `general.alignment`, default 32).
// This file is the format only; what an RWKV model looks like inside it is gguf_rwkv.h.
//
// GgufFile parses a file over a memory mapping, checking every read against the mapping's end:
// a truncated or corrupt file gives a Corrupt status naming the file, the byte offset and the
// key or tensor being read, never a crash or an allocation sized by a count the file lies about.
// Parsed files are immutable and safe to share across threads; tensor data pointers stay valid
// while the GgufFile (or the MappedFile it holds) lives.
//
// GgufWriter collects metadata and tensor descriptions, then streams the file tensor by tensor
// (one tensor's bytes in memory at a time) into a temporary file that is renamed into place.
// One thread at a time.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "kernels/dtype.h"

namespace dte {

constexpr uint32_t kGgufMagic = 0x46554747;  // bytes "GGUF"
constexpr uint32_t kGgufVersion = 3;
constexpr uint32_t kGgufDefaultAlignment = 32;

enum class GgufType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
std::string_view GgufTypeName(GgufType t);  // "uint32", "string", "array", ...

// One metadata value. Integers are kept widened (u64 for unsigned and bool, i64 for signed),
// floats as double; `type` says what the file stores. Arrays hold scalars or strings (GGUF
// allows nested arrays; ggml rejects them and so do we).
struct GgufValue {
  GgufType type = GgufType::kU32;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0;
  std::string str;
  GgufType elem_type = GgufType::kU8;  // arrays only
  std::vector<GgufValue> array;

  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue U64(uint64_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue String(std::string v);
  static GgufValue StringArray(const std::vector<std::string>& v);
  static GgufValue I32Array(const std::vector<int32_t>& v);

  bool is_integer() const;
  bool is_float() const { return type == GgufType::kF32 || type == GgufType::kF64; }
  // The value as an integer if it is one (any width/sign) and fits; else nullopt.
  std::optional<int64_t> AsInt() const;
  // Short human form: `64`, `"rwkv7"`, `[string × 65536]`.
  std::string ToString() const;
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

// ggml's block size and bytes per block for every ggml type number (not only those DType
// knows), so a file with types we cannot compute with can still be parsed and inspected.
struct GgmlTypeTraits {
  std::string_view name;
  int64_t block_size;
  size_t block_bytes;
};
std::optional<GgmlTypeTraits> GgmlTypeTraitsOf(uint32_t ggml_type);

struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // ggml order: shape[0] is the contiguous dimension
  uint32_t ggml_type = 0;
  std::optional<DType> dtype;  // set when the type is one DType knows
  uint64_t offset = 0;         // from the start of the data section
  size_t bytes = 0;
  const uint8_t* data = nullptr;  // into the mapping

  int64_t elements() const;
};

class GgufFile {
 public:
  // Maps and parses `path`.
  static Result<GgufFile> Open(const std::string& path);
  // Parses an existing mapping (its path names the file in errors).
  static Result<GgufFile> Parse(std::shared_ptr<const MappedFile> file);

  const std::string& path() const { return file_->path(); }
  uint32_t version() const { return version_; }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const std::shared_ptr<const MappedFile>& mapping() const { return file_; }

  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  const GgufValue* Find(std::string_view key) const;
  // Typed getters: NotFound if absent, Corrupt naming the key and both types if mistyped.
  Result<int64_t> GetInt(std::string_view key) const;
  Result<double> GetFloat(std::string_view key) const;
  Result<std::string> GetString(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* FindTensor(std::string_view name) const;

 private:
  GgufFile() = default;
  std::shared_ptr<const MappedFile> file_;
  uint32_t version_ = 0;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Called after each tensor is written: (tensors done, tensor count, bytes done, total bytes).
using WriteProgressFn = std::function<void(size_t, size_t, uint64_t, uint64_t)>;

// Produces the bytes of one tensor (exactly DTypeRowBytes(type, shape[0]) * rows) into `out`.
using TensorProducer = std::function<Status(std::vector<uint8_t>* out)>;

class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = kGgufDefaultAlignment);

  // Adds or replaces a key. `general.alignment` is written by the writer itself.
  void Set(std::string key, GgufValue value);
  // Adds a tensor; its bytes are produced while writing. Errors on a duplicate name, an empty
  // or over-4-dimensional shape, or a row length that is not a multiple of the block size.
  Status AddTensor(std::string name, DType type, std::vector<int64_t> shape,
                   TensorProducer produce);

  // Writes the file (via `<path>.tmp.<pid>`, renamed into place when complete).
  Status Write(const std::string& path, const WriteProgressFn& progress = nullptr) const;

 private:
  struct PendingTensor {
    std::string name;
    DType type;
    std::vector<int64_t> shape;
    size_t bytes;
    TensorProducer produce;
  };
  uint32_t alignment_;
  std::vector<GgufKeyValue> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace dte
