// RWKV-4 forward pass (rwkv.cpp conventions, see docs/formats.md).
//
// Time mixing, per token and channel, with the numerically stable WKV (state aa, bb, pp):
//   x_* = x * mix_* + x_prev * (1 - mix_*)      for * in k, v, r
//   r = sigmoid(Wr x_r)  k = Wk x_k  v = Wv x_v
//   q = max(pp, u + k);  wkv = (e^(pp-q) aa + e^(u+k-q) v) / (e^(pp-q) bb + e^(u+k-q))
//   q' = max(pp + w, k); aa = e^(pp+w-q') aa + e^(k-q') v; bb = e^(pp+w-q') bb + e^(k-q'); pp = q'
//   out = Wo (r * wkv)
// Stored values: w = time_decay = -exp(trained decay); u = time_first.
// Channel mixing: r = sigmoid(Wr x_r); out = r * (Wv relu(Wk x_k)^2).

#include <algorithm>
#include <cmath>

#include "kernels/vector_ops.h"
#include "model/rwkv_base.h"

namespace dte {
namespace {

struct Layer4 {
  std::vector<float> mix_k, mix_v, mix_r, decay, first;
  AttentionMatrices att;
  ChannelMixRkWeights ffn;
};

enum Slot : size_t { kXk = kSlotVersion, kXv, kXr, kR, kK, kV, kY };

class Rwkv4 final : public RwkvModelBase {
 public:
  Rwkv4(ModelConfig config, ModelFile file) : RwkvModelBase(config, std::move(file)) {}

  Status Bind() {
    DTE_RETURN_IF_ERROR(BindCommon());
    const TensorStore& ts = file_.tensors;
    const int64_t c = config_.n_embd;
    layers_.resize(static_cast<size_t>(config_.n_layer));
    for (int64_t l = 0; l < config_.n_layer; ++l) {
      const std::string p = "blocks." + std::to_string(l) + ".att.";
      Layer4& w = layers_[static_cast<size_t>(l)];
      DTE_ASSIGN_OR_RETURN(w.mix_k, BindVector(ts, p + "time_mix_k", c));
      DTE_ASSIGN_OR_RETURN(w.mix_v, BindVector(ts, p + "time_mix_v", c));
      DTE_ASSIGN_OR_RETURN(w.mix_r, BindVector(ts, p + "time_mix_r", c));
      DTE_ASSIGN_OR_RETURN(w.decay, BindVector(ts, p + "time_decay", c));
      DTE_ASSIGN_OR_RETURN(w.first, BindVector(ts, p + "time_first", c));
      DTE_ASSIGN_OR_RETURN(w.att, BindAttention(ts, l, c));
      DTE_ASSIGN_OR_RETURN(w.ffn, BindChannelMixRk(ts, l, config_, "time_mix", MixShift));
    }
    return Status::Ok();
  }

 protected:
  void TimeMix(int64_t layer, const BatchRows& batch, const float* xn, float*, float* out,
               Scratch& s, ThreadPool* pool) const override {
    const Layer4& w = layers_[static_cast<size_t>(layer)];
    const int64_t c = config_.n_embd, n = batch.rows;
    const size_t tc = static_cast<size_t>(n * c);
    float *xk = s.Get(kXk, tc), *xv = s.Get(kXv, tc), *xr = s.Get(kXr, tc);
    ForEachShiftedRow(batch, layer, kAttShift, xn, c, [&](int64_t t, const float* prev) {
      MixShift(xn + t * c, prev, w.mix_k.data(), c, xk + t * c);
      MixShift(xn + t * c, prev, w.mix_v.data(), c, xv + t * c);
      MixShift(xn + t * c, prev, w.mix_r.data(), c, xr + t * c);
    });

    float *r = s.Get(kR, tc), *k = s.Get(kK, tc), *v = s.Get(kV, tc), *y = s.Get(kY, tc);
    MatMul(w.att.wr, xr, n, r, pool);
    MatMul(w.att.wk, xk, n, k, pool);
    MatMul(w.att.wv, xv, n, v, pool);

    for (const Segment& seg : batch.segments) {
      float* ls = seg.state->layer(layer);
      float *aa = ls + 2 * c, *bb = ls + 3 * c, *pp = ls + 4 * c;
      for (int64_t t = seg.begin; t < seg.begin + seg.length; ++t) {
        for (int64_t i = 0; i < c; ++i) {
          const int64_t o = t * c + i;
          const float kk = k[o], vv = v[o];
          float ww = w.first[i] + kk;
          float q = std::max(pp[i], ww);
          float e1 = std::exp(pp[i] - q), e2 = std::exp(ww - q);
          y[o] = Sigmoid(r[o]) * (e1 * aa[i] + e2 * vv) / (e1 * bb[i] + e2);
          ww = pp[i] + w.decay[i];
          q = std::max(ww, kk);
          e1 = std::exp(ww - q);
          e2 = std::exp(kk - q);
          aa[i] = e1 * aa[i] + e2 * vv;
          bb[i] = e1 * bb[i] + e2;
          pp[i] = q;
        }
      }
    }
    MatMul(w.att.wo, y, n, out, pool);
  }

  void ChannelMix(int64_t layer, const BatchRows& batch, const float* xn, float* out, Scratch& s,
                  ThreadPool* pool) const override {
    ChannelMixRk(batch, layer, ffn_shift_offset(), xn, layers_[static_cast<size_t>(layer)].ffn, out,
                 s, pool);
  }

 private:
  std::vector<Layer4> layers_;
};

}  // namespace

Result<std::shared_ptr<const Model>> MakeRwkv4(ModelConfig config, ModelFile file) {
  return MakeBoundModel<Rwkv4>(config, std::move(file));
}

}  // namespace dte
