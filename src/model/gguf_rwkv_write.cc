// WriteGgufModel: canonical tensors -> a GGUF file llama.cpp loads as rwkv6 / rwkv7.

#include <filesystem>
#include <set>

#include "model/gguf.h"
#include "model/gguf_rwkv.h"
#include "model/gguf_vocab.h"
#include "model/model_writer.h"

namespace dte {
namespace {

// llama.cpp's llama_ftype for the type of the big matrices.
uint32_t LlamaFileType(DType t) {
  switch (t) {
    case DType::kF32:
      return 0;
    case DType::kF16:
      return 1;
    case DType::kQ4_0:
      return 2;
    case DType::kQ4_1:
      return 3;
    case DType::kQ8_0:
      return 7;
    case DType::kQ5_0:
      return 8;
    case DType::kQ5_1:
      return 9;
    case DType::kBF16:
      return 32;
  }
  return 0;
}

int64_t Elements(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

void SetHyperParameters(GgufWriter& w, const std::string& arch, const ModelConfig& c) {
  const std::string p = arch + ".";
  w.Set(p + "context_length", GgufValue::U32(1u << 20));  // RWKV has no context limit
  w.Set(p + "embedding_length", GgufValue::U32(static_cast<uint32_t>(c.n_embd)));
  w.Set(p + "block_count", GgufValue::U32(static_cast<uint32_t>(c.n_layer)));
  w.Set(p + "feed_forward_length", GgufValue::U32(static_cast<uint32_t>(c.ffn_dim)));
  w.Set(p + "attention.head_count", GgufValue::U32(0));  // required by llama.cpp, unused
  w.Set(p + "attention.layer_norm_epsilon", GgufValue::F32(c.layer_norm_eps));
  w.Set(p + "wkv.head_size", GgufValue::U32(static_cast<uint32_t>(c.head_size)));
  if (c.version == RwkvVersion::kV7) {
    w.Set(p + "attention.decay_lora_rank", GgufValue::U32(static_cast<uint32_t>(c.lora_decay)));
    w.Set(p + "attention.iclr_lora_rank", GgufValue::U32(static_cast<uint32_t>(c.lora_iclr)));
    w.Set(p + "attention.value_residual_mix_lora_rank",
          GgufValue::U32(static_cast<uint32_t>(c.lora_value)));
    w.Set(p + "attention.gate_lora_rank", GgufValue::U32(static_cast<uint32_t>(c.lora_gate)));
  } else {
    w.Set(p + "rescale_every_n_layers", GgufValue::U32(0));  // canonical weights are not rescaled
    w.Set(p + "time_mix_extra_dim", GgufValue::U32(static_cast<uint32_t>(c.lora_mix)));
    w.Set(p + "time_decay_extra_dim", GgufValue::U32(static_cast<uint32_t>(c.lora_decay)));
  }
}

Status SetVocab(GgufWriter& w, const ModelSource& in) {
  std::vector<std::string> vocab;
  if (in.vocab) {
    vocab = *in.vocab;
  } else if (in.config.n_vocab == 256) {
    vocab = ByteVocab();
  } else {
    return Status::InvalidArgument(
        "the model has " + std::to_string(in.config.n_vocab) +
        " tokens and carries no vocabulary; GGUF needs one (give the World "
        "vocabulary file, rwkv_vocab_v20230424.txt)");
  }
  if (static_cast<int64_t>(vocab.size()) != in.config.n_vocab) {
    return Status::InvalidArgument("the vocabulary has " + std::to_string(vocab.size()) +
                                   " tokens but the model has " +
                                   std::to_string(in.config.n_vocab));
  }
  GgufTokenList list = ToGgufTokens(vocab);
  w.Set("tokenizer.ggml.model", GgufValue::String("rwkv"));
  w.Set("tokenizer.ggml.tokens", GgufValue::StringArray(list.tokens));
  w.Set("tokenizer.ggml.token_type", GgufValue::I32Array(list.types));
  return Status::Ok();
}

// Adds one mapped tensor to the writer; `used` collects the canonical names consumed.
Status AddTensor(GgufWriter& w, const ModelSource& in, const GgufTensorMapping& m,
                 std::optional<DType> requested, std::set<std::string>& used, DType* chosen) {
  std::vector<const SourceTensor*> parts;
  for (const std::string& name : m.canonical) {
    DTE_ASSIGN_OR_RETURN(const SourceTensor* s, in.Get(name));
    if (s->elements() * static_cast<int64_t>(m.canonical.size()) != Elements(m.gguf_shape)) {
      return Status::InvalidArgument(
          "tensor '" + name + "' has " + std::to_string(s->elements()) + " values; GGUF '" +
          m.gguf + "' needs " +
          std::to_string(Elements(m.gguf_shape) / static_cast<int64_t>(m.canonical.size())));
    }
    if (DTypeIsQuantized(s->type) && s->shape[0] != m.gguf_shape[0]) {
      return Status::InvalidArgument("quantized tensor '" + name + "' has rows of " +
                                     std::to_string(s->shape[0]) + ", GGUF '" + m.gguf +
                                     "' needs " + std::to_string(m.gguf_shape[0]));
    }
    parts.push_back(s);
    used.insert(name);
  }
  if (parts.size() > 1) {  // v6 time_mix_lerp_fused: F32 parts back to back
    *chosen = DType::kF32;
    return w.AddTensor(m.gguf, DType::kF32, m.gguf_shape, [parts](std::vector<uint8_t>* out) {
      for (const SourceTensor* s : parts) {
        DTE_ASSIGN_OR_RETURN(std::vector<float> v, SourceToFloats(*s));
        const auto* p = reinterpret_cast<const uint8_t*>(v.data());
        out->insert(out->end(), p, p + v.size() * sizeof(float));
      }
      return Status::Ok();
    });
  }
  const SourceTensor* s = parts[0];
  const DType type =
      ChooseType(OutputFormat::kGguf, m.canonical[0], m.gguf_shape, s->type, requested);
  *chosen = type;
  return w.AddTensor(m.gguf, type, m.gguf_shape, [s, type](std::vector<uint8_t>* out) {
    std::vector<uint8_t> raw;
    DTE_RETURN_IF_ERROR(s->Read(&raw));
    ConvertRows(s->type, raw.data(), type, s->shape[0], s->elements(), out);
    return Status::Ok();
  });
}

}  // namespace

Status WriteGgufModel(const ModelSource& in, const WriteOptions& options, const std::string& path,
                      const WriteProgressFn& progress) {
  DTE_ASSIGN_OR_RETURN(std::string arch, GgufArchitectureFor(in.config.version));
  DTE_ASSIGN_OR_RETURN(std::vector<GgufTensorMapping> mappings, RwkvGgufMappings(in.config));
  GgufWriter w;
  w.Set("general.architecture", GgufValue::String(arch));
  std::string name =
      options.name.empty() ? std::filesystem::path(path).stem().string() : options.name;
  w.Set("general.name", GgufValue::String(name));
  w.Set("general.file_type", GgufValue::U32(0));  // set below, once the types are chosen
  w.Set("general.quantization_version", GgufValue::U32(2));
  SetHyperParameters(w, arch, in.config);
  DTE_RETURN_IF_ERROR(SetVocab(w, in));

  std::set<std::string> used;
  DType main_type = DType::kF32;
  for (const GgufTensorMapping& m : mappings) {
    DType chosen;
    DTE_RETURN_IF_ERROR(AddTensor(w, in, m, options.type, used, &chosen));
    if (m.canonical[0] == "blocks.0.att.key.weight") main_type = chosen;
  }
  for (const SourceTensor& t : in.tensors) {
    if (!used.count(t.name)) {
      return Status::InvalidArgument("tensor '" + t.name + "' has no place in a GGUF " + arch +
                                     " model (not a tensor of RWKV v" +
                                     std::string(RwkvVersionName(in.config.version)) + ")");
    }
  }
  w.Set("general.file_type", GgufValue::U32(LlamaFileType(main_type)));
  return w.Write(path, progress);
}

}  // namespace dte
