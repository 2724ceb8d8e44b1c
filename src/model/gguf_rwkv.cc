// The canonical <-> GGUF tensor table for RWKV-6 and RWKV-7 (see gguf_rwkv.h).

#include "model/gguf_rwkv.h"

namespace dte {
namespace {

using Shape = std::vector<int64_t>;

class TableBuilder {
 public:
  explicit TableBuilder(std::vector<GgufTensorMapping>* out) : out_(out) {}
  // One tensor: canonical name/shape <-> GGUF name/shape.
  void Add(std::string canonical, Shape canonical_shape, std::string gguf, Shape gguf_shape) {
    out_->push_back({std::move(gguf),
                     std::move(gguf_shape),
                     {std::move(canonical)},
                     std::move(canonical_shape)});
  }
  // A canonical tensor also written under a second GGUF name that the reader ignores.
  void AddWriteOnly(std::string canonical, Shape canonical_shape, std::string gguf,
                    Shape gguf_shape) {
    Add(std::move(canonical), std::move(canonical_shape), std::move(gguf), std::move(gguf_shape));
    out_->back().write_only = true;
  }
  void AddFused(std::vector<std::string> parts, Shape part_shape, std::string gguf,
                Shape gguf_shape) {
    out_->push_back(
        {std::move(gguf), std::move(gguf_shape), std::move(parts), std::move(part_shape)});
  }

 private:
  std::vector<GgufTensorMapping>* out_;
};

void AddCommonHead(TableBuilder& t, const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.n_vocab;
  t.Add("emb.weight", {C, V}, "token_embd.weight", {C, V});
  t.Add("blocks.0.ln0.weight", {C}, "token_embd_norm.weight", {C});
  t.Add("blocks.0.ln0.bias", {C}, "token_embd_norm.bias", {C});
}

void AddCommonTail(TableBuilder& t, const ModelConfig& c) {
  const int64_t C = c.n_embd, V = c.n_vocab;
  t.Add("ln_out.weight", {C}, "output_norm.weight", {C});
  t.Add("ln_out.bias", {C}, "output_norm.bias", {C});
  t.Add("head.weight", {C, V}, "output.weight", {C, V});
}

void AddNorms(TableBuilder& t, const std::string& b, const std::string& g, int64_t C) {
  for (const char* wb : {"weight", "bias"}) {
    t.Add(b + "ln1." + wb, {C}, g + "attn_norm." + wb, {C});
    t.Add(b + "ln2." + wb, {C}, g + "attn_norm_2." + wb, {C});
  }
}

void AddRwkv7Block(TableBuilder& t, const ModelConfig& c, int64_t i) {
  const int64_t C = c.n_embd, F = c.ffn_dim, N = c.head_size, H = c.n_head;
  const std::string b = "blocks." + std::to_string(i) + ".";
  const std::string a = b + "att.";
  const std::string g = "blk." + std::to_string(i) + ".";
  AddNorms(t, b, g, C);
  t.Add(a + "x_rwkvag", {C, 1, 6}, g + "time_mix_lerp_fused.weight", {C, 1, 1, 6});
  auto lora = [&](const std::string& x, int64_t rank) {
    t.Add(a + x + "0", {C, 1, 1}, g + "time_mix_" + x + "0.weight", {C});
    t.Add(a + x + "1", {C, rank}, g + "time_mix_" + x + "1.weight", {C, rank});
    t.Add(a + x + "2", {rank, C}, g + "time_mix_" + x + "2.weight", {rank, C});
  };
  lora("w", c.lora_decay);
  lora("a", c.lora_iclr);
  if (i > 0) {
    lora("v", c.lora_value);
  } else {
    // llama.cpp wants v0/v1/v2 in block 0 (unused, at the iclr rank): its converter copies
    // a0/a1/a2.
    t.AddWriteOnly(a + "a0", {C, 1, 1}, g + "time_mix_v0.weight", {C});
    t.AddWriteOnly(a + "a1", {C, c.lora_iclr}, g + "time_mix_v1.weight", {C, c.lora_iclr});
    t.AddWriteOnly(a + "a2", {c.lora_iclr, C}, g + "time_mix_v2.weight", {c.lora_iclr, C});
  }
  t.Add(a + "g1", {C, c.lora_gate}, g + "time_mix_g1.weight", {C, c.lora_gate});
  t.Add(a + "g2", {c.lora_gate, C}, g + "time_mix_g2.weight", {c.lora_gate, C});
  t.Add(a + "k_k", {C, 1, 1}, g + "time_mix_k_k.weight", {C});
  t.Add(a + "k_a", {C, 1, 1}, g + "time_mix_k_a.weight", {C});
  t.Add(a + "r_k", {N, H}, g + "time_mix_r_k.weight", {C});
  for (const char* m : {"receptance", "key", "value", "output"})
    t.Add(a + m + ".weight", {C, C}, g + "time_mix_" + m + ".weight", {C, C});
  t.Add(a + "ln_x.weight", {C}, g + "time_mix_ln.weight", {C});
  t.Add(a + "ln_x.bias", {C}, g + "time_mix_ln.bias", {C});
  t.Add(b + "ffn.x_k", {C, 1, 1}, g + "channel_mix_lerp_k.weight", {C, 1, 1});
  t.Add(b + "ffn.key.weight", {C, F}, g + "channel_mix_key.weight", {C, F});
  t.Add(b + "ffn.value.weight", {F, C}, g + "channel_mix_value.weight", {F, C});
}

void AddRwkv6Block(TableBuilder& t, const ModelConfig& c, int64_t i) {
  const int64_t C = c.n_embd, F = c.ffn_dim, N = c.head_size, H = c.n_head;
  const int64_t D = c.lora_mix, DD = c.lora_decay;
  const std::string b = "blocks." + std::to_string(i) + ".";
  const std::string a = b + "att.";
  const std::string g = "blk." + std::to_string(i) + ".";
  AddNorms(t, b, g, C);
  t.Add(a + "time_maa_x", {C}, g + "time_mix_lerp_x.weight", {C, 1, 1});
  t.AddFused(
      {a + "time_maa_w", a + "time_maa_k", a + "time_maa_v", a + "time_maa_r", a + "time_maa_g"},
      {C}, g + "time_mix_lerp_fused.weight", {C, 1, 1, 5});
  t.Add(a + "time_maa_w1", {C, 5 * D}, g + "time_mix_w1.weight", {C, 5 * D});
  t.Add(a + "time_maa_w2", {D, C, 5}, g + "time_mix_w2.weight", {D, C, 5});
  t.Add(a + "time_decay", {1, N, H}, g + "time_mix_decay.weight", {C});
  t.Add(a + "time_decay_w1", {C, DD}, g + "time_mix_decay_w1.weight", {C, DD});
  t.Add(a + "time_decay_w2", {DD, C}, g + "time_mix_decay_w2.weight", {DD, C});
  t.Add(a + "time_faaaa", {1, N, H}, g + "time_mix_first.weight", {N, H});
  for (const char* m : {"receptance", "key", "value", "output", "gate"})
    t.Add(a + m + ".weight", {C, C}, g + "time_mix_" + m + ".weight", {C, C});
  t.Add(a + "ln_x.weight", {C}, g + "time_mix_ln.weight", {C});
  t.Add(a + "ln_x.bias", {C}, g + "time_mix_ln.bias", {C});
  t.Add(b + "ffn.time_maa_k", {C}, g + "channel_mix_lerp_k.weight", {C, 1, 1});
  t.Add(b + "ffn.time_maa_r", {C}, g + "channel_mix_lerp_r.weight", {C, 1, 1});
  t.Add(b + "ffn.key.weight", {C, F}, g + "channel_mix_key.weight", {C, F});
  t.Add(b + "ffn.value.weight", {F, C}, g + "channel_mix_value.weight", {F, C});
  t.Add(b + "ffn.receptance.weight", {C, C}, g + "channel_mix_receptance.weight", {C, C});
}

}  // namespace

Result<std::string> GgufArchitectureFor(RwkvVersion version) {
  switch (version) {
    case RwkvVersion::kV6:
      return std::string("rwkv6");
    case RwkvVersion::kV7:
      return std::string("rwkv7");
    default:
      return Status::Unsupported("RWKV v" + std::string(RwkvVersionName(version)) +
                                 " has no GGUF architecture (llama.cpp runs only rwkv6 and rwkv7); "
                                 "convert it to rwkv.cpp .bin instead");
  }
}

Result<std::vector<GgufTensorMapping>> RwkvGgufMappings(const ModelConfig& c) {
  DTE_RETURN_IF_ERROR(GgufArchitectureFor(c.version).status());
  std::vector<GgufTensorMapping> out;
  TableBuilder t(&out);
  AddCommonHead(t, c);
  for (int64_t i = 0; i < c.n_layer; ++i) {
    if (c.version == RwkvVersion::kV7) {
      AddRwkv7Block(t, c, i);
    } else {
      AddRwkv6Block(t, c, i);
    }
  }
  AddCommonTail(t, c);
  return out;
}

}  // namespace dte
