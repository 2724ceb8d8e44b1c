// ReadGgufModelFile: a GGUF rwkv6 / rwkv7 file -> canonical tensors (see gguf_rwkv.h).
// Tensors are views into the mapping where only the name and shape change; vectors stored in
// another type than F32 and rescaled v6 weights become owned copies.

#include <cmath>
#include <cstring>

#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "model/gguf.h"
#include "model/gguf_rwkv.h"
#include "model/gguf_vocab.h"
#include "model/model_file.h"
#include "model/model_writer.h"

namespace dte {
namespace {

constexpr int64_t kMaxEmbd = 1 << 16;

std::vector<int64_t> Trim(std::vector<int64_t> s) {
  while (s.size() > 1 && s.back() == 1) s.pop_back();
  return s;
}

std::string ShapeString(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

Result<int64_t> GetDim(const GgufFile& f, const std::string& key, int64_t lo, int64_t hi) {
  DTE_ASSIGN_OR_RETURN(int64_t v, f.GetInt(key));
  if (v < lo || v > hi) {
    return Status::Corrupt(f.path() + ": metadata " + key + " = " + std::to_string(v) +
                           ", expected " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return v;
}

// The hyper-parameters the metadata declares (the tensors are checked against them).
Result<ModelConfig> ConfigFromMetadata(const GgufFile& f, const std::string& arch) {
  ModelConfig c;
  c.version = arch == "rwkv7" ? RwkvVersion::kV7 : RwkvVersion::kV6;
  const std::string p = arch + ".";
  const int64_t max_layers = static_cast<int64_t>(f.tensors().size());
  DTE_ASSIGN_OR_RETURN(c.n_embd, GetDim(f, p + "embedding_length", 1, kMaxEmbd));
  DTE_ASSIGN_OR_RETURN(c.n_layer,
                       GetDim(f, p + "block_count", 1, std::max<int64_t>(1, max_layers)));
  DTE_ASSIGN_OR_RETURN(c.ffn_dim, GetDim(f, p + "feed_forward_length", 1, 16 * kMaxEmbd));
  DTE_ASSIGN_OR_RETURN(c.head_size, GetDim(f, p + "wkv.head_size", 1, c.n_embd));
  if (c.n_embd % c.head_size != 0) {
    return Status::Corrupt(f.path() + ": embedding_length " + std::to_string(c.n_embd) +
                           " is not a multiple of wkv.head_size " + std::to_string(c.head_size));
  }
  c.n_head = c.n_embd / c.head_size;
  if (c.version == RwkvVersion::kV7) {
    DTE_ASSIGN_OR_RETURN(c.lora_decay, GetDim(f, p + "attention.decay_lora_rank", 1, kMaxEmbd));
    DTE_ASSIGN_OR_RETURN(c.lora_iclr, GetDim(f, p + "attention.iclr_lora_rank", 1, kMaxEmbd));
    DTE_ASSIGN_OR_RETURN(c.lora_value,
                         GetDim(f, p + "attention.value_residual_mix_lora_rank", 1, kMaxEmbd));
    DTE_ASSIGN_OR_RETURN(c.lora_gate, GetDim(f, p + "attention.gate_lora_rank", 1, kMaxEmbd));
  } else {
    DTE_ASSIGN_OR_RETURN(c.lora_mix, GetDim(f, p + "time_mix_extra_dim", 1, kMaxEmbd));
    DTE_ASSIGN_OR_RETURN(c.lora_decay, GetDim(f, p + "time_decay_extra_dim", 1, kMaxEmbd));
  }
  if (f.Find(p + "attention.layer_norm_epsilon")) {
    DTE_ASSIGN_OR_RETURN(double eps, f.GetFloat(p + "attention.layer_norm_epsilon"));
    c.layer_norm_eps = static_cast<float>(eps);
  }
  const GgufTensorInfo* emb = f.FindTensor("token_embd.weight");
  if (emb == nullptr) return Status::Corrupt(f.path() + ": missing tensor 'token_embd.weight'");
  if (emb->shape.size() != 2 || emb->shape[0] != c.n_embd) {
    return Status::Corrupt(f.path() + ": tensor 'token_embd.weight' has shape " +
                           ShapeString(emb->shape) + ", expected [" + std::to_string(c.n_embd) +
                           ", n_vocab]");
  }
  c.n_vocab = emb->shape[1];
  return c;
}

// n values of `type` at `src`, as F32 bytes.
std::vector<uint8_t> ToF32Bytes(DType type, const uint8_t* src, int64_t row, int64_t n) {
  std::vector<uint8_t> out;
  ConvertRows(type, src, DType::kF32, row, n, &out);
  return out;
}

// A copy of a tensor's bytes with every value multiplied by `factor` (a power of two: exact
// for float types; for quantized blocks only the scales change).
std::vector<uint8_t> ScaledCopy(const Tensor& t, float factor) {
  const auto* src = static_cast<const uint8_t*>(t.data);
  std::vector<uint8_t> out(src, src + t.bytes);
  auto scale_half = [&](uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    h = FloatToFp16(Fp16ToFloat(h) * factor);
    std::memcpy(p, &h, 2);
  };
  switch (t.type) {
    case DType::kF32:
      for (size_t i = 0; i < out.size(); i += 4) {
        float v;
        std::memcpy(&v, &out[i], 4);
        v *= factor;
        std::memcpy(&out[i], &v, 4);
      }
      break;
    case DType::kF16:
      for (size_t i = 0; i < out.size(); i += 2) scale_half(&out[i]);
      break;
    case DType::kBF16:
      for (size_t i = 0; i < out.size(); i += 2) {
        uint16_t b;
        std::memcpy(&b, &out[i], 2);
        b = FloatToBf16(Bf16ToFloat(b) * factor);
        std::memcpy(&out[i], &b, 2);
      }
      break;
    default: {  // ggml blocks start with fp16 d (Q4_1/Q5_1: then fp16 m)
      const size_t block = DTypeBlockBytes(t.type);
      const bool has_min = t.type == DType::kQ4_1 || t.type == DType::kQ5_1;
      for (size_t b = 0; b < out.size(); b += block) {
        scale_half(&out[b]);
        if (has_min) scale_half(&out[b + 2]);
      }
    }
  }
  return out;
}

// Undoes llama.cpp's converter rescaling of v6 weights (rescale_every_n_layers > 0).
void UndoRescale(TensorStore& store, const ModelConfig& c, int64_t every) {
  for (int64_t i = 0; i < c.n_layer; ++i) {
    const int64_t k = i / every;
    if (k == 0) continue;
    const float factor = std::ldexp(1.0f, static_cast<int>(std::min<int64_t>(k, 64)));
    for (const std::string& name : {"blocks." + std::to_string(i) + ".att.output.weight",
                                    "blocks." + std::to_string(i) + ".ffn.value.weight"}) {
      const Tensor* t = store.Find(name);
      if (t == nullptr) continue;
      Tensor copy = *t;
      store.AddOwned(copy.name, copy.type, copy.shape, ScaledCopy(copy, factor));
    }
  }
}

Status AddMapped(const GgufFile& f, const GgufTensorMapping& m, TensorStore& store) {
  const GgufTensorInfo* g = f.FindTensor(m.gguf);
  if (g == nullptr) {
    return Status::Corrupt(f.path() + ": missing tensor '" + m.gguf + "' (canonical '" +
                           m.canonical[0] + "')");
  }
  if (Trim(g->shape) != Trim(m.gguf_shape)) {
    return Status::Corrupt(f.path() + ": tensor '" + m.gguf + "' has shape " +
                           ShapeString(g->shape) + ", expected " + ShapeString(m.gguf_shape));
  }
  if (!g->dtype) {
    std::optional<GgmlTypeTraits> traits = GgmlTypeTraitsOf(g->ggml_type);
    return Status::Unsupported(
        f.path() + ": tensor '" + m.gguf + "' has ggml type " +
        std::string(traits ? traits->name : "?") + " (" + std::to_string(g->ggml_type) +
        "), which this build cannot compute with (f32, f16, bf16, q4_0, q4_1, q5_0, "
        "q5_1, q8_0)");
  }
  const DType type = *g->dtype;
  const bool fused = m.canonical.size() > 1;
  if (fused && DTypeIsQuantized(type)) {
    return Status::Unsupported(f.path() + ": tensor '" + m.gguf + "' is " +
                               std::string(DTypeName(type)) + "; expected a float type");
  }
  // A fused tensor splits into equal float parts; any other maps whole.
  const int64_t part_elems = g->elements() / static_cast<int64_t>(m.canonical.size());
  const size_t part_bytes =
      fused ? static_cast<size_t>(part_elems) * DTypeRowBytes(type, 1) : g->bytes;
  const int64_t row = fused ? part_elems : g->shape[0];
  for (size_t k = 0; k < m.canonical.size(); ++k) {
    const std::string& name = m.canonical[k];
    const uint8_t* part = g->data + part_bytes * k;
    if (type != DType::kF32 && RoleOf(name, m.canonical_shape) == TensorRole::kVector) {
      store.AddOwned(name, DType::kF32, m.canonical_shape, ToF32Bytes(type, part, row, part_elems));
      continue;
    }
    if (DTypeIsQuantized(type) && m.canonical_shape[0] != g->shape[0]) {
      return Status::Corrupt(f.path() + ": quantized tensor '" + m.gguf +
                             "' cannot be reshaped to " + ShapeString(m.canonical_shape));
    }
    Tensor t;
    t.name = name;
    t.type = type;
    t.shape = m.canonical_shape;
    t.data = part;
    t.bytes = part_bytes;
    store.Add(std::move(t));
  }
  return Status::Ok();
}

Status CheckConfigsAgree(const std::string& path, const ModelConfig& meta,
                         const ModelConfig& tensors) {
  if (meta.version != tensors.version || meta.n_embd != tensors.n_embd ||
      meta.n_layer != tensors.n_layer || meta.n_vocab != tensors.n_vocab ||
      meta.head_size != tensors.head_size || meta.ffn_dim != tensors.ffn_dim) {
    return Status::Corrupt(path + ": the metadata says " + meta.ToString() +
                           " but the tensors say " + tensors.ToString());
  }
  return Status::Ok();
}

Result<std::optional<std::vector<std::string>>> ReadVocab(const GgufFile& f, int64_t n_vocab) {
  const GgufValue* model = f.Find("tokenizer.ggml.model");
  const GgufValue* tokens = f.Find("tokenizer.ggml.tokens");
  if (model == nullptr || tokens == nullptr || model->type != GgufType::kString ||
      model->str != "rwkv")
    return std::optional<std::vector<std::string>>();
  if (tokens->type != GgufType::kArray || tokens->elem_type != GgufType::kString)
    return Status::Corrupt(f.path() + ": tokenizer.ggml.tokens is not an array of strings");
  if (static_cast<int64_t>(tokens->array.size()) != n_vocab) {
    return Status::Corrupt(f.path() + ": tokenizer.ggml.tokens has " +
                           std::to_string(tokens->array.size()) + " tokens but the embedding has " +
                           std::to_string(n_vocab) + " rows");
  }
  std::vector<std::string> strings;
  strings.reserve(tokens->array.size());
  for (const GgufValue& v : tokens->array) strings.push_back(v.str);
  std::vector<int32_t> types;
  if (const GgufValue* tt = f.Find("tokenizer.ggml.token_type")) {
    if (tt->type != GgufType::kArray || tt->array.size() != tokens->array.size())
      return Status::Corrupt(f.path() +
                             ": tokenizer.ggml.token_type does not match tokenizer.ggml.tokens");
    for (const GgufValue& v : tt->array)
      types.push_back(static_cast<int32_t>(v.AsInt().value_or(1)));
  }
  Result<std::vector<std::string>> vocab = FromGgufTokens(strings, types);
  if (!vocab.ok()) return vocab.status().WithPrefix(f.path() + ": tokenizer.ggml.tokens");
  return std::optional<std::vector<std::string>>(std::move(*vocab));
}

}  // namespace

Result<ModelFile> ReadGgufModelFile(const std::string& path) {
  DTE_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(path));
  Result<std::string> arch = f.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  if (*arch != "rwkv6" && *arch != "rwkv7") {
    return Status::Unsupported(path + ": GGUF architecture '" + *arch +
                               "' is not one this build runs (rwkv6, rwkv7)");
  }
  DTE_ASSIGN_OR_RETURN(ModelConfig meta, ConfigFromMetadata(f, *arch));
  DTE_ASSIGN_OR_RETURN(std::vector<GgufTensorMapping> mappings, RwkvGgufMappings(meta));

  ModelFile out;
  out.format = FileFormat::kGguf;
  out.path = path;
  out.tensors.KeepAlive(f.mapping());
  for (const GgufTensorMapping& m : mappings) {
    if (m.write_only) continue;
    DTE_RETURN_IF_ERROR(AddMapped(f, m, out.tensors));
  }
  if (*arch == "rwkv6" && f.Find("rwkv6.rescale_every_n_layers")) {
    DTE_ASSIGN_OR_RETURN(int64_t every, GetDim(f, "rwkv6.rescale_every_n_layers", 0, 1 << 20));
    if (every > 0) UndoRescale(out.tensors, meta, every);
  }
  Result<ModelConfig> config = DetectConfig(out.tensors);
  if (!config.ok()) return config.status().WithPrefix(path);
  DTE_RETURN_IF_ERROR(CheckConfigsAgree(path, meta, *config));
  out.config = *config;
  out.config.layer_norm_eps = meta.layer_norm_eps;
  DTE_ASSIGN_OR_RETURN(out.vocab, ReadVocab(f, meta.n_vocab));
  return out;
}

}  // namespace dte
