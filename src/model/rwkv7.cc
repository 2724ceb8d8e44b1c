// RWKV-7 "Goose" forward pass (rwkv.cpp conventions, see docs/formats.md).
//
// Time mixing, per token, C = H*N channels, S[h] is N x N with S[value][key]:
//   x_* = x + (x_prev - x) * mix_*            for * in r,w,k,v,a,g
//   r = Wr x_r   k = Wk x_k   v = Wv x_v
//   decay = exp(-e^-0.5 * sigmoid(w0 + W2 tanh(W1 x_w)))
//   a = sigmoid(a0 + A2 A1 x_a)               (in-context learning rate)
//   g = G2 sigmoid(G1 x_g)
//   v = layer 0 ? (v_first = v) : v + (v_first - v) * sigmoid(v0 + V2 V1 x_v)
//   kk = normalize_per_head(k * k_k);  k = k * (1 + (a - 1) * k_a)
//   S = S diag(decay) - (S kk) (kk*a)^T + v k^T;   y = S r
//   y = GroupNorm(y) + (sum_head r*k*r_k) * v;     out = Wo (y * g)
// Channel mixing: k = relu(Wk (x + (x_prev - x) * x_k))^2;  out = Wv k.

#include <algorithm>
#include <cmath>

#include "kernels/activations.h"
#include "kernels/vector_ops.h"
#include "kernels/wkv7.h"
#include "model/rwkv_base.h"

namespace dte {
namespace {

struct Layer7 {
  std::vector<float> mix;  // 6 x C: r, w, k, v, a, g
  std::vector<float> w0, a0, v0, k_k, k_a, r_k, ln_x_w, ln_x_b, ffn_x_k;
  MatrixView w1, w2, a1, a2, v1, v2, g1, g2;
  AttentionMatrices att;
  MatrixView ffn_key, ffn_value;
};

enum Slot : size_t {
  kXr = kSlotVersion,
  kXw,
  kXk,
  kXv,
  kXa,
  kXg,
  kR,
  kK,
  kV,
  kDecay,
  kA,
  kG,
  kHidden,
  kKk,
  kY,
  kVMix,
  kFfn
};

class Rwkv7 final : public RwkvModelBase {
 public:
  Rwkv7(ModelConfig config, ModelFile file) : RwkvModelBase(config, std::move(file)) {}

  Status Bind() {
    DTE_RETURN_IF_ERROR(BindCommon());
    const TensorStore& ts = file_.tensors;
    const int64_t c = config_.n_embd, f = config_.ffn_dim;
    layers_.resize(static_cast<size_t>(config_.n_layer));
    for (int64_t l = 0; l < config_.n_layer; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".att.";
      Layer7& w = layers_[static_cast<size_t>(l)];
      DTE_ASSIGN_OR_RETURN(w.mix, BindVector(ts, p + "x_rwkvag", 6 * c));
      DTE_ASSIGN_OR_RETURN(w.w0, BindVector(ts, p + "w0", c));
      DTE_ASSIGN_OR_RETURN(w.a0, BindVector(ts, p + "a0", c));
      DTE_ASSIGN_OR_RETURN(w.k_k, BindVector(ts, p + "k_k", c));
      DTE_ASSIGN_OR_RETURN(w.k_a, BindVector(ts, p + "k_a", c));
      DTE_ASSIGN_OR_RETURN(w.r_k, BindVector(ts, p + "r_k", c));
      DTE_ASSIGN_OR_RETURN(w.ln_x_w, BindVector(ts, p + "ln_x.weight", c));
      DTE_ASSIGN_OR_RETURN(w.ln_x_b, BindVector(ts, p + "ln_x.bias", c));
      DTE_ASSIGN_OR_RETURN(w.w1, BindMatrix(ts, p + "w1", config_.lora_decay, c));
      DTE_ASSIGN_OR_RETURN(w.w2, BindMatrix(ts, p + "w2", c, config_.lora_decay));
      DTE_ASSIGN_OR_RETURN(w.a1, BindMatrix(ts, p + "a1", config_.lora_iclr, c));
      DTE_ASSIGN_OR_RETURN(w.a2, BindMatrix(ts, p + "a2", c, config_.lora_iclr));
      DTE_ASSIGN_OR_RETURN(w.g1, BindMatrix(ts, p + "g1", config_.lora_gate, c));
      DTE_ASSIGN_OR_RETURN(w.g2, BindMatrix(ts, p + "g2", c, config_.lora_gate));
      if (l > 0) {  // block 0 computes v_first and has no value-residual LoRA
        DTE_ASSIGN_OR_RETURN(w.v0, BindVector(ts, p + "v0", c));
        DTE_ASSIGN_OR_RETURN(w.v1, BindMatrix(ts, p + "v1", config_.lora_value, c));
        DTE_ASSIGN_OR_RETURN(w.v2, BindMatrix(ts, p + "v2", c, config_.lora_value));
      }
      DTE_ASSIGN_OR_RETURN(w.att, BindAttention(ts, l, c));
      const std::string q = "blocks." + std::to_string(l) + ".ffn.";
      DTE_ASSIGN_OR_RETURN(w.ffn_x_k, BindVector(ts, q + "x_k", c));
      DTE_ASSIGN_OR_RETURN(w.ffn_key, BindMatrix(ts, q + "key.weight", f, c));
      DTE_ASSIGN_OR_RETURN(w.ffn_value, BindMatrix(ts, q + "value.weight", c, f));
    }
    return Status::Ok();
  }

 protected:
  void TimeMix(int64_t layer, const BatchRows& batch, const float* xn, float* v_first, float* out,
               Scratch& s, ThreadPool* pool) const override {
    const Layer7& w = layers_[static_cast<size_t>(layer)];
    const int64_t c = config_.n_embd, n = batch.rows;
    const size_t tc = static_cast<size_t>(n * c);
    float* xs[6];
    for (size_t i = 0; i < 6; ++i) xs[i] = s.Get(kXr + i, tc);
    ShiftRows(batch, layer, kAttShift, xn, c, pool, [&](int64_t t, const float* prev) {
      for (size_t i = 0; i < 6; ++i)
        LerpShift(xn + t * c, prev, w.mix.data() + i * c, c, xs[i] + t * c);
    });

    float* r = s.Get(kR, tc);
    float* k = s.Get(kK, tc);
    float* v = s.Get(kV, tc);
    float* decay = s.Get(kDecay, tc);
    float* a = s.Get(kA, tc);
    float* g = s.Get(kG, tc);
    const int64_t max_rank =
        std::max({config_.lora_decay, config_.lora_iclr, config_.lora_gate, config_.lora_value});
    // The four low-rank pairs (decay, a, g, value residual) with their own hidden rows.
    float* hidden = s.Get(kHidden, static_cast<size_t>(4 * n * max_rank));
    float* vmix = layer == 0 ? nullptr : s.Get(kVMix, tc);
    struct Lora {
      const MatrixView *first, *second;
      const float* x;
      float* out;
      Act act;
    };
    const Lora loras[4] = {{&w.w1, &w.w2, xs[1], decay, Act::kTanh},
                           {&w.a1, &w.a2, xs[4], a, Act::kNone},
                           {&w.g1, &w.g2, xs[5], g, Act::kSigmoid},
                           {&w.v1, &w.v2, xs[3], vmix, Act::kNone}};
    const size_t n_lora = layer == 0 ? 3 : 4;  // block 0 has no value-residual pair
    // Everything that reads only the shifted inputs, then the second halves of the pairs: for
    // few tokens each group is one parallel loop (MatMulMany).
    MatMulTask first[7] = {{w.att.wr, xs[0], r}, {w.att.wk, xs[2], k}, {w.att.wv, xs[3], v}};
    for (size_t j = 0; j < n_lora; ++j)
      first[3 + j] = {*loras[j].first, loras[j].x, hidden + j * n * max_rank};
    MatMulMany(std::span<const MatMulTask>(first, 3 + n_lora), n, pool);
    MatMulTask second[4];
    for (size_t j = 0; j < n_lora; ++j) {
      float* h = hidden + j * n * max_rank;
      const int64_t rank = loras[j].first->rows;
      if (loras[j].act != Act::kNone) {
        const Act act = loras[j].act;
        ForRows(n, pool, [&](int64_t t0, int64_t t1) {
          float* ht = h + t0 * rank;
          const int64_t count = (t1 - t0) * rank;
          if (act == Act::kSigmoid) {
            SigmoidAdd(ht, nullptr, count, ht);
          } else {
            for (int64_t i = 0; i < count; ++i) ht[i] = std::tanh(ht[i]);
          }
        });
      }
      second[j] = {*loras[j].second, h, loras[j].out};
    }
    MatMulMany(std::span<const MatMulTask>(second, n_lora), n, pool);
    if (layer == 0) std::copy_n(v, tc, v_first);

    float* kk = s.Get(kKk, tc);
    const int64_t hs = config_.head_size, heads = config_.n_head;
    ForRows(n, pool, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t o = t * c;
        ExpSigmoidAdd(decay + o, w.w0.data(), -0.606531f, c, decay + o);  // -exp(-0.5)
        SigmoidAdd(a + o, w.a0.data(), c, a + o);
        if (vmix != nullptr) {
          SigmoidAdd(vmix + o, w.v0.data(), c, vmix + o);
          for (int64_t i = 0; i < c; ++i) v[o + i] += (v_first[o + i] - v[o + i]) * vmix[o + i];
        }
        for (int64_t i = 0; i < c; ++i) kk[o + i] = k[o + i] * w.k_k[i];
        for (int64_t h = 0; h < heads; ++h) {  // L2-normalize each head
          float* p = kk + o + h * hs;
          float norm = 0;
          for (int64_t j = 0; j < hs; ++j) norm += p[j] * p[j];
          const float inv = 1.0f / std::max(std::sqrt(norm), 1e-12f);
          for (int64_t j = 0; j < hs; ++j) p[j] *= inv;
        }
        for (int64_t i = 0; i < c; ++i) k[o + i] *= 1.0f + (a[o + i] - 1.0f) * w.k_a[i];
      }
    });

    float* y = s.Get(kY, tc);
    ForEachSegmentHead(batch, heads, pool, [&](const Segment& seg, int64_t h) {
      float* S = seg.state->layer(layer) + wkv_offset() + h * hs * hs;
      // The next head's state loads while this one computes (batch-1 decode: 93 -> 76 us of
      // WKV7 per token, 0.1B model, 2 threads).
      if (h + 1 < heads) PrefetchWkv7State(hs, S + hs * hs);
      for (int64_t t = seg.begin; t < seg.begin + seg.length; ++t) {
        const int64_t o = t * c + h * hs;
        Wkv7Step(hs, S, r + o, k + o, v + o, decay + o, kk + o, a + o, y + o);
      }
    });

    ForRows(n, pool, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        float* yt = y + t * c;
        GroupNorm(yt, w.ln_x_w.data(), w.ln_x_b.data(), c, heads, config_.group_norm_eps, yt);
        for (int64_t h = 0; h < heads; ++h) {
          const int64_t o = t * c + h * hs;
          float bonus = 0;
          for (int64_t j = 0; j < hs; ++j) bonus += r[o + j] * k[o + j] * w.r_k[h * hs + j];
          for (int64_t j = 0; j < hs; ++j) y[o + j] += bonus * v[o + j];
        }
        for (int64_t i = 0; i < c; ++i) yt[i] *= g[t * c + i];
      }
    });
    MatMul(w.att.wo, y, n, out, pool);
  }

  void ChannelMix(int64_t layer, const BatchRows& batch, const float* xn, float* out, Scratch& s,
                  ThreadPool* pool) const override {
    const Layer7& w = layers_[static_cast<size_t>(layer)];
    const int64_t c = config_.n_embd, n = batch.rows;
    float* xk = s.Get(kXr, static_cast<size_t>(n * c));
    ShiftRows(batch, layer, ffn_shift_offset(), xn, c, pool, [&](int64_t t, const float* prev) {
      LerpShift(xn + t * c, prev, w.ffn_x_k.data(), c, xk + t * c);
    });
    const int64_t f = config_.ffn_dim;
    float* hidden = s.Get(kFfn, static_cast<size_t>(n * f));
    MatMul(w.ffn_key, xk, n, hidden, pool);
    ForRows(n, pool, [&](int64_t t0, int64_t t1) {
      for (int64_t i = t0 * f; i < t1 * f; ++i) hidden[i] = ReluSquare(hidden[i]);
    });
    MatMul(w.ffn_value, hidden, n, out, pool);
  }

 private:
  enum class Act { kNone, kTanh, kSigmoid };

  // ForEachShiftedRow with the rows split over the pool (ForRows): fn(t, prev) for every row,
  // then each segment's last row stored in its state's shift slot, after every row has read
  // the old one.
  template <class Fn>
  static void ShiftRows(const BatchRows& batch, int64_t layer, int64_t shift_offset,
                        const float* xn, int64_t c, ThreadPool* pool, Fn fn) {
    if (pool == nullptr || pool->size() == 1 || batch.rows < kMinPoolRows) {
      ForEachShiftedRow(batch, layer, shift_offset, xn, c, fn);
      return;
    }
    thread_local std::vector<const float*> prev;
    prev.resize(static_cast<size_t>(batch.rows));
    for (const Segment& seg : batch.segments) {
      const float* shift = seg.state->layer(layer) + shift_offset;
      for (int64_t t = seg.begin; t < seg.begin + seg.length; ++t)
        prev[static_cast<size_t>(t)] = t == seg.begin ? shift : xn + (t - 1) * c;
    }
    const float* const* rows_prev = prev.data();
    ForRows(batch.rows, pool, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) fn(t, rows_prev[t]);
    });
    for (const Segment& seg : batch.segments) {
      const float* last = xn + (seg.begin + seg.length - 1) * c;
      std::copy(last, last + c, seg.state->layer(layer) + shift_offset);
    }
  }

  std::vector<Layer7> layers_;
};

}  // namespace

Result<std::shared_ptr<const Model>> MakeRwkv7(ModelConfig config, ModelFile file) {
  return MakeBoundModel<Rwkv7>(config, std::move(file));
}

}  // namespace dte
