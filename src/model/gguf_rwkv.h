#pragma once
// How RWKV-6 / RWKV-7 models look in GGUF (llama.cpp's architectures `rwkv6` and `rwkv7`) and
// how that maps onto our canonical tensors (rwkv.cpp's names and value conventions).
// docs/formats.md has the full table; in short:
//   * names: emb.weight <-> token_embd.weight, blocks.0.ln0 <-> token_embd_norm,
//     blocks.N.ln1/ln2 <-> blk.N.attn_norm/attn_norm_2, blocks.N.att.* <-> blk.N.time_mix_*,
//     blocks.N.ffn.* <-> blk.N.channel_mix_*, ln_out <-> output_norm, head <-> output;
//   * v7: att.x_rwkvag [C,1,6] <-> time_mix_lerp_fused [C,1,1,6] (same order r,w,k,v,a,g);
//     w0/a0/v0/k_k/k_a [C,1,1] and r_k [N,H] <-> [C]; LoRA matrices identical (both apply W·x);
//     block 0 has no v0/v1/v2, GGUF carries unused copies of a0/a1/a2 there;
//   * v6: time_maa_{w,k,v,r,g} [C] <-> time_mix_lerp_fused [C,1,1,5] (order w,k,v,r,g);
//     time_decay / time_faaaa [1,N,H] <-> time_mix_decay [C] / time_mix_first [N,H] (values
//     raw in both); time_maa_w1/w2 and time_decay_w1/w2 identical; GGUF files with
//     rwkv6.rescale_every_n_layers > 0 have att.output and ffn.value of block i divided by
//     2^(i / n), which the reader multiplies back.
// Pure functions; thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/config.h"

namespace dte {

// One GGUF tensor and the canonical tensor(s) it holds.
struct GgufTensorMapping {
  std::string gguf;
  std::vector<int64_t> gguf_shape;
  // One canonical tensor, or (v6 time_mix_lerp_fused) several concatenated along the last
  // GGUF dimension, each of `canonical_shape`.
  std::vector<std::string> canonical;
  std::vector<int64_t> canonical_shape;
  bool write_only = false;  // GGUF needs it, canonical has no place for it (v7 block-0 v0/v1/v2)
};

// "rwkv6" / "rwkv7", or Unsupported naming the version (v4 and v5 have no llama.cpp architecture).
Result<std::string> GgufArchitectureFor(RwkvVersion version);

// Every tensor of a model with `config` (version 6 or 7), GGUF-side names and shapes.
Result<std::vector<GgufTensorMapping>> RwkvGgufMappings(const ModelConfig& config);

}  // namespace dte
