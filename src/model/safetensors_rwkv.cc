// ReadSafetensorsModelFile: a BlinkDL-named RWKV checkpoint in safetensors -> canonical tensors,
// applying the transforms rwkv.cpp's converter applies (so values match its .bin files):
//   v7: att.x_r,x_w,x_k,x_v,x_a,x_g [1,1,C] -> att.x_rwkvag (ggml [C,1,6]); LoRA matrices
//       w1,w2,a1,a2,v1,v2,g1,g2 transposed (applied as W·x); block 0's unused v0/v1/v2 dropped;
//   v6: time_maa_w1, time_decay_w1/w2 transposed, time_maa_w2 transposed per slice,
//       time_decay [1,1,C] and time_faaaa [H,N] reshaped to ggml [1,N,H] (values raw).
// Matrices (F32/F16/BF16) stay views into the mapping; vectors become F32.

#include <cstring>

#include "kernels/quant.h"
#include "model/model_file.h"
#include "model/model_writer.h"
#include "model/safetensors.h"

namespace dte {
namespace {

using Shape = std::vector<int64_t>;

Shape Reversed(Shape s) { return Shape(s.rbegin(), s.rend()); }

std::optional<DType> DTypeOf(const std::string& d) {
  if (d == "F32") return DType::kF32;
  if (d == "F16") return DType::kF16;
  if (d == "BF16") return DType::kBF16;
  return std::nullopt;
}

// Swaps the last two dimensions of a PyTorch-order tensor ([.., a, b] -> [.., b, a]).
std::vector<uint8_t> TransposeLast2(const SafetensorsTensor& t, size_t elem) {
  const int64_t a = t.shape[t.shape.size() - 2], b = t.shape.back();
  const int64_t slices = t.elements() / (a * b);
  std::vector<uint8_t> out(t.bytes);
  for (int64_t s = 0; s < slices; ++s) {
    const uint8_t* in = t.data + s * a * b * elem;
    uint8_t* o = out.data() + s * a * b * elem;
    for (int64_t i = 0; i < a; ++i)
      for (int64_t j = 0; j < b; ++j)
        std::memcpy(o + (j * a + i) * elem, in + (i * b + j) * elem, elem);
  }
  return out;
}

std::vector<float> ToFloats(DType type, const uint8_t* data, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  DequantizeRow(type, data, out.data(), n);
  return out;
}

struct Rules {
  RwkvVersion version;
  // Suffixes (after "blocks.N.") of tensors transposed in their last two dimensions.
  std::vector<std::string> transposed;
};

class Translator {
 public:
  Translator(const SafetensorsFile& f, ModelFile& out, Rules rules, int64_t head_size)
      : f_(f), out_(out), rules_(std::move(rules)), head_size_(head_size) {}

  Status Add(const SafetensorsTensor& t) {
    std::optional<DType> type = DTypeOf(t.dtype);
    if (!type) {
      return Status::Unsupported(f_.path() + ": tensor '" + t.name + "' has dtype " + t.dtype +
                                 " (expected F32, F16 or BF16)");
    }
    if (t.shape.empty() || t.elements() == 0)
      return Status::Corrupt(f_.path() + ": tensor '" + t.name + "' is empty");
    const std::string suffix = BlockSuffix(t.name);
    if (rules_.version == RwkvVersion::kV7) {
      if (t.name.rfind("blocks.0.att.v", 0) == 0 &&
          (suffix == "att.v0" || suffix == "att.v1" || suffix == "att.v2"))
        return Status::Ok();  // block 0 does not use them
      if (suffix.size() == 7 && suffix.rfind("att.x_", 0) == 0 &&
          std::string_view("rwkvag").find(suffix[6]) != std::string_view::npos) {
        mixes_[t.name.substr(0, t.name.size() - suffix.size())][suffix[6]] = &t;
        return Status::Ok();
      }
    }
    for (const std::string& s : rules_.transposed) {
      if (suffix == s) {
        if (t.shape.size() < 2)
          return Status::Corrupt(f_.path() + ": tensor '" + t.name + "' should be a matrix");
        // Transposed PyTorch [.., a, b] -> [.., b, a] is ggml [a, b, ..]: the original shape in
        // order.
        Shape shape = t.shape;
        if (shape.size() == 3) shape = {t.shape[1], t.shape[2], t.shape[0]};
        out_.tensors.AddOwned(t.name, *type, shape,
                              TransposeLast2(t, SafetensorsDTypeSize(t.dtype)));
        return Status::Ok();
      }
    }
    Shape shape = CanonicalShape(t, suffix);
    if (RoleOf(t.name, shape) == TensorRole::kVector) {
      out_.tensors.AddOwnedF32(t.name, shape, ToFloats(*type, t.data, t.elements()));
      return Status::Ok();
    }
    out_.tensors.Add(Tensor{t.name, *type, shape, t.data, t.bytes});
    return Status::Ok();
  }

  // v7: concatenates each block's six mix vectors in rwkv.cpp's order r,w,k,v,a,g.
  Status Finish() {
    for (const auto& [prefix, parts] : mixes_) {
      std::vector<float> all;
      int64_t c = -1;
      for (char x : std::string("rwkvag")) {
        auto it = parts.find(x);
        if (it == parts.end())
          return Status::Corrupt(f_.path() + ": missing tensor '" + prefix + "att.x_" +
                                 std::string(1, x) + "'");
        const SafetensorsTensor& t = *it->second;
        if (c >= 0 && t.elements() != c)
          return Status::Corrupt(f_.path() + ": tensor '" + t.name + "' has " +
                                 std::to_string(t.elements()) + " values, expected " +
                                 std::to_string(c));
        c = t.elements();
        std::vector<float> v = ToFloats(*DTypeOf(t.dtype), t.data, c);
        all.insert(all.end(), v.begin(), v.end());
      }
      out_.tensors.AddOwnedF32(prefix + "att.x_rwkvag", {c, 1, 6}, all);
    }
    return Status::Ok();
  }

 private:
  static std::string BlockSuffix(const std::string& name) {
    if (name.rfind("blocks.", 0) != 0) return "";
    size_t dot = name.find('.', 7);
    return dot == std::string::npos ? "" : name.substr(dot + 1);
  }

  // The ggml-order canonical shape of a tensor that is not transposed.
  Shape CanonicalShape(const SafetensorsTensor& t, const std::string& suffix) const {
    if (rules_.version == RwkvVersion::kV6) {
      // rwkv.cpp keeps v6 mix vectors 1-D and decay / bonus as [1, N, H].
      if (suffix == "att.time_faaaa") return {1, head_size_, t.elements() / head_size_};
      if (suffix == "att.time_decay") return {1, head_size_, t.elements() / head_size_};
      if (suffix.find("time_maa_") != std::string::npos) return {t.elements()};
    }
    return Reversed(t.shape);
  }

  const SafetensorsFile& f_;
  ModelFile& out_;
  Rules rules_;
  int64_t head_size_;
  std::map<std::string, std::map<char, const SafetensorsTensor*>> mixes_;
};

}  // namespace

Result<ModelFile> ReadSafetensorsModelFile(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(SafetensorsFile f, SafetensorsFile::Open(path));
  Rules rules;
  int64_t head_size = 1;
  if (f.Find("blocks.0.att.r_k")) {
    rules = {RwkvVersion::kV7,
             {"att.w1", "att.w2", "att.a1", "att.a2", "att.v1", "att.v2", "att.g1", "att.g2"}};
  } else if (f.Find("blocks.0.att.time_maa_x")) {
    rules = {RwkvVersion::kV6,
             {"att.time_maa_w1", "att.time_maa_w2", "att.time_decay_w1", "att.time_decay_w2"}};
    const SafetensorsTensor* faaaa = f.Find("blocks.0.att.time_faaaa");
    if (faaaa == nullptr || faaaa->shape.size() != 2)
      return Status::Corrupt(path + ": RWKV-6 checkpoint without a [H, N] blocks.0.att.time_faaaa");
    head_size = faaaa->shape[1];
  } else {
    return Status::Unsupported(path +
                               ": not an RWKV-6/7 checkpoint with BlinkDL tensor names "
                               "(no blocks.0.att.r_k or blocks.0.att.time_maa_x)");
  }
  ModelFile out;
  out.format = FileFormat::kSafetensors;
  out.path = path;
  out.tensors.KeepAlive(f.mapping());
  Translator tr(f, out, rules, head_size);
  for (const SafetensorsTensor& t : f.tensors()) DTE_RETURN_IF_ERROR(tr.Add(t));
  DTE_RETURN_IF_ERROR(tr.Finish());
  // The tensors the configuration is read from must be there before it is detected.
  const std::vector<std::string> needed =
      rules.version == RwkvVersion::kV7
          ? std::vector<std::string>{"emb.weight", "blocks.0.att.w1", "blocks.0.att.a1",
                                     "blocks.0.att.g1", "blocks.0.ffn.key.weight"}
          : std::vector<std::string>{"emb.weight", "blocks.0.att.time_maa_w1",
                                     "blocks.0.att.time_decay_w1", "blocks.0.ffn.key.weight"};
  for (const std::string& name : needed) {
    if (!out.tensors.Has(name)) return Status::Corrupt(path + ": missing tensor '" + name + "'");
  }
  Result<ModelConfig> config = DetectConfig(out.tensors);
  if (!config.ok()) return config.status().WithPrefix(path);
  out.config = *config;
  return out;
}

}  // namespace dte
