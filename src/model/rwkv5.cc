// RWKV-5.1 and 5.2 "Eagle" forward pass (rwkv.cpp conventions, see docs/formats.md).
//
// Time mixing, per token, C = H*N channels:
//   x_* = x * mix_* + x_prev * (1 - mix_*)       for * in k, v, r (, g for 5.2)
//   r = Wr x_r   k = Wk x_k   v = Wv x_v   (5.2: g = silu(Wg x_g))
//   per head: y = wkv5(S, r, k, v, w, u)          (wkv5.h; S[key][value])
//   y = GroupNorm(y) (* g)                         out = Wo y
// Stored values: w = exp(-exp(decay)) already (5.1 per head, 5.2 per channel); u = time_first
// (5.1, stored as exp of the trained value) or time_faaaa (5.2), both used as stored.
// Channel mixing: r = sigmoid(Wr x_r); k = relu(Wk x_k)^2; out = r * (Wv k).

#include <algorithm>

#include "kernels/vector_ops.h"
#include "model/rwkv_base.h"
#include "model/wkv5.h"

namespace dte {
namespace {

struct Layer5 {
  std::vector<float> mix_k, mix_v, mix_r, mix_g, decay, bonus, ln_x_w, ln_x_b;
  AttentionMatrices att;
  MatrixView wg;  // 5.2 only
  ChannelMixRkWeights ffn;
};

enum Slot : size_t { kXk = kSlotVersion, kXv, kXr, kXg, kR, kK, kV, kG, kY, kFfn };

// Expands a per-head vector to per-channel (5.1 stores one decay and bonus per head).
std::vector<float> PerChannel(const std::vector<float>& v, int64_t n_head, int64_t head_size) {
  if (static_cast<int64_t>(v.size()) == n_head * head_size) return v;
  std::vector<float> out(static_cast<size_t>(n_head * head_size));
  for (int64_t i = 0; i < n_head * head_size; ++i) out[i] = v[i / head_size];
  return out;
}

class Rwkv5 final : public RwkvModelBase {
 public:
  Rwkv5(ModelConfig config, ModelFile file) : RwkvModelBase(config, std::move(file)) {}

  Status Bind() {
    DTE_RETURN_IF_ERROR(BindCommon());
    const TensorStore& ts = file_.tensors;
    const int64_t c = config_.n_embd, h = config_.n_head;
    const bool v52 = gated();
    const int64_t per_head_or_channel = v52 ? c : h;
    layers_.resize(static_cast<size_t>(config_.n_layer));
    for (int64_t l = 0; l < config_.n_layer; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".att.";
      Layer5& w = layers_[static_cast<size_t>(l)];
      DTE_ASSIGN_OR_RETURN(w.mix_k, BindVector(ts, p + "time_mix_k", c));
      DTE_ASSIGN_OR_RETURN(w.mix_v, BindVector(ts, p + "time_mix_v", c));
      DTE_ASSIGN_OR_RETURN(w.mix_r, BindVector(ts, p + "time_mix_r", c));
      DTE_ASSIGN_OR_RETURN(w.decay, BindVector(ts, p + "time_decay", per_head_or_channel));
      DTE_ASSIGN_OR_RETURN(
          w.bonus, BindVector(ts, p + (v52 ? "time_faaaa" : "time_first"), per_head_or_channel));
      w.decay = PerChannel(w.decay, h, config_.head_size);
      w.bonus = PerChannel(w.bonus, h, config_.head_size);
      DTE_ASSIGN_OR_RETURN(w.ln_x_w, BindVector(ts, p + "ln_x.weight", c));
      DTE_ASSIGN_OR_RETURN(w.ln_x_b, BindVector(ts, p + "ln_x.bias", c));
      DTE_ASSIGN_OR_RETURN(w.att, BindAttention(ts, l, c));
      if (v52) {
        DTE_ASSIGN_OR_RETURN(w.mix_g, BindVector(ts, p + "time_mix_g", c));
        DTE_ASSIGN_OR_RETURN(w.wg, BindMatrix(ts, p + "gate.weight", c, c));
      }
      DTE_ASSIGN_OR_RETURN(w.ffn, BindChannelMixRk(ts, l, config_, "time_mix", MixShift));
    }
    return Status::Ok();
  }

 protected:
  bool gated() const { return config_.version == RwkvVersion::kV5_2; }

  void TimeMix(int64_t layer, const BatchRows& batch, const float* xn, float*, float* out,
               Scratch& s, ThreadPool* pool) const override {
    const Layer5& w = layers_[static_cast<size_t>(layer)];
    const int64_t c = config_.n_embd, hs = config_.head_size, n = batch.rows;
    const size_t tc = static_cast<size_t>(n * c);
    float *xk = s.Get(kXk, tc), *xv = s.Get(kXv, tc), *xr = s.Get(kXr, tc), *xg = s.Get(kXg, tc);
    ForEachShiftedRow(batch, layer, kAttShift, xn, c, [&](int64_t t, const float* prev) {
      MixShift(xn + t * c, prev, w.mix_k.data(), c, xk + t * c);
      MixShift(xn + t * c, prev, w.mix_v.data(), c, xv + t * c);
      MixShift(xn + t * c, prev, w.mix_r.data(), c, xr + t * c);
      if (gated()) MixShift(xn + t * c, prev, w.mix_g.data(), c, xg + t * c);
    });

    float *r = s.Get(kR, tc), *k = s.Get(kK, tc), *v = s.Get(kV, tc), *g = s.Get(kG, tc);
    MatMul(w.att.wr, xr, n, r, pool);
    MatMul(w.att.wk, xk, n, k, pool);
    MatMul(w.att.wv, xv, n, v, pool);
    if (gated()) {
      MatMul(w.wg, xg, n, g, pool);
      for (size_t i = 0; i < tc; ++i) g[i] = Silu(g[i]);
    }

    float* y = s.Get(kY, tc);
    ForEachSegmentHead(batch, config_.n_head, pool, [&](const Segment& seg, int64_t h) {
      float* S = seg.state->layer(layer) + wkv_offset() + h * hs * hs;
      for (int64_t t = seg.begin; t < seg.begin + seg.length; ++t) {
        const int64_t o = t * c + h * hs;
        Wkv5Step(S, r + o, k + o, v + o, w.decay.data() + h * hs, w.bonus.data() + h * hs, hs,
                 y + o);
      }
    });

    for (int64_t t = 0; t < n; ++t) {
      float* yt = y + t * c;
      GroupNorm(yt, w.ln_x_w.data(), w.ln_x_b.data(), c, config_.n_head, config_.group_norm_eps,
                yt);
      if (gated())
        for (int64_t i = 0; i < c; ++i) yt[i] *= g[t * c + i];
    }
    MatMul(w.att.wo, y, n, out, pool);
  }

  void ChannelMix(int64_t layer, const BatchRows& batch, const float* xn, float* out, Scratch& s,
                  ThreadPool* pool) const override {
    ChannelMixRk(batch, layer, ffn_shift_offset(), xn, layers_[static_cast<size_t>(layer)].ffn, out,
                 s, pool);
  }

 private:
  std::vector<Layer5> layers_;
};

}  // namespace

Result<std::shared_ptr<const Model>> MakeRwkv5(ModelConfig config, ModelFile file) {
  return MakeBoundModel<Rwkv5>(config, std::move(file));
}

}  // namespace dte
