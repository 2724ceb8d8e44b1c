#include "model/rwkv_base.h"

#include <algorithm>

#include "kernels/quant.h"
#include "kernels/vector_ops.h"

namespace dte {
namespace {
// Longest chunk processed as one matrix-matrix step; bounds scratch memory for long prompts.
constexpr int64_t kMaxChunk = 128;
}  // namespace

Result<std::vector<float>> BindVector(const TensorStore& ts, const std::string& name, int64_t n) {
  DTE_ASSIGN_OR_RETURN(const Tensor* t, ts.Get(name));
  if (t->elements() != n)
    return Status::Corrupt("tensor '" + name + "' has shape " + t->ShapeString() + ", expected " +
                           std::to_string(n) + " elements");
  return TensorToFloats(*t);
}

Result<MatrixView> BindMatrix(const TensorStore& ts, const std::string& name, int64_t rows,
                              int64_t cols) {
  DTE_ASSIGN_OR_RETURN(const Tensor* t, ts.GetWithShape(name, {cols, rows}));
  return t->AsMatrix();
}

void ChannelMixRk(const float* xn, int64_t n, float* shift, const float* mix_k, const float* mix_r,
                  const MatrixView& key, const MatrixView& value, const MatrixView& receptance,
                  ShiftMixFn mix_fn, float* out, Scratch& s, ThreadPool* pool) {
  const int64_t c = receptance.cols;
  const size_t tc = static_cast<size_t>(n * c), tf = static_cast<size_t>(n * key.rows);
  float* xk = s.Get(kSlotBase + 4, tc);
  float* xr = s.Get(kSlotBase + 5, tc);
  for (int64_t t = 0; t < n; ++t) {
    const float* prev = PrevRow(xn, shift, t, c);
    mix_fn(xn + t * c, prev, mix_k, c, xk + t * c);
    mix_fn(xn + t * c, prev, mix_r, c, xr + t * c);
  }
  std::copy_n(xn + (n - 1) * c, c, shift);
  float* hidden = s.Get(kSlotBase + 6, std::max(tf, tc));
  MatMul(key, xk, n, hidden, pool);
  for (size_t i = 0; i < tf; ++i) hidden[i] = ReluSquare(hidden[i]);
  MatMul(value, hidden, n, out, pool);
  MatMul(receptance, xr, n, xk, pool);  // xk is free again: reuse it for r
  for (size_t i = 0; i < tc; ++i) out[i] *= Sigmoid(xk[i]);
}

Status RwkvModelBase::BindCommon() {
  const TensorStore& ts = file_.tensors;
  const int64_t c = config_.n_embd;
  DTE_ASSIGN_OR_RETURN(emb_, BindMatrix(ts, "emb.weight", config_.n_vocab, c));
  DTE_ASSIGN_OR_RETURN(head_, BindMatrix(ts, "head.weight", config_.n_vocab, c));
  DTE_ASSIGN_OR_RETURN(ln0_w_, BindVector(ts, "blocks.0.ln0.weight", c));
  DTE_ASSIGN_OR_RETURN(ln0_b_, BindVector(ts, "blocks.0.ln0.bias", c));
  DTE_ASSIGN_OR_RETURN(ln_out_w_, BindVector(ts, "ln_out.weight", c));
  DTE_ASSIGN_OR_RETURN(ln_out_b_, BindVector(ts, "ln_out.bias", c));
  norms_.resize(static_cast<size_t>(config_.n_layer));
  for (int64_t l = 0; l < config_.n_layer; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    LayerNorms& n = norms_[static_cast<size_t>(l)];
    DTE_ASSIGN_OR_RETURN(n.ln1_w, BindVector(ts, p + "ln1.weight", c));
    DTE_ASSIGN_OR_RETURN(n.ln1_b, BindVector(ts, p + "ln1.bias", c));
    DTE_ASSIGN_OR_RETURN(n.ln2_w, BindVector(ts, p + "ln2.weight", c));
    DTE_ASSIGN_OR_RETURN(n.ln2_b, BindVector(ts, p + "ln2.bias", c));
  }
  return Status::Ok();
}

void RwkvModelBase::ForwardSequence(std::span<const int32_t> tokens, State& state, float* logits,
                                    Scratch& scratch, ThreadPool* pool) const {
  for (size_t begin = 0; begin < tokens.size(); begin += kMaxChunk) {
    size_t n = std::min<size_t>(kMaxChunk, tokens.size() - begin);
    bool last = begin + n == tokens.size();
    ForwardChunk(tokens.subspan(begin, n), state, last ? logits : nullptr, scratch, pool);
  }
}

void RwkvModelBase::ForwardChunk(std::span<const int32_t> tokens, State& state, float* logits,
                                 Scratch& scratch, ThreadPool* pool) const {
  const int64_t c = config_.n_embd;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const size_t tc = static_cast<size_t>(n * c);
  float* x = scratch.Get(kSlotBase, tc);            // residual stream [T][C]
  float* xn = scratch.Get(kSlotBase + 1, tc);       // normalized input [T][C]
  float* out = scratch.Get(kSlotBase + 2, tc);      // block output [T][C]
  float* v_first = scratch.Get(kSlotBase + 3, tc);  // RWKV-7 value residual [T][C]

  for (int64_t t = 0; t < n; ++t) {
    int32_t id = tokens[static_cast<size_t>(t)];
    DTE_CHECK(id >= 0 && id < config_.n_vocab, "token id out of range (callers validate ids)");
    float* xt = x + t * c;
    DequantizeRow(emb_.type, emb_.row(id), xt, c);
    LayerNorm(xt, ln0_w_.data(), ln0_b_.data(), c, config_.layer_norm_eps, xt);
  }
  for (int64_t l = 0; l < config_.n_layer; ++l) {
    const LayerNorms& norm = norms_[static_cast<size_t>(l)];
    float* ls = state.layer(l);
    for (int64_t t = 0; t < n; ++t)
      LayerNorm(x + t * c, norm.ln1_w.data(), norm.ln1_b.data(), c, config_.layer_norm_eps, xn + t * c);
    TimeMix(l, xn, n, ls, v_first, out, scratch, pool);
    for (size_t i = 0; i < tc; ++i) x[i] += out[i];
    for (int64_t t = 0; t < n; ++t)
      LayerNorm(x + t * c, norm.ln2_w.data(), norm.ln2_b.data(), c, config_.layer_norm_eps, xn + t * c);
    ChannelMix(l, xn, n, ls, out, scratch, pool);
    for (size_t i = 0; i < tc; ++i) x[i] += out[i];
  }
  if (logits != nullptr) {
    float* last = x + (n - 1) * c;
    LayerNorm(last, ln_out_w_.data(), ln_out_b_.data(), c, config_.layer_norm_eps, xn);
    MatVec(head_, xn, logits, pool);
  }
}

}  // namespace dte
