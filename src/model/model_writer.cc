// Shared pieces of the model writers: tensor sources, the stored-type policy, row conversion.

#include "model/model_writer.h"

#include <cstring>

#include "kernels/quant.h"

namespace dte {

int64_t SourceTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Status SourceTensor::Read(std::vector<uint8_t>* out) const {
  if (data != nullptr) {
    const auto* p = static_cast<const uint8_t*>(data);
    out->assign(p, p + bytes());
    return Status::Ok();
  }
  if (!generate) return Status::Internal("tensor '" + name + "' has neither data nor a generator");
  out->clear();
  DTE_RETURN_IF_ERROR(generate(out));
  if (out->size() != bytes()) {
    return Status::Internal("tensor '" + name + "' generated " + std::to_string(out->size()) +
                            " bytes, expected " + std::to_string(bytes()));
  }
  return Status::Ok();
}

void ModelSource::Add(SourceTensor t) {
  index_[t.name] = tensors.size();
  tensors.push_back(std::move(t));
}

const SourceTensor* ModelSource::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors[it->second];
}

Result<const SourceTensor*> ModelSource::Get(std::string_view name) const {
  const SourceTensor* t = Find(name);
  if (t == nullptr) return Status::NotFound("the model has no tensor '" + std::string(name) + "'");
  return t;
}

ModelSource SourceOf(const ModelFile& file) {
  ModelSource s;
  s.config = file.config;
  s.vocab = file.vocab;
  for (const Tensor& t : file.tensors.tensors()) {
    SourceTensor st;
    st.name = t.name;
    st.type = t.type;
    st.shape = t.shape;
    st.data = t.data;
    s.Add(std::move(st));
  }
  return s;
}

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool EndsWithAny(std::string_view s, std::initializer_list<std::string_view> suffixes) {
  for (std::string_view x : suffixes)
    if (EndsWith(s, x)) return true;
  return false;
}

// LoRA matrices llama.cpp keeps in F32 whatever the file type.
bool IsF32Lora(std::string_view name) {
  return EndsWithAny(name, {".att.w1", ".att.w2", ".att.time_maa_w1", ".att.time_maa_w2",
                            ".att.time_decay_w1", ".att.time_decay_w2"});
}

}  // namespace

TensorRole RoleOf(std::string_view name, const std::vector<int64_t>& shape) {
  if (name == "emb.weight") return TensorRole::kEmbedding;
  if (name == "head.weight") return TensorRole::kHead;
  if (EndsWithAny(name, {".att.key.weight", ".att.value.weight", ".att.receptance.weight",
                         ".att.output.weight", ".att.gate.weight", ".ffn.key.weight",
                         ".ffn.value.weight", ".ffn.receptance.weight"}))
    return TensorRole::kMatrix;
  if (IsF32Lora(name) ||
      EndsWithAny(name, {".att.a1", ".att.a2", ".att.v1", ".att.v2", ".att.g1", ".att.g2"}))
    return TensorRole::kLora;
  return TensorRole::kVector;
}

DType ChooseType(OutputFormat format, std::string_view name, const std::vector<int64_t>& shape,
                 DType source, std::optional<DType> requested) {
  const TensorRole role = RoleOf(name, shape);
  if (role == TensorRole::kVector) return DType::kF32;
  if (!requested)
    return (source == DType::kBF16 && format == OutputFormat::kRwkvCpp) ? DType::kF32 : source;
  const DType t = *requested;
  DType r = t;
  switch (role) {
    case TensorRole::kMatrix:
    case TensorRole::kHead:
      r = t;
      break;
    case TensorRole::kEmbedding:
      r = !DTypeIsQuantized(t) ? t : (format == OutputFormat::kGguf ? DType::kF16 : DType::kF32);
      break;
    case TensorRole::kLora:
      if (t == DType::kF32 || IsF32Lora(name)) {
        r = DType::kF32;
      } else {
        r = t == DType::kBF16 ? DType::kBF16 : DType::kF16;
      }
      break;
    case TensorRole::kVector:
      r = DType::kF32;
      break;
  }
  if (DTypeIsQuantized(r) && shape[0] % DTypeBlockSize(r) != 0) r = DType::kF16;
  return r;
}

void ConvertRows(DType from, const void* src, DType to, int64_t row, int64_t n,
                 std::vector<uint8_t>* out) {
  const auto* in = static_cast<const uint8_t*>(src);
  const int64_t rows = n / row;
  const size_t in_row = DTypeRowBytes(from, row);
  const size_t out_row = DTypeRowBytes(to, row);
  const size_t start = out->size();
  if (from == to) {
    out->insert(out->end(), in, in + in_row * rows);
    return;
  }
  out->resize(start + out_row * rows);
  std::vector<float> buf(static_cast<size_t>(row));
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(from, in + in_row * r, buf.data(), row);
    QuantizeRow(to, buf.data(), out->data() + start + out_row * r, row);
  }
}

Result<std::vector<float>> SourceToFloats(const SourceTensor& t) {
  std::vector<uint8_t> bytes;
  DTE_RETURN_IF_ERROR(t.Read(&bytes));
  std::vector<float> out(static_cast<size_t>(t.elements()));
  const int64_t row = t.shape[0];
  const size_t row_bytes = DTypeRowBytes(t.type, row);
  for (int64_t r = 0; r < t.elements() / row; ++r)
    DequantizeRow(t.type, bytes.data() + row_bytes * r, out.data() + row * r, row);
  return out;
}

Result<OutputFormat> OutputFormatForPath(const std::string& path) {
  if (EndsWith(path, ".gguf")) return OutputFormat::kGguf;
  if (EndsWith(path, ".bin")) return OutputFormat::kRwkvCpp;
  return Status::InvalidArgument("cannot tell the output format of '" + path +
                                 "': name it *.gguf (GGUF) or *.bin (rwkv.cpp)");
}

Status WriteModel(const ModelSource& in, const WriteOptions& options, const std::string& path,
                  const WriteProgressFn& progress) {
  DTE_ASSIGN_OR_RETURN(OutputFormat format, OutputFormatForPath(path));
  if (format == OutputFormat::kGguf) return WriteGgufModel(in, options, path, progress);
  return WriteRwkvCppModel(in, options, path, progress);
}

Status WriteGgufModel(const ModelFile& in, std::optional<DType> type, const std::string& path,
                      const WriteProgressFn& progress) {
  WriteOptions options;
  options.type = type;
  return WriteGgufModel(SourceOf(in), options, path, progress);
}

}  // namespace dte
