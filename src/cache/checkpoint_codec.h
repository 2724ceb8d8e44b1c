#pragma once
// Checkpoint <-> bytes, for L2 (compressed RAM), L3 (files) and Redis.
//
// Layout (little-endian): a 64-byte header (magic "DTCK", version, compression, lossy mode,
// priority, tokens, lengths), the model id, the prefix token ids, then the payload: the state
// bytes followed by the logits, byte-shuffled (byte k of every float stored together, which
// makes float data compressible) and compressed with lz4 or zstd.
//
// Lossless by default. Lossy modes (opt-in) store the state's floats as fp16 or bf16; they apply
// only to a State::Serialize() blob (its "DTES" header is kept exact) and never to the logits.
// Their effect on logits is measured in docs/state_cache.md.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cache/checkpoint.h"

namespace dte {

enum class Compression : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };
enum class LossyFloat : uint8_t { kNone = 0, kFp16 = 1, kBf16 = 2 };

std::optional<Compression> ParseCompression(std::string_view name);  // "none", "lz4", "zstd"
std::optional<LossyFloat> ParseLossyFloat(std::string_view name);    // "none", "fp16", "bf16"

struct CodecOptions {
  Compression compression = Compression::kLz4;
  int zstd_level = 3;
  LossyFloat lossy = LossyFloat::kNone;
  bool shuffle = true;  // byte-shuffle floats before compressing
};

struct DecodedCheckpoint {
  Checkpoint checkpoint;
  Priority priority = Priority::kGeneral;
};

// What the header and the id/prefix sections say, without touching the payload.
struct CheckpointMeta {
  std::string model_id;
  std::vector<int32_t> prefix;
  int64_t tokens = 0;
  Priority priority = Priority::kGeneral;
  size_t decoded_bytes = 0;  // Checkpoint::bytes() once decoded
};

std::vector<uint8_t> EncodeCheckpoint(const Checkpoint& cp, Priority priority, const CodecOptions& options);
Result<DecodedCheckpoint> DecodeCheckpoint(std::span<const uint8_t> bytes);
// Needs only the header, model id and prefix (a file's first bytes): returns how many bytes that is
// via *needed when `bytes` is too short (Status kOutOfRange).
Result<CheckpointMeta> PeekCheckpointMeta(std::span<const uint8_t> bytes, size_t* needed = nullptr);

inline constexpr size_t kCheckpointHeaderBytes = 64;

}  // namespace dte
