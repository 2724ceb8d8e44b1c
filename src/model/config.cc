#include "model/config.h"

#include "model/tensor_store.h"

namespace dte {

std::string_view RwkvVersionName(RwkvVersion v) {
  switch (v) {
    case RwkvVersion::kV4: return "4";
    case RwkvVersion::kV5_1: return "5.1";
    case RwkvVersion::kV5_2: return "5.2";
    case RwkvVersion::kV6: return "6";
    case RwkvVersion::kV7: return "7";
  }
  return "?";
}

int64_t ModelConfig::StateFloatsPerLayer() const {
  if (version == RwkvVersion::kV4) return 5 * n_embd;
  return 2 * n_embd + n_head * head_size * head_size;
}

std::string ModelConfig::ToString() const {
  return "RWKV v" + std::string(RwkvVersionName(version)) + " n_vocab=" + std::to_string(n_vocab) +
         " n_embd=" + std::to_string(n_embd) + " n_layer=" + std::to_string(n_layer) +
         " head_size=" + std::to_string(head_size) + " ffn=" + std::to_string(ffn_dim);
}

namespace {

// Dimension `i` of a tensor (1 past its rank).
int64_t Dim(const Tensor& t, size_t i) { return i < t.shape.size() ? t.shape[i] : 1; }

Status Positive(int64_t v, std::string_view what) {
  if (v <= 0) return Status::Corrupt("invalid " + std::string(what) + ": " + std::to_string(v));
  return Status::Ok();
}

}  // namespace

Result<ModelConfig> DetectConfig(const TensorStore& ts) {
  ModelConfig c;
  DTE_ASSIGN_OR_RETURN(const Tensor* emb, ts.Get("emb.weight"));
  c.n_embd = Dim(*emb, 0);
  c.n_vocab = Dim(*emb, 1);
  while (ts.Has("blocks." + std::to_string(c.n_layer) + ".ln1.weight")) ++c.n_layer;
  DTE_RETURN_IF_ERROR(Positive(c.n_embd, "n_embd"));
  DTE_RETURN_IF_ERROR(Positive(c.n_vocab, "n_vocab"));
  DTE_RETURN_IF_ERROR(Positive(c.n_layer, "n_layer (no blocks.0.ln1.weight)"));
  DTE_ASSIGN_OR_RETURN(const Tensor* ffn_key, ts.Get("blocks.0.ffn.key.weight"));
  c.ffn_dim = Dim(*ffn_key, 1);

  const std::string b0 = "blocks.0.att.";
  if (ts.Has(b0 + "r_k")) {
    c.version = RwkvVersion::kV7;
    DTE_ASSIGN_OR_RETURN(const Tensor* r_k, ts.Get(b0 + "r_k"));
    c.head_size = Dim(*r_k, 0);
    DTE_ASSIGN_OR_RETURN(const Tensor* w1, ts.Get(b0 + "w1"));
    DTE_ASSIGN_OR_RETURN(const Tensor* a1, ts.Get(b0 + "a1"));
    DTE_ASSIGN_OR_RETURN(const Tensor* g1, ts.Get(b0 + "g1"));
    c.lora_decay = Dim(*w1, 1);
    c.lora_iclr = Dim(*a1, 1);
    c.lora_gate = Dim(*g1, 1);
    const Tensor* v1 = ts.Find("blocks.1.att.v1");
    c.lora_value = v1 ? Dim(*v1, 1) : c.lora_iclr;
    c.group_norm_eps = 64e-5f;
  } else if (ts.Has(b0 + "time_maa_x")) {
    c.version = RwkvVersion::kV6;
    DTE_ASSIGN_OR_RETURN(const Tensor* faaaa, ts.Get(b0 + "time_faaaa"));
    c.head_size = Dim(*faaaa, 1);
    DTE_ASSIGN_OR_RETURN(const Tensor* maa_w1, ts.Get(b0 + "time_maa_w1"));
    DTE_ASSIGN_OR_RETURN(const Tensor* decay_w1, ts.Get(b0 + "time_decay_w1"));
    c.lora_mix = Dim(*maa_w1, 1) / 5;
    c.lora_decay = Dim(*decay_w1, 1);
    c.group_norm_eps = 64e-5f;
  } else if (ts.Has(b0 + "ln_x.weight")) {
    c.version = ts.Has(b0 + "gate.weight") ? RwkvVersion::kV5_2 : RwkvVersion::kV5_1;
    DTE_ASSIGN_OR_RETURN(const Tensor* decay, ts.Get(b0 + "time_decay"));
    // 5.2: decay per channel {1, N, H}; 5.1: per head {1, 1, H}.
    int64_t n_head = Dim(*decay, 2) > 1 ? Dim(*decay, 2) : Dim(*decay, 0);
    DTE_RETURN_IF_ERROR(Positive(n_head, "head count (time_decay)"));
    c.head_size = c.n_embd / n_head;
    c.group_norm_eps = 1e-5f;
  } else {
    c.version = RwkvVersion::kV4;
  }
  if (c.version != RwkvVersion::kV4) {
    DTE_RETURN_IF_ERROR(Positive(c.head_size, "head_size"));
    if (c.n_embd % c.head_size != 0)
      return Status::Corrupt("n_embd " + std::to_string(c.n_embd) + " is not a multiple of head_size " +
                             std::to_string(c.head_size));
    c.n_head = c.n_embd / c.head_size;
  }
  return c;
}

}  // namespace dte
