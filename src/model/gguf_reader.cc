// GGUF parser: every read is checked against the end of the mapping, and every count is checked
// against the bytes that are left before anything is allocated for it.

#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "model/gguf.h"

namespace dte {
namespace {

constexpr size_t kMaxKeyLength = 1 << 16;
constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS
constexpr int64_t kMaxElements = int64_t{1} << 50;

// The smallest encoding of one array element of `t` (a string is at least its u64 length).
size_t MinEncodedSize(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
    case GgufType::kString:
      return 8;
    case GgufType::kArray:
      return 12;
  }
  return 1;
}

bool KnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

class Cursor {
 public:
  explicit Cursor(const MappedFile& f) : f_(f) {}
  uint64_t offset() const { return off_; }
  uint64_t left() const { return f_.size() - off_; }

  // `what` is evaluated lazily (only for the error message).
  template <class What>
  Status Need(uint64_t n, const What& what) const {
    if (n <= left()) return Status::Ok();
    return Status::Corrupt(f_.path() + ": truncated at offset " + std::to_string(off_) + ": need " +
                           std::to_string(n) + " bytes for " + std::string(what()) + ", " +
                           std::to_string(left()) + " left");
  }
  template <class T, class What>
  Status Read(T* v, const What& what) {
    DTE_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(v, f_.data() + off_, sizeof(T));
    off_ += sizeof(T);
    return Status::Ok();
  }
  template <class What>
  Status ReadString(std::string* s, size_t max_len, const What& what) {
    const uint64_t at = off_;
    uint64_t len;
    DTE_RETURN_IF_ERROR(Read(&len, what));
    if (len > max_len) {
      return Status::Corrupt(f_.path() + ": offset " + std::to_string(at) + ": " +
                             std::string(what()) + " has length " + std::to_string(len) +
                             ", more than the limit " + std::to_string(max_len));
    }
    DTE_RETURN_IF_ERROR(Need(len, what));
    s->assign(reinterpret_cast<const char*>(f_.data() + off_), len);
    off_ += len;
    return Status::Ok();
  }
  Status Error(uint64_t at, const std::string& msg) const {
    return Status::Corrupt(f_.path() + ": offset " + std::to_string(at) + ": " + msg);
  }

 private:
  const MappedFile& f_;
  uint64_t off_ = 0;
};

// `name` describes the value for error messages (evaluated only on error).
template <class Name>
Status ReadScalar(Cursor& in, GgufType type, GgufValue* v, const Name& name) {
  auto what = [&] { return "value of '" + name() + "'"; };
  v->type = type;
  switch (type) {
    case GgufType::kU8: {
      uint8_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->u = x;
      break;
    }
    case GgufType::kI8: {
      int8_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->i = x;
      break;
    }
    case GgufType::kU16: {
      uint16_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->u = x;
      break;
    }
    case GgufType::kI16: {
      int16_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->i = x;
      break;
    }
    case GgufType::kU32: {
      uint32_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->u = x;
      break;
    }
    case GgufType::kI32: {
      int32_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->i = x;
      break;
    }
    case GgufType::kU64: {
      uint64_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->u = x;
      break;
    }
    case GgufType::kI64: {
      int64_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->i = x;
      break;
    }
    case GgufType::kF32: {
      float x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->f = x;
      break;
    }
    case GgufType::kF64: {
      double x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      v->f = x;
      break;
    }
    case GgufType::kBool: {
      const uint64_t at = in.offset();
      uint8_t x;
      DTE_RETURN_IF_ERROR(in.Read(&x, what));
      if (x > 1)
        return in.Error(
            at, "bool value of '" + name() + "' is " + std::to_string(x) + ", expected 0 or 1");
      v->u = x;
      break;
    }
    case GgufType::kString:
      DTE_RETURN_IF_ERROR(in.ReadString(&v->str, std::numeric_limits<size_t>::max(), what));
      break;
    case GgufType::kArray:
      return Status::Internal("ReadScalar on an array");
  }
  return Status::Ok();
}

Status ReadValue(Cursor& in, GgufValue* v, const std::string& key) {
  const uint64_t at = in.offset();
  uint32_t type;
  DTE_RETURN_IF_ERROR(in.Read(&type, [&] { return "type of '" + key + "'"; }));
  if (!KnownType(type))
    return in.Error(at, "key '" + key + "' has unknown value type " + std::to_string(type));
  if (static_cast<GgufType>(type) != GgufType::kArray)
    return ReadScalar(in, static_cast<GgufType>(type), v, [&] { return key; });

  v->type = GgufType::kArray;
  const uint64_t elem_at = in.offset();
  uint32_t elem;
  uint64_t count;
  DTE_RETURN_IF_ERROR(in.Read(&elem, [&] { return "array element type of '" + key + "'"; }));
  DTE_RETURN_IF_ERROR(in.Read(&count, [&] { return "array length of '" + key + "'"; }));
  if (!KnownType(elem))
    return in.Error(elem_at,
                    "array '" + key + "' has unknown element type " + std::to_string(elem));
  if (static_cast<GgufType>(elem) == GgufType::kArray)
    return in.Error(elem_at, "array '" + key + "' holds arrays (nested arrays are not supported)");
  v->elem_type = static_cast<GgufType>(elem);
  // A lying count fails here, before anything is allocated for it.
  if (count > in.left() / MinEncodedSize(v->elem_type)) {
    return in.Error(elem_at, "array '" + key + "' claims " + std::to_string(count) +
                                 " elements of " + std::string(GgufTypeName(v->elem_type)) +
                                 " but only " + std::to_string(in.left()) + " bytes are left");
  }
  v->array.resize(count);
  for (uint64_t k = 0; k < count; ++k) {
    DTE_RETURN_IF_ERROR(ReadScalar(in, v->elem_type, &v->array[k],
                                   [&] { return key + "[" + std::to_string(k) + "]"; }));
  }
  return Status::Ok();
}

// Bytes of a tensor, or an error; guards every multiplication against overflow.
Status TensorBytes(const Cursor& in, uint64_t at, GgufTensorInfo* t) {
  std::optional<GgmlTypeTraits> traits = GgmlTypeTraitsOf(t->ggml_type);
  if (!traits)
    return in.Error(
        at, "tensor '" + t->name + "' has unknown ggml type " + std::to_string(t->ggml_type));
  int64_t n = 1;
  for (int64_t d : t->shape) {
    if (d <= 0 || d > kMaxElements / n)
      return in.Error(at, "tensor '" + t->name + "' has an invalid shape (dimension " +
                              std::to_string(d) + ")");
    n *= d;
  }
  if (t->shape[0] % traits->block_size != 0) {
    return in.Error(at, "tensor '" + t->name + "': row length " + std::to_string(t->shape[0]) +
                            " is not a multiple of the " + std::string(traits->name) +
                            " block size " + std::to_string(traits->block_size));
  }
  t->bytes = static_cast<size_t>(n / traits->block_size) * traits->block_bytes;
  return Status::Ok();
}

Status ReadTensorInfo(Cursor& in, GgufTensorInfo* t, uint64_t index) {
  const uint64_t at = in.offset();
  auto what = [&](const char* part) {
    return [&, part] {
      return std::string(part) + " of tensor #" + std::to_string(index) +
             (t->name.empty() ? "" : " '" + t->name + "'");
    };
  };
  DTE_RETURN_IF_ERROR(in.ReadString(&t->name, kMaxKeyLength, what("name")));
  uint32_t n_dims;
  DTE_RETURN_IF_ERROR(in.Read(&n_dims, what("dimension count")));
  if (n_dims < 1 || n_dims > kMaxDims)
    return in.Error(at, "tensor '" + t->name + "' has " + std::to_string(n_dims) +
                            " dimensions, expected 1 to 4");
  t->shape.resize(n_dims);
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t ne;
    DTE_RETURN_IF_ERROR(in.Read(&ne, what("shape")));
    if (ne > static_cast<uint64_t>(kMaxElements))
      return in.Error(at, "tensor '" + t->name + "' dimension " + std::to_string(d) + " is " +
                              std::to_string(ne));
    t->shape[d] = static_cast<int64_t>(ne);
  }
  DTE_RETURN_IF_ERROR(in.Read(&t->ggml_type, what("type")));
  DTE_RETURN_IF_ERROR(in.Read(&t->offset, what("data offset")));
  DTE_RETURN_IF_ERROR(TensorBytes(in, at, t));
  t->dtype = DTypeFromGgml(t->ggml_type);
  return Status::Ok();
}

}  // namespace

Result<GgufFile> GgufFile::Open(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(std::shared_ptr<const MappedFile> file, MappedFile::Open(path));
  return Parse(std::move(file));
}

Result<GgufFile> GgufFile::Parse(std::shared_ptr<const MappedFile> file) {
  GgufFile g;
  g.file_ = file;
  Cursor in(*file);
  uint32_t magic;
  DTE_RETURN_IF_ERROR(in.Read(&magic, [] { return "GGUF magic"; }));
  if (magic != kGgufMagic) return in.Error(0, "not a GGUF file (bad magic)");
  DTE_RETURN_IF_ERROR(in.Read(&g.version_, [] { return "GGUF version"; }));
  if (g.version_ != 2 && g.version_ != 3) {
    return Status::Unsupported(file->path() + ": GGUF version " + std::to_string(g.version_) +
                               " (this reader handles versions 2 and 3, little-endian)");
  }
  uint64_t n_tensors, n_kv;
  DTE_RETURN_IF_ERROR(in.Read(&n_tensors, [] { return "tensor count"; }));
  DTE_RETURN_IF_ERROR(in.Read(&n_kv, [] { return "metadata count"; }));
  // Each key/value takes at least 13 bytes and each tensor info at least 32.
  if (n_kv > in.left() / 13)
    return in.Error(16, "metadata count " + std::to_string(n_kv) + " exceeds the file size");
  if (n_tensors > in.left() / 32)
    return in.Error(8, "tensor count " + std::to_string(n_tensors) + " exceeds the file size");

  std::set<std::string, std::less<>> keys;
  g.metadata_.resize(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    GgufKeyValue& kv = g.metadata_[k];
    const uint64_t at = in.offset();
    DTE_RETURN_IF_ERROR(
        in.ReadString(&kv.key, kMaxKeyLength, [&] { return "key #" + std::to_string(k); }));
    if (!keys.insert(kv.key).second) return in.Error(at, "duplicate metadata key '" + kv.key + "'");
    DTE_RETURN_IF_ERROR(ReadValue(in, &kv.value, kv.key));
  }
  if (const GgufValue* a = g.Find("general.alignment")) {
    if (a->type != GgufType::kU32 || a->u == 0 || (a->u & (a->u - 1)) != 0 || a->u > (1u << 16)) {
      return Status::Corrupt(file->path() + ": general.alignment is " + a->ToString() + " (" +
                             std::string(GgufTypeName(a->type)) +
                             "), expected a uint32 power of two");
    }
    g.alignment_ = static_cast<uint32_t>(a->u);
  }

  g.tensors_.resize(n_tensors);
  for (uint64_t k = 0; k < n_tensors; ++k) {
    const uint64_t at = in.offset();
    DTE_RETURN_IF_ERROR(ReadTensorInfo(in, &g.tensors_[k], k));
    if (!g.tensor_index_.emplace(g.tensors_[k].name, k).second)
      return in.Error(at, "duplicate tensor '" + g.tensors_[k].name + "'");
  }

  const uint64_t end_of_infos = in.offset();
  g.data_offset_ = (end_of_infos + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  if (n_tensors > 0 && g.data_offset_ > file->size()) {
    return in.Error(end_of_infos, "file ends before its data section (expected at offset " +
                                      std::to_string(g.data_offset_) + ")");
  }
  const uint64_t data_size = n_tensors > 0 ? file->size() - g.data_offset_ : 0;
  for (GgufTensorInfo& t : g.tensors_) {
    if (t.offset % g.alignment_ != 0) {
      return Status::Corrupt(file->path() + ": tensor '" + t.name + "' data offset " +
                             std::to_string(t.offset) + " is not a multiple of the alignment " +
                             std::to_string(g.alignment_));
    }
    if (t.offset > data_size || t.bytes > data_size - t.offset) {
      return Status::Corrupt(file->path() + ": tensor '" + t.name + "' needs bytes [" +
                             std::to_string(g.data_offset_ + t.offset) + ", " +
                             std::to_string(g.data_offset_ + t.offset + t.bytes) +
                             ") but the file has " + std::to_string(file->size()) +
                             " bytes (truncated?)");
    }
    t.data = file->data() + g.data_offset_ + t.offset;
  }
  return g;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  for (const GgufKeyValue& kv : metadata_)
    if (kv.key == key) return &kv.value;
  return nullptr;
}

Result<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Status::NotFound(path() + ": metadata key '" + std::string(key) + "' is missing");
  std::optional<int64_t> i = v->AsInt();
  if (!i) {
    return Status::Corrupt(path() + ": metadata key '" + std::string(key) + "' is " +
                           std::string(GgufTypeName(v->type)) + " " + v->ToString() +
                           ", expected an integer");
  }
  return *i;
}

Result<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Status::NotFound(path() + ": metadata key '" + std::string(key) + "' is missing");
  if (v->is_float()) return v->f;
  if (std::optional<int64_t> i = v->AsInt()) return static_cast<double>(*i);
  return Status::Corrupt(path() + ": metadata key '" + std::string(key) + "' is " +
                         std::string(GgufTypeName(v->type)) + ", expected a number");
}

Result<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (!v) return Status::NotFound(path() + ": metadata key '" + std::string(key) + "' is missing");
  if (v->type != GgufType::kString) {
    return Status::Corrupt(path() + ": metadata key '" + std::string(key) + "' is " +
                           std::string(GgufTypeName(v->type)) + ", expected a string");
  }
  return v->str;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace dte
