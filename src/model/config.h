#pragma once
// Hyper-parameters of an RWKV model, detected from its tensors (and file metadata).

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dte {

enum class RwkvVersion { kV4, kV5_1, kV5_2, kV6, kV7 };

std::string_view RwkvVersionName(RwkvVersion v);  // "4", "5.1", "5.2", "6", "7"

class TensorStore;

struct ModelConfig {
  RwkvVersion version = RwkvVersion::kV7;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t head_size = 0;  // 0 for v4
  int64_t n_head = 0;     // n_embd / head_size; 0 for v4
  int64_t ffn_dim = 0;
  // LoRA ranks (v6: mix = time_maa_w1 rank per part, decay = time_decay_w1 rank;
  // v7: decay, iclr (a), value mix (v), gate).
  int64_t lora_mix = 0, lora_decay = 0, lora_iclr = 0, lora_value = 0, lora_gate = 0;
  float layer_norm_eps = 1e-5f;
  float group_norm_eps = 64e-5f;  // per model: 1e-5 for the v5 test models

  // Floats of recurrent state per layer.
  int64_t StateFloatsPerLayer() const;
  std::string ToString() const;
};

// Detects the version and shapes from canonical tensor names and shapes (rwkv.cpp naming):
// `r_k` -> v7, `time_maa_x` -> v6, `ln_x` -> v5 (+ `gate` -> 5.2), otherwise v4.
// The group-norm epsilon defaults to 1e-5 for v5 and 64e-5 for v6/v7; callers may override.
Result<ModelConfig> DetectConfig(const TensorStore& tensors);

}  // namespace dte
