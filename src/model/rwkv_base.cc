#include "model/rwkv_base.h"

#include <algorithm>
#include <functional>

#include "kernels/quant.h"
#include "kernels/vector_ops.h"

namespace dte {
namespace {
// Most rows in one pass: bounds scratch memory for long prompts and big batches.
constexpr int64_t kMaxPassRows = 256;
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

void ForEachSegmentHead(const BatchRows& batch, int64_t n_head, ThreadPool* pool,
                        const std::function<void(const Segment&, int64_t)>& fn) {
  const int64_t jobs = static_cast<int64_t>(batch.segments.size()) * n_head;
  auto run = [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j)
      fn(batch.segments[static_cast<size_t>(j / n_head)], j % n_head);
  };
  if (pool != nullptr) {
    pool->ParallelFor(jobs, run);
  } else {
    run(0, jobs);
  }
}

Result<AttentionMatrices> BindAttention(const TensorStore& ts, int64_t layer, int64_t c) {
  const std::string p = "blocks." + std::to_string(layer) + ".att.";
  AttentionMatrices m;
  DTE_ASSIGN_OR_RETURN(m.wr, BindMatrix(ts, p + "receptance.weight", c, c));
  DTE_ASSIGN_OR_RETURN(m.wk, BindMatrix(ts, p + "key.weight", c, c));
  DTE_ASSIGN_OR_RETURN(m.wv, BindMatrix(ts, p + "value.weight", c, c));
  DTE_ASSIGN_OR_RETURN(m.wo, BindMatrix(ts, p + "output.weight", c, c));
  return m;
}

Result<ChannelMixRkWeights> BindChannelMixRk(const TensorStore& ts, int64_t layer,
                                             const ModelConfig& config, const std::string& mix_name,
                                             ShiftMixFn mix_fn) {
  const std::string q = "blocks." + std::to_string(layer) + ".ffn.";
  const int64_t c = config.n_embd, f = config.ffn_dim;
  ChannelMixRkWeights w;
  w.mix_fn = mix_fn;
  DTE_ASSIGN_OR_RETURN(w.mix_k, BindVector(ts, q + mix_name + "_k", c));
  DTE_ASSIGN_OR_RETURN(w.mix_r, BindVector(ts, q + mix_name + "_r", c));
  DTE_ASSIGN_OR_RETURN(w.key, BindMatrix(ts, q + "key.weight", f, c));
  DTE_ASSIGN_OR_RETURN(w.value, BindMatrix(ts, q + "value.weight", c, f));
  DTE_ASSIGN_OR_RETURN(w.receptance, BindMatrix(ts, q + "receptance.weight", c, c));
  return w;
}

void ChannelMixRk(const BatchRows& batch, int64_t layer, int64_t shift_offset, const float* xn,
                  const ChannelMixRkWeights& w, float* out, Scratch& s, ThreadPool* pool) {
  const int64_t c = w.receptance.cols, n = batch.rows;
  const size_t tc = static_cast<size_t>(n * c), tf = static_cast<size_t>(n * w.key.rows);
  float* xk = s.Get(kSlotBase + 4, tc);
  float* xr = s.Get(kSlotBase + 5, tc);
  ForEachShiftedRow(batch, layer, shift_offset, xn, c, [&](int64_t t, const float* prev) {
    w.mix_fn(xn + t * c, prev, w.mix_k.data(), c, xk + t * c);
    w.mix_fn(xn + t * c, prev, w.mix_r.data(), c, xr + t * c);
  });
  float* hidden = s.Get(kSlotBase + 6, std::max(tf, tc));
  MatMul(w.key, xk, n, hidden, pool);
  for (size_t i = 0; i < tf; ++i) hidden[i] = ReluSquare(hidden[i]);
  MatMul(w.value, hidden, n, out, pool);
  MatMul(w.receptance, xr, n, xk, pool);  // xk is free again: reuse it for r
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

void RwkvModelBase::ForwardBatch(std::span<const SequenceChunk> batch, Scratch& scratch,
                                 ThreadPool* pool) const {
  // Packs passes of at most kMaxPassRows rows; a sequence too long for one pass continues in
  // the next (passes run in order, so its state sees its tokens in order).
  Scratch::Pass& pass = scratch.pass;
  pass.consumed.assign(batch.size(), 0);
  while (true) {
    pass.rows.segments.clear();
    pass.rows.rows = 0;
    pass.tokens.clear();
    pass.logits.clear();
    for (size_t i = 0; i < batch.size() && pass.rows.rows < kMaxPassRows; ++i) {
      const SequenceChunk& chunk = batch[i];
      const size_t left = chunk.tokens.size() - pass.consumed[i];
      if (left == 0) continue;
      const int64_t take =
          std::min<int64_t>(static_cast<int64_t>(left), kMaxPassRows - pass.rows.rows);
      pass.rows.segments.push_back(Segment{pass.rows.rows, take, chunk.state});
      auto part = chunk.tokens.subspan(pass.consumed[i], static_cast<size_t>(take));
      pass.tokens.insert(pass.tokens.end(), part.begin(), part.end());
      pass.consumed[i] += static_cast<size_t>(take);
      pass.logits.push_back(pass.consumed[i] == chunk.tokens.size() ? chunk.logits : nullptr);
      pass.rows.rows += take;
    }
    if (pass.rows.rows == 0) return;
    ForwardPass(scratch, pool);
  }
}

void RwkvModelBase::ForwardPass(Scratch& scratch, ThreadPool* pool) const {
  const BatchRows& batch = scratch.pass.rows;
  const int64_t c = config_.n_embd, n = batch.rows;
  const size_t tc = static_cast<size_t>(n * c);
  const float eps = config_.layer_norm_eps;
  float* x = scratch.Get(kSlotBase, tc);            // residual stream [rows][C]
  float* xn = scratch.Get(kSlotBase + 1, tc);       // normalized input [rows][C]
  float* out = scratch.Get(kSlotBase + 2, tc);      // block output [rows][C]
  float* v_first = scratch.Get(kSlotBase + 3, tc);  // RWKV-7 value residual [rows][C]

  for (int64_t t = 0; t < n; ++t) {
    const int32_t id = scratch.pass.tokens[static_cast<size_t>(t)];
    DTE_CHECK(id >= 0 && id < config_.n_vocab, "token id out of range (callers validate ids)");
    float* xt = x + t * c;
    DequantizeRow(emb_.type, emb_.row(id), xt, c);
    LayerNorm(xt, ln0_w_.data(), ln0_b_.data(), c, eps, xt);
  }
  for (int64_t l = 0; l < config_.n_layer; ++l) {
    const LayerNorms& norm = norms_[static_cast<size_t>(l)];
    // x += out (the previous block's output; none before the first) and xn = LayerNorm(x).
    auto add_and_norm = [&](const std::vector<float>& w, const std::vector<float>& b, bool add) {
      ForRows(n, pool, [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          float* xt = x + t * c;
          if (add) {
            const float* ot = out + t * c;
            for (int64_t i = 0; i < c; ++i) xt[i] += ot[i];
          }
          LayerNorm(xt, w.data(), b.data(), c, eps, xn + t * c);
        }
      });
    };
    add_and_norm(norm.ln1_w, norm.ln1_b, /*add=*/l > 0);
    TimeMix(l, batch, xn, v_first, out, scratch, pool);
    add_and_norm(norm.ln2_w, norm.ln2_b, /*add=*/true);
    ChannelMix(l, batch, xn, out, scratch, pool);
  }
  ForRows(n, pool, [&](int64_t t0, int64_t t1) {
    for (size_t i = static_cast<size_t>(t0 * c); i < static_cast<size_t>(t1 * c); ++i) x[i] += out[i];
  });

  // Logits for the segments that want them: their last rows through one head product.
  int64_t wanted = 0;
  for (size_t s = 0; s < batch.segments.size(); ++s) {
    if (scratch.pass.logits[s] == nullptr) continue;
    const Segment& seg = batch.segments[s];
    LayerNorm(x + (seg.begin + seg.length - 1) * c, ln_out_w_.data(), ln_out_b_.data(), c, eps,
              xn + wanted * c);
    ++wanted;
  }
  if (wanted == 0) return;
  const size_t nv = static_cast<size_t>(config_.n_vocab);
  float* logits =
      wanted == 1 ? nullptr : scratch.Get(kSlotBase + 7, static_cast<size_t>(wanted) * nv);
  for (size_t s = 0, k = 0; s < batch.segments.size(); ++s) {
    float* dst = scratch.pass.logits[s];
    if (dst == nullptr) continue;
    if (wanted == 1) {
      MatVec(head_, xn, dst, pool);
      return;
    }
    if (k == 0) MatMul(head_, xn, wanted, logits, pool);
    std::copy_n(logits + k * nv, nv, dst);
    ++k;
  }
}

}  // namespace dte
