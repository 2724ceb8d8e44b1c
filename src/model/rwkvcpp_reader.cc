// Reader for rwkv.cpp's .bin format (versions 100/101): a 24-byte header, then tensor records
// to the end of the file. Tensors are views into the memory mapping; names and value
// conventions are already canonical (see tensor_store.h).

#include <cstring>
#include <limits>

#include "base/mapped_file.h"
#include "model/model_file.h"
#include "model/rwkvcpp_format.h"

namespace dte {
namespace {

class Cursor {
 public:
  Cursor(const MappedFile& f) : f_(f) {}
  size_t offset() const { return off_; }
  size_t left() const { return f_.size() - off_; }
  Status ReadU32(uint32_t* v, std::string_view what) {
    if (left() < 4) return Truncated(4, what);
    std::memcpy(v, f_.data() + off_, 4);
    off_ += 4;
    return Status::Ok();
  }
  Status Take(size_t n, const uint8_t** p, std::string_view what) {
    if (left() < n) return Truncated(n, what);
    *p = f_.data() + off_;
    off_ += n;
    return Status::Ok();
  }

 private:
  Status Truncated(size_t need, std::string_view what) const {
    return Status::Corrupt(f_.path() + ": truncated at offset " + std::to_string(off_) + ": need " +
                           std::to_string(need) + " bytes for " + std::string(what) + ", " +
                           std::to_string(left()) + " left");
  }
  const MappedFile& f_;
  size_t off_ = 0;
};

Status ReadTensor(Cursor& in, const MappedFile& file, TensorStore& store) {
  const size_t record_offset = in.offset();
  auto corrupt = [&](const std::string& msg) {
    return Status::Corrupt(file.path() + ": tensor record at offset " +
                           std::to_string(record_offset) + ": " + msg);
  };
  uint32_t dims = 0, name_len = 0, type_code = 0;
  DTE_RETURN_IF_ERROR(in.ReadU32(&dims, "tensor dim count"));
  DTE_RETURN_IF_ERROR(in.ReadU32(&name_len, "tensor name length"));
  DTE_RETURN_IF_ERROR(in.ReadU32(&type_code, "tensor data type"));
  if (dims < 1 || dims > 3)
    return corrupt("dim count " + std::to_string(dims) + ", expected 1 to 3");
  if (name_len == 0 || name_len > kRwkvCppMaxNameLength)
    return corrupt("name length " + std::to_string(name_len) + ", expected 1 to " +
                   std::to_string(kRwkvCppMaxNameLength));
  std::optional<DType> type = DTypeFromRwkvCpp(type_code);
  if (!type) return corrupt("unknown data type " + std::to_string(type_code));
  Tensor t;
  t.type = *type;
  uint64_t elements = 1;
  for (uint32_t i = 0; i < dims; ++i) {
    uint32_t d = 0;
    DTE_RETURN_IF_ERROR(in.ReadU32(&d, "tensor shape"));
    if (d == 0) return corrupt("dimension " + std::to_string(i) + " is 0");
    elements *= d;
    if (elements > (uint64_t{1} << 40)) return corrupt("more than 2^40 elements");
    t.shape.push_back(d);
  }
  const uint8_t* name = nullptr;
  DTE_RETURN_IF_ERROR(in.Take(name_len, &name, "tensor name"));
  t.name.assign(reinterpret_cast<const char*>(name), name_len);
  if (t.shape[0] % DTypeBlockSize(t.type) != 0)
    return corrupt("'" + t.name + "': row length " + std::to_string(t.shape[0]) +
                   " is not a multiple of the " + std::string(DTypeName(t.type)) + " block size");
  t.bytes = DTypeRowBytes(t.type, t.shape[0]) * (elements / t.shape[0]);
  const uint8_t* data = nullptr;
  Status s = in.Take(t.bytes, &data, "data of tensor '" + t.name + "'");
  if (!s.ok()) return s;
  t.data = data;
  if (store.Has(t.name)) return corrupt("duplicate tensor '" + t.name + "'");
  store.Add(std::move(t));
  return Status::Ok();
}

}  // namespace

std::optional<DType> DTypeFromRwkvCpp(uint32_t code) {
  switch (code) {
    case 0:
      return DType::kF32;
    case 1:
      return DType::kF16;
    case 2:
      return DType::kQ4_0;
    case 3:
      return DType::kQ4_1;
    case 7:
      return DType::kQ5_0;
    case 8:
      return DType::kQ5_1;
    case 9:
      return DType::kQ8_0;
    default:
      return std::nullopt;  // 4-6 are formats rwkv.cpp itself removed
  }
}

std::optional<uint32_t> DTypeToRwkvCpp(DType type) {
  switch (type) {
    case DType::kF32:
      return 0;
    case DType::kF16:
      return 1;
    case DType::kQ4_0:
      return 2;
    case DType::kQ4_1:
      return 3;
    case DType::kQ5_0:
      return 7;
    case DType::kQ5_1:
      return 8;
    case DType::kQ8_0:
      return 9;
    case DType::kBF16:
      return std::nullopt;
  }
  return std::nullopt;
}

Result<ModelFile> ReadRwkvCppFile(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
  Cursor in(*file);
  uint32_t h[6];
  for (int i = 0; i < 6; ++i) DTE_RETURN_IF_ERROR(in.ReadU32(&h[i], "rwkv.cpp header"));
  if (h[0] != kRwkvCppMagic)
    return Status::Corrupt(path + ": not an rwkv.cpp model (magic " + std::to_string(h[0]) + ")");
  if (h[1] != 100 && h[1] != 101)
    return Status::Unsupported(path + ": rwkv.cpp file version " + std::to_string(h[1]) +
                               ", expected 100 or 101");
  if (!DTypeFromRwkvCpp(h[5]))
    return Status::Unsupported(path + ": unknown model data type " + std::to_string(h[5]));

  ModelFile out;
  out.format = FileFormat::kRwkvCpp;
  out.path = path;
  while (in.left() > 0) DTE_RETURN_IF_ERROR(ReadTensor(in, *file, out.tensors));
  out.tensors.KeepAlive(file);  // the tensors are views into the mapping

  Result<ModelConfig> config = DetectConfig(out.tensors);
  if (!config.ok()) return config.status().WithPrefix(path);
  out.config = *config;
  if (out.config.n_vocab != h[2] || out.config.n_embd != h[3] || out.config.n_layer != h[4]) {
    return Status::Corrupt(path + ": header says n_vocab=" + std::to_string(h[2]) +
                           " n_embd=" + std::to_string(h[3]) + " n_layer=" + std::to_string(h[4]) +
                           " but the tensors say " + out.config.ToString());
  }
  return out;
}

}  // namespace dte
