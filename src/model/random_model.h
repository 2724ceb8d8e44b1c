#pragma once
// Deterministic random RWKV weights in a real model's shapes, for load tests and benchmarks
// where a trained model is too big to ship. Values follow the ranges of RWKV's own
// initialization (LayerNorm weights 1, projections ~N(0, 1/sqrt(C)), decays spread over the
// channels as trained models have them), so the forward pass is numerically sane: logits are
// finite and of order 1, states do not blow up.
//
// Every tensor is generated on demand from (seed, tensor name), independently of the others,
// so writing a 1.5B model holds one tensor in memory at a time. Thread-safe (pure).

#include <cstdint>

#include "base/status.h"
#include "model/config.h"
#include "model/model_writer.h"

namespace dte {

struct RandomModelSpec {
  RwkvVersion version = RwkvVersion::kV7;  // v6 or v7
  int64_t n_layer = 2;
  int64_t n_embd = 128;
  int64_t n_vocab = 65536;
  int64_t head_size = 64;
  uint64_t seed = 0;
};

// The LoRA rank RWKV-7 uses for width C: max(1, round(C^exponent * multiplier / 32)) * 32.
int64_t RwkvLoraRank(int64_t n_embd, double exponent, double multiplier);

// The shapes of a real model of the spec: FFN 4·C (v7) or 3.5·C rounded down to 32 (v6),
// LoRA ranks decay/iclr (0.5, 1.8), value (0.5, 1.3), gate (0.8, 0.6) for v7; 32/64 for v6.
Result<ModelConfig> RandomModelConfig(const RandomModelSpec& spec);

// Canonical F32 tensors generated on demand (vocab left empty: the caller chooses one).
Result<ModelSource> MakeRandomModel(const RandomModelSpec& spec);

}  // namespace dte
