// GGUF writer: metadata and tensor infos first, then each tensor's bytes produced and written
// one at a time, padded to the alignment.

#include <algorithm>
#include <cstring>

#include "model/gguf.h"
#include "model/output_file.h"

namespace dte {
namespace {

class ByteSink {
 public:
  explicit ByteSink(std::vector<uint8_t>* out) : out_(out) {}
  template <class T>
  void Put(T v) {
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    out_->insert(out_->end(), p, p + sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<uint64_t>(s.size());
    out_->insert(out_->end(), s.begin(), s.end());
  }

 private:
  std::vector<uint8_t>* out_;
};

void PutScalar(ByteSink& out, GgufType type, const GgufValue& v) {
  switch (type) {
    case GgufType::kU8:
      out.Put<uint8_t>(static_cast<uint8_t>(v.u));
      break;
    case GgufType::kI8:
      out.Put<int8_t>(static_cast<int8_t>(v.i));
      break;
    case GgufType::kU16:
      out.Put<uint16_t>(static_cast<uint16_t>(v.u));
      break;
    case GgufType::kI16:
      out.Put<int16_t>(static_cast<int16_t>(v.i));
      break;
    case GgufType::kU32:
      out.Put<uint32_t>(static_cast<uint32_t>(v.u));
      break;
    case GgufType::kI32:
      out.Put<int32_t>(static_cast<int32_t>(v.i));
      break;
    case GgufType::kU64:
      out.Put<uint64_t>(v.u);
      break;
    case GgufType::kI64:
      out.Put<int64_t>(v.i);
      break;
    case GgufType::kF32:
      out.Put<float>(static_cast<float>(v.f));
      break;
    case GgufType::kF64:
      out.Put<double>(v.f);
      break;
    case GgufType::kBool:
      out.Put<uint8_t>(v.u ? 1 : 0);
      break;
    case GgufType::kString:
      out.PutString(v.str);
      break;
    case GgufType::kArray:
      break;  // not a scalar; rejected by Set's caller contract
  }
}

void PutValue(ByteSink& out, const GgufValue& v) {
  out.Put<uint32_t>(static_cast<uint32_t>(v.type));
  if (v.type != GgufType::kArray) {
    PutScalar(out, v.type, v);
    return;
  }
  out.Put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  out.Put<uint64_t>(v.array.size());
  for (const GgufValue& e : v.array) PutScalar(out, v.elem_type, e);
}

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

}  // namespace

GgufWriter::GgufWriter(uint32_t alignment) : alignment_(alignment) {
  DTE_CHECK(alignment > 0 && (alignment & (alignment - 1)) == 0,
            "GGUF alignment must be a power of two");
}

void GgufWriter::Set(std::string key, GgufValue value) {
  for (GgufKeyValue& kv : metadata_) {
    if (kv.key == key) {
      kv.value = std::move(value);
      return;
    }
  }
  metadata_.push_back({std::move(key), std::move(value)});
}

Status GgufWriter::AddTensor(std::string name, DType type, std::vector<int64_t> shape,
                             TensorProducer produce) {
  for (const PendingTensor& t : tensors_)
    if (t.name == name)
      return Status::InvalidArgument("GGUF writer: duplicate tensor '" + name + "'");
  if (shape.empty() || shape.size() > 4)
    return Status::InvalidArgument("GGUF writer: tensor '" + name + "' needs 1 to 4 dimensions");
  int64_t rows = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] <= 0)
      return Status::InvalidArgument("GGUF writer: tensor '" + name + "' has an empty dimension");
    if (d > 0) rows *= shape[d];
  }
  if (shape[0] % DTypeBlockSize(type) != 0) {
    return Status::InvalidArgument("GGUF writer: tensor '" + name + "' row length " +
                                   std::to_string(shape[0]) + " is not a multiple of the " +
                                   std::string(DTypeName(type)) + " block size");
  }
  size_t bytes = DTypeRowBytes(type, shape[0]) * static_cast<size_t>(rows);
  tensors_.push_back({std::move(name), type, std::move(shape), bytes, std::move(produce)});
  return Status::Ok();
}

Status GgufWriter::Write(const std::string& path, const WriteProgressFn& progress) const {
  // general.alignment goes right after the leading general.* keys.
  std::vector<const GgufKeyValue*> kvs;
  GgufKeyValue alignment_kv{"general.alignment", GgufValue::U32(alignment_)};
  bool have_alignment = false;
  for (const GgufKeyValue& kv : metadata_) have_alignment |= kv.key == "general.alignment";
  size_t insert_at = 0;
  while (insert_at < metadata_.size() && metadata_[insert_at].key.rfind("general.", 0) == 0)
    ++insert_at;
  for (size_t k = 0; k < metadata_.size(); ++k) {
    if (k == insert_at && !have_alignment) kvs.push_back(&alignment_kv);
    kvs.push_back(&metadata_[k]);
  }
  if (insert_at == metadata_.size() && !have_alignment) kvs.push_back(&alignment_kv);

  std::vector<uint8_t> head;
  ByteSink out(&head);
  out.Put<uint32_t>(kGgufMagic);
  out.Put<uint32_t>(kGgufVersion);
  out.Put<uint64_t>(tensors_.size());
  out.Put<uint64_t>(kvs.size());
  for (const GgufKeyValue* kv : kvs) {
    out.PutString(kv->key);
    PutValue(out, kv->value);
  }
  uint64_t offset = 0;
  uint64_t total = 0;
  for (const PendingTensor& t : tensors_) {
    out.PutString(t.name);
    out.Put<uint32_t>(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) out.Put<uint64_t>(static_cast<uint64_t>(d));
    out.Put<uint32_t>(static_cast<uint32_t>(t.type));
    out.Put<uint64_t>(offset);
    offset = AlignUp(offset + t.bytes, alignment_);
    total += t.bytes;
  }
  head.resize(AlignUp(head.size(), alignment_), 0);

  DTE_ASSIGN_OR_RETURN(OutputFile file, OutputFile::Create(path));
  DTE_RETURN_IF_ERROR(file.Write(head.data(), head.size()));
  std::vector<uint8_t> buf;
  uint64_t done = 0;
  static const uint8_t kZeros[64] = {};
  for (size_t k = 0; k < tensors_.size(); ++k) {
    const PendingTensor& t = tensors_[k];
    buf.clear();
    DTE_RETURN_IF_ERROR(t.produce(&buf).WithPrefix("writing tensor '" + t.name + "'"));
    if (buf.size() != t.bytes) {
      return Status::Internal("GGUF writer: tensor '" + t.name + "' produced " +
                              std::to_string(buf.size()) + " bytes, expected " +
                              std::to_string(t.bytes));
    }
    DTE_RETURN_IF_ERROR(file.Write(buf.data(), buf.size()));
    size_t pad = AlignUp(t.bytes, alignment_) - t.bytes;
    while (pad > 0) {
      size_t n = std::min(pad, sizeof(kZeros));
      DTE_RETURN_IF_ERROR(file.Write(kZeros, n));
      pad -= n;
    }
    done += t.bytes;
    if (progress) progress(k + 1, tensors_.size(), done, total);
  }
  return file.Commit();
}

}  // namespace dte
