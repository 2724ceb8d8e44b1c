#pragma once
// The part of the forward pass every RWKV version shares: embedding (+ ln0), the residual
// block loop `x += TimeMix(LN1(x)); x += ChannelMix(LN2(x))`, the output head, and the batch
// layout. A batch packs the tokens of several sequences as rows of [rows][C] arrays; each
// sequence's rows are contiguous (a Segment) and carry its State. Matrix work runs over all
// rows at once; recurrences run per segment.

#include <cstdint>
#include <vector>

#include "kernels/matmul.h"
#include "model/model.h"

namespace dte {

// Scratch slots: the base uses kSlotBase..kSlotBase+7; versions use kSlotVersion and up.
constexpr size_t kSlotBase = 0;
constexpr size_t kSlotVersion = 8;

// Shape and weights of a vector or matrix, bound at load time with the expected shape checked.
Result<std::vector<float>> BindVector(const TensorStore& ts, const std::string& name, int64_t n);
Result<MatrixView> BindMatrix(const TensorStore& ts, const std::string& name, int64_t rows,
                              int64_t cols);

// Element-wise token-shift mix (LerpShift or MixShift from vector_ops.h).
using ShiftMixFn = void (*)(const float* x, const float* prev, const float* mix, int64_t n,
                            float* out);

// Token shift over a batch: calls fn(row, prev_row) for every row, where prev_row is the row
// before it in its segment, or the segment state's shift slot (layer `layer`, float offset
// `shift_offset`) for its first row. Then stores each segment's last row in that slot.
template <class Fn>
void ForEachShiftedRow(const BatchRows& batch, int64_t layer, int64_t shift_offset, const float* xn,
                       int64_t c, Fn fn) {
  for (const Segment& s : batch.segments) {
    float* shift = s.state->layer(layer) + shift_offset;
    for (int64_t t = s.begin; t < s.begin + s.length; ++t)
      fn(t, t == s.begin ? shift : xn + (t - 1) * c);
  }
  for (const Segment& s : batch.segments) {
    const float* last = xn + (s.begin + s.length - 1) * c;
    std::copy(last, last + c, s.state->layer(layer) + shift_offset);
  }
}

// Calls fn(t0, t1) over row ranges of [0, n), split over the pool from kMinPoolRows rows on
// (below that, element-wise work is not worth a hand-off); each row's arithmetic is the same
// either way.
inline constexpr int64_t kMinPoolRows = 4;
template <class Fn>
void ForRows(int64_t n, ThreadPool* pool, Fn fn) {
  if (pool == nullptr || pool->size() == 1 || n < kMinPoolRows) {
    fn(int64_t{0}, n);
    return;
  }
  pool->ParallelFor(n, fn, 1);
}

// Runs fn(segment, head) for every pair, spread over the pool (recurrences are independent
// across sequences and heads).
void ForEachSegmentHead(const BatchRows& batch, int64_t n_head, ThreadPool* pool,
                        const std::function<void(const Segment&, int64_t)>& fn);

// The four C x C matrices of a time-mix block
// ("blocks.N.att.{receptance,key,value,output}.weight").
struct AttentionMatrices {
  MatrixView wr, wk, wv, wo;
};
Result<AttentionMatrices> BindAttention(const TensorStore& ts, int64_t layer, int64_t c);

// The v4/v5/v6 channel mix with receptance:
//   r = sigmoid(Wr x_r);  k = relu(Wk x_k)^2;  out = r * (Wv k)
struct ChannelMixRkWeights {
  std::vector<float> mix_k, mix_r;
  MatrixView key, value, receptance;
  ShiftMixFn mix_fn = nullptr;
};
// `mix_name` is "time_mix" (v4/v5, MixShift) or "time_maa" (v6, LerpShift).
Result<ChannelMixRkWeights> BindChannelMixRk(const TensorStore& ts, int64_t layer,
                                             const ModelConfig& config, const std::string& mix_name,
                                             ShiftMixFn mix_fn);
// Uses scratch slots kSlotBase+4..+6.
void ChannelMixRk(const BatchRows& batch, int64_t layer, int64_t shift_offset, const float* xn,
                  const ChannelMixRkWeights& w, float* out, Scratch& scratch, ThreadPool* pool);

class RwkvModelBase : public Model {
 public:
  void ForwardBatch(std::span<const SequenceChunk> batch, Scratch& scratch,
                    ThreadPool* pool) const override;

 protected:
  RwkvModelBase(ModelConfig config, ModelFile file) : Model(config, std::move(file)) {}
  Status BindCommon();

  // out[rows][C] = the time-mixing (attention) output for normalized inputs xn[rows][C];
  // updates each segment's shift and wkv state. `v_first` ([rows][C]) is RWKV-7's value
  // residual, unused before v7.
  virtual void TimeMix(int64_t layer, const BatchRows& batch, const float* xn, float* v_first,
                       float* out, Scratch& scratch, ThreadPool* pool) const = 0;
  virtual void ChannelMix(int64_t layer, const BatchRows& batch, const float* xn, float* out,
                          Scratch& scratch, ThreadPool* pool) const = 0;

  // Offsets of the two token-shift slots and the recurrent state in a layer's state.
  static constexpr int64_t kAttShift = 0;
  int64_t ffn_shift_offset() const { return config_.n_embd; }
  int64_t wkv_offset() const { return 2 * config_.n_embd; }

 private:
  // One pass over packed rows (at most kMaxPassRows); scratch.pass describes it.
  void ForwardPass(Scratch& scratch, ThreadPool* pool) const;

  struct LayerNorms {
    std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
  };
  MatrixView emb_, head_;
  std::vector<float> ln0_w_, ln0_b_, ln_out_w_, ln_out_b_;
  std::vector<LayerNorms> norms_;
};

// Builds a version's model and binds its weights (M has a constructor (config, file) and
// Status Bind()).
template <class M>
Result<std::shared_ptr<const Model>> MakeBoundModel(ModelConfig config, ModelFile file) {
  auto model = std::make_shared<M>(config, std::move(file));
  DTE_RETURN_IF_ERROR(model->Bind());
  return std::shared_ptr<const Model>(std::move(model));
}

// Constructors of each version's model (rwkv4.cc, rwkv5.cc, rwkv6.cc, rwkv7.cc).
Result<std::shared_ptr<const Model>> MakeRwkv4(ModelConfig config, ModelFile file);
Result<std::shared_ptr<const Model>> MakeRwkv5(ModelConfig config, ModelFile file);
Result<std::shared_ptr<const Model>> MakeRwkv6(ModelConfig config, ModelFile file);
Result<std::shared_ptr<const Model>> MakeRwkv7(ModelConfig config, ModelFile file);

}  // namespace dte
