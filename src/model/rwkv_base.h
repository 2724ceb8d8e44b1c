#pragma once
// The part of the forward pass every RWKV version shares: embedding (+ ln0), the residual
// block loop `x += TimeMix(LN1(x)); x += ChannelMix(LN2(x))`, and the output head. Versions
// implement TimeMix and ChannelMix over a chunk of T tokens ([T][C] row-major arrays).

#include <cstdint>
#include <vector>

#include "kernels/matmul.h"
#include "model/model.h"

namespace dte {

// Scratch slots: the base uses kSlotBase..kSlotBase+6; versions use kSlotVersion and up.
constexpr size_t kSlotBase = 0;
constexpr size_t kSlotVersion = 8;

// Shape and weights of a vector or matrix, bound at load time with the expected shape checked.
Result<std::vector<float>> BindVector(const TensorStore& ts, const std::string& name, int64_t n);
Result<MatrixView> BindMatrix(const TensorStore& ts, const std::string& name, int64_t rows, int64_t cols);

// Token shift for a chunk: prev row t is xn[t-1], or `state_shift` for t = 0.
inline const float* PrevRow(const float* xn, const float* state_shift, int64_t t, int64_t c) {
  return t == 0 ? state_shift : xn + (t - 1) * c;
}

// Element-wise token-shift mix (LerpShift or MixShift from vector_ops.h).
using ShiftMixFn = void (*)(const float* x, const float* prev, const float* mix, int64_t n, float* out);

// The v4/v5/v6 channel mix (uses slots kSlotBase+4..+6):
//   r = sigmoid(Wr x_r);  k = relu(Wk x_k)^2;  out = r * (Wv k)
void ChannelMixRk(const float* xn, int64_t n_tokens, float* shift, const float* mix_k,
                  const float* mix_r, const MatrixView& key, const MatrixView& value,
                  const MatrixView& receptance, ShiftMixFn mix_fn, float* out, Scratch& scratch,
                  ThreadPool* pool);

class RwkvModelBase : public Model {
 public:
  void ForwardSequence(std::span<const int32_t> tokens, State& state, float* logits, Scratch& scratch,
                       ThreadPool* pool) const override;

 protected:
  RwkvModelBase(ModelConfig config, ModelFile file) : Model(config, std::move(file)) {}
  Status BindCommon();

  // out[T][C] = the time-mixing (attention) output for normalized inputs xn[T][C]; updates the
  // layer's shift and wkv state. `v_first` ([T][C]) is RWKV-7's value residual, unused before.
  virtual void TimeMix(int64_t layer, const float* xn, int64_t n_tokens, float* layer_state,
                       float* v_first, float* out, Scratch& scratch, ThreadPool* pool) const = 0;
  virtual void ChannelMix(int64_t layer, const float* xn, int64_t n_tokens, float* layer_state,
                          float* out, Scratch& scratch, ThreadPool* pool) const = 0;

  // Offsets of the two token-shift slots in a layer's state.
  int64_t att_shift_offset() const { return 0; }
  int64_t ffn_shift_offset() const { return config_.n_embd; }

 private:
  void ForwardChunk(std::span<const int32_t> tokens, State& state, float* logits, Scratch& scratch,
                    ThreadPool* pool) const;

  struct LayerNorms {
    std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
  };
  MatrixView emb_, head_;
  std::vector<float> ln0_w_, ln0_b_, ln_out_w_, ln_out_b_;
  std::vector<LayerNorms> norms_;
};

// Constructors of each version's model (rwkv4.cc, rwkv5.cc, rwkv6.cc, rwkv7.cc).
Result<std::shared_ptr<const Model>> MakeRwkv4(ModelConfig config, ModelFile file);
Result<std::shared_ptr<const Model>> MakeRwkv5(ModelConfig config, ModelFile file);
Result<std::shared_ptr<const Model>> MakeRwkv6(ModelConfig config, ModelFile file);
Result<std::shared_ptr<const Model>> MakeRwkv7(ModelConfig config, ModelFile file);

}  // namespace dte
