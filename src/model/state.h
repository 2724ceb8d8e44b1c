#pragma once
// The recurrent state of one sequence: everything the model remembers of the tokens it has seen.
// A fixed-size float array laid out per layer (see ModelConfig::StateFloatsPerLayer):
//   v4:  att_shift[C], ffn_shift[C], aa[C], bb[C], pp[C]   (pp starts at -1e30)
//   v5+: att_shift[C], ffn_shift[C], wkv[H][N][N]          (v5/v6: S[key][value]; v7: S[value][key])
// The shift slots hold the *normalized* input of the previous token.
//
// A State is owned by one sequence and touched by one thread at a time.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/config.h"

namespace dte {

class State {
 public:
  State() = default;
  explicit State(const ModelConfig& config);  // fresh state (as before any token)

  void Reset();
  const ModelConfig& config() const { return config_; }

  float* layer(int64_t l) { return data_.data() + l * per_layer_; }
  const float* layer(int64_t l) const { return data_.data() + l * per_layer_; }
  std::span<const float> floats() const { return data_; }
  std::span<float> floats() { return data_; }
  size_t bytes() const { return data_.size() * sizeof(float); }

  // Bytes: a 32-byte header (magic "DTES", format version, RWKV version, n_layer, n_embd,
  // head_size, dtype f32, float count) followed by the floats, little-endian.
  std::vector<uint8_t> Serialize() const;
  // Restores a serialized state; refuses one made for another model shape.
  static Result<State> Deserialize(const ModelConfig& config, std::span<const uint8_t> bytes);

 private:
  ModelConfig config_;
  int64_t per_layer_ = 0;
  std::vector<float> data_;
};

}  // namespace dte
