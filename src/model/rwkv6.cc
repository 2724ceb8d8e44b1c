// RWKV-6 "Finch" forward pass (rwkv.cpp conventions, see docs/formats.md).
//
// Time mixing, per token, C = H*N channels, D = mix LoRA rank:
//   sx = x_prev - x;  xxx = x + sx * maa_x
//   m_w, m_k, m_v, m_r, m_g = W2_i tanh(W1 xxx)[i*D:(i+1)*D]     (data-dependent mix)
//   x_* = x + sx * (maa_* + m_*)
//   r = Wr x_r  k = Wk x_k  v = Wv x_v  g = silu(Wg x_g)
//   w = exp(-exp(time_decay + Wd2 tanh(Wd1 x_w)))                 (data-dependent decay)
//   per head: y = wkv5(S, r, k, v, w, u = time_faaaa)              (wkv5.h; S[key][value])
//   out = Wo (GroupNorm(y) * g)
// Channel mixing: x_k = x + sx * maa_k, x_r = x + sx * maa_r; r = sigmoid(Wr x_r);
//   out = r * (Wv relu(Wk x_k)^2).

#include <algorithm>
#include <cmath>

#include "kernels/vector_ops.h"
#include "model/rwkv_base.h"
#include "model/wkv5.h"

namespace dte {
namespace {

constexpr int kMixParts = 5;  // w, k, v, r, g (the order of time_maa_w1's output and w2's slices)

struct Layer6 {
  std::vector<float> maa_x, maa[kMixParts], decay, bonus, ln_x_w, ln_x_b;
  MatrixView maa_w1, maa_w2[kMixParts], decay_w1, decay_w2;
  AttentionMatrices att;
  MatrixView wg;
  ChannelMixRkWeights ffn;
};

enum Slot : size_t {
  kSx = kSlotVersion,
  kXxx,
  kHidden,
  kPart,
  kM,
  kXw,
  kXk,
  kXv,
  kXr,
  kXg,
  kR,
  kK,
  kV,
  kG,
  kW,
  kY
};

class Rwkv6 final : public RwkvModelBase {
 public:
  Rwkv6(ModelConfig config, ModelFile file) : RwkvModelBase(config, std::move(file)) {}

  Status Bind() {
    DTE_RETURN_IF_ERROR(BindCommon());
    const TensorStore& ts = file_.tensors;
    const int64_t c = config_.n_embd, d = config_.lora_mix;
    static const char* kParts[kMixParts] = {"w", "k", "v", "r", "g"};
    layers_.resize(static_cast<size_t>(config_.n_layer));
    for (int64_t l = 0; l < config_.n_layer; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".att.";
      Layer6& w = layers_[static_cast<size_t>(l)];
      DTE_ASSIGN_OR_RETURN(w.maa_x, BindVector(ts, p + "time_maa_x", c));
      for (int i = 0; i < kMixParts; ++i) {
        DTE_ASSIGN_OR_RETURN(w.maa[i], BindVector(ts, p + "time_maa_" + kParts[i], c));
      }
      DTE_ASSIGN_OR_RETURN(w.maa_w1, BindMatrix(ts, p + "time_maa_w1", kMixParts * d, c));
      DTE_ASSIGN_OR_RETURN(const Tensor* w2, ts.GetWithShape(p + "time_maa_w2", {d, c, kMixParts}));
      for (int i = 0; i < kMixParts; ++i) {
        w.maa_w2[i] = MatrixView{w2->type, c, d, nullptr};
        w.maa_w2[i].data = w2->AsMatrix().row(i * c);
      }
      DTE_ASSIGN_OR_RETURN(w.decay, BindVector(ts, p + "time_decay", c));
      DTE_ASSIGN_OR_RETURN(w.decay_w1, BindMatrix(ts, p + "time_decay_w1", config_.lora_decay, c));
      DTE_ASSIGN_OR_RETURN(w.decay_w2, BindMatrix(ts, p + "time_decay_w2", c, config_.lora_decay));
      DTE_ASSIGN_OR_RETURN(w.bonus, BindVector(ts, p + "time_faaaa", c));
      DTE_ASSIGN_OR_RETURN(w.ln_x_w, BindVector(ts, p + "ln_x.weight", c));
      DTE_ASSIGN_OR_RETURN(w.ln_x_b, BindVector(ts, p + "ln_x.bias", c));
      DTE_ASSIGN_OR_RETURN(w.att, BindAttention(ts, l, c));
      DTE_ASSIGN_OR_RETURN(w.wg, BindMatrix(ts, p + "gate.weight", c, c));
      DTE_ASSIGN_OR_RETURN(w.ffn, BindChannelMixRk(ts, l, config_, "time_maa", LerpShift));
    }
    return Status::Ok();
  }

 protected:
  void TimeMix(int64_t layer, const BatchRows& batch, const float* xn, float*, float* out,
               Scratch& s, ThreadPool* pool) const override {
    const Layer6& w = layers_[static_cast<size_t>(layer)];
    const int64_t c = config_.n_embd, hs = config_.head_size, d = config_.lora_mix, n = batch.rows;
    const size_t tc = static_cast<size_t>(n * c);
    float* sx = s.Get(kSx, tc);
    float* xxx = s.Get(kXxx, tc);
    ForEachShiftedRow(batch, layer, kAttShift, xn, c, [&](int64_t t, const float* prev) {
      for (int64_t i = 0; i < c; ++i) {
        sx[t * c + i] = prev[i] - xn[t * c + i];
        xxx[t * c + i] = xn[t * c + i] + sx[t * c + i] * w.maa_x[i];
      }
    });

    float* hidden =
        s.Get(kHidden, static_cast<size_t>(n * std::max(kMixParts * d, config_.lora_decay)));
    MatMul(w.maa_w1, xxx, n, hidden, pool);
    for (int64_t i = 0; i < n * kMixParts * d; ++i) hidden[i] = std::tanh(hidden[i]);
    float* part = s.Get(kPart, static_cast<size_t>(n * d));
    float* m = s.Get(kM, tc);
    float* xs[kMixParts];
    for (int p = 0; p < kMixParts; ++p) {
      xs[p] = s.Get(kXw + p, tc);
      for (int64_t t = 0; t < n; ++t)
        std::copy_n(hidden + t * kMixParts * d + p * d, d, part + t * d);
      MatMul(w.maa_w2[p], part, n, m, pool);
      for (int64_t t = 0; t < n; ++t)
        for (int64_t i = 0; i < c; ++i) {
          const int64_t o = t * c + i;
          xs[p][o] = xn[o] + sx[o] * (w.maa[p][i] + m[o]);
        }
    }

    float *r = s.Get(kR, tc), *k = s.Get(kK, tc), *v = s.Get(kV, tc), *g = s.Get(kG, tc);
    MatMul(w.att.wr, xs[3], n, r, pool);
    MatMul(w.att.wk, xs[1], n, k, pool);
    MatMul(w.att.wv, xs[2], n, v, pool);
    MatMul(w.wg, xs[4], n, g, pool);
    for (size_t i = 0; i < tc; ++i) g[i] = Silu(g[i]);

    float* decay = s.Get(kW, tc);
    MatMul(w.decay_w1, xs[0], n, hidden, pool);
    for (int64_t i = 0; i < n * config_.lora_decay; ++i) hidden[i] = std::tanh(hidden[i]);
    MatMul(w.decay_w2, hidden, n, decay, pool);
    for (size_t i = 0; i < tc; ++i) decay[i] = std::exp(-std::exp(w.decay[i % c] + decay[i]));

    float* y = s.Get(kY, tc);
    ForEachSegmentHead(batch, config_.n_head, pool, [&](const Segment& seg, int64_t h) {
      float* S = seg.state->layer(layer) + wkv_offset() + h * hs * hs;
      for (int64_t t = seg.begin; t < seg.begin + seg.length; ++t) {
        const int64_t o = t * c + h * hs;
        Wkv5Step(S, r + o, k + o, v + o, decay + o, w.bonus.data() + h * hs, hs, y + o);
      }
    });

    for (int64_t t = 0; t < n; ++t) {
      float* yt = y + t * c;
      GroupNorm(yt, w.ln_x_w.data(), w.ln_x_b.data(), c, config_.n_head, config_.group_norm_eps,
                yt);
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
  std::vector<Layer6> layers_;
};

}  // namespace

Result<std::shared_ptr<const Model>> MakeRwkv6(ModelConfig config, ModelFile file) {
  return MakeBoundModel<Rwkv6>(config, std::move(file));
}

}  // namespace dte
