// WriteRwkvCppModel: canonical tensors -> rwkv.cpp .bin (version 101). Canonical names and
// value conventions are rwkv.cpp's own, so this is a plain serialization: the 24-byte header,
// then per tensor: dim count, name length, rwkv.cpp type code, shape (ggml order), name, data.

#include <cstring>

#include "model/model_writer.h"
#include "model/output_file.h"
#include "model/rwkvcpp_format.h"

namespace dte {
namespace {

void PutU32(std::vector<uint8_t>* out, uint32_t v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  out->insert(out->end(), p, p + 4);
}

}  // namespace

Status WriteRwkvCppModel(const ModelSource& in, const WriteOptions& options,
                         const std::string& path, const WriteProgressFn& progress) {
  if (options.type && !DTypeToRwkvCpp(*options.type)) {
    return Status::Unsupported("rwkv.cpp files cannot hold " +
                               std::string(DTypeName(*options.type)) +
                               " (f32, f16, q4_0, q4_1, q5_0, q5_1, q8_0)");
  }
  // Stored types and sizes first, so the header can name the type of the big matrices.
  std::vector<DType> types;
  uint64_t total = 0;
  DType main_type = DType::kF32;
  for (const SourceTensor& t : in.tensors) {
    if (t.shape.empty() || t.shape.size() > 3) {
      return Status::InvalidArgument("tensor '" + t.name + "' has " +
                                     std::to_string(t.shape.size()) +
                                     " dimensions; rwkv.cpp files hold 1 to 3");
    }
    if (t.name.size() > kRwkvCppMaxNameLength)
      return Status::InvalidArgument("tensor name '" + t.name + "' is too long for rwkv.cpp");
    DType type = ChooseType(OutputFormat::kRwkvCpp, t.name, t.shape, t.type, options.type);
    if (!DTypeToRwkvCpp(type)) type = DType::kF32;
    types.push_back(type);
    if (t.name == "blocks.0.att.key.weight") main_type = type;
    total += DTypeRowBytes(type, t.shape[0]) * static_cast<uint64_t>(t.elements() / t.shape[0]);
  }

  DTE_ASSIGN_OR_RETURN(OutputFile file, OutputFile::Create(path));
  std::vector<uint8_t> buf;
  for (uint32_t v : {kRwkvCppMagic, 101u, static_cast<uint32_t>(in.config.n_vocab),
                     static_cast<uint32_t>(in.config.n_embd),
                     static_cast<uint32_t>(in.config.n_layer), *DTypeToRwkvCpp(main_type)}) {
    PutU32(&buf, v);
  }
  DTE_RETURN_IF_ERROR(file.Write(buf.data(), buf.size()));

  std::vector<uint8_t> raw;
  uint64_t done = 0;
  for (size_t k = 0; k < in.tensors.size(); ++k) {
    const SourceTensor& t = in.tensors[k];
    buf.clear();
    PutU32(&buf, static_cast<uint32_t>(t.shape.size()));
    PutU32(&buf, static_cast<uint32_t>(t.name.size()));
    PutU32(&buf, *DTypeToRwkvCpp(types[k]));
    for (int64_t d : t.shape) PutU32(&buf, static_cast<uint32_t>(d));
    buf.insert(buf.end(), t.name.begin(), t.name.end());
    DTE_RETURN_IF_ERROR(t.Read(&raw).WithPrefix("writing tensor '" + t.name + "'"));
    const size_t header = buf.size();
    ConvertRows(t.type, raw.data(), types[k], t.shape[0], t.elements(), &buf);
    DTE_RETURN_IF_ERROR(file.Write(buf.data(), buf.size()));
    done += buf.size() - header;
    if (progress) progress(k + 1, in.tensors.size(), done, total);
  }
  return file.Commit();
}

}  // namespace dte
