#include "cache/checkpoint_codec.h"

#include <cstring>

#include <lz4.h>
#include <zstd.h>

#include "kernels/fp16.h"

namespace dte {

namespace {

constexpr uint32_t kMagic = 0x4b435444;  // "DTCK"
constexpr uint16_t kVersion = 1;
constexpr uint32_t kStateMagic = 0x53455444;  // "DTES", State::Serialize()
constexpr size_t kStateHeader = 32;
constexpr uint8_t kFlagShuffled = 1;
constexpr uint8_t kFlagStateBlob = 2;  // state stored as header + float section

struct Header {
  uint32_t magic;
  uint16_t version;
  uint8_t compression, lossy, priority, flags, reserved[6];
  int64_t tokens;
  uint32_t model_id_len, prefix_len;
  uint64_t state_bytes;   // decoded state size
  uint64_t logits_count;
  uint64_t raw_payload;   // payload size before compression
  uint64_t payload;       // payload size as stored
};
static_assert(sizeof(Header) == kCheckpointHeaderBytes);

bool IsStateBlob(std::span<const uint8_t> s) {
  if (s.size() < kStateHeader || (s.size() - kStateHeader) % 4 != 0) return false;
  uint32_t magic;
  std::memcpy(&magic, s.data(), 4);
  return magic == kStateMagic;
}

// Byte k of element i goes to plane k: out[k * n + i] = in[i * width + k].
void Shuffle(const uint8_t* in, size_t n, int width, uint8_t* out) {
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < width; ++k) out[k * n + i] = in[i * width + k];
}
void Unshuffle(const uint8_t* in, size_t n, int width, uint8_t* out) {
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < width; ++k) out[i * width + k] = in[k * n + i];
}

// Appends `count` elements of `width` bytes, shuffled or not.
void AppendElements(const uint8_t* src, size_t count, int width, bool shuffle, std::vector<uint8_t>* out) {
  size_t at = out->size();
  out->resize(at + count * width);
  if (shuffle) Shuffle(src, count, width, out->data() + at);
  else std::memcpy(out->data() + at, src, count * width);
}
void ReadElements(const uint8_t* src, size_t count, int width, bool shuffled, uint8_t* dst) {
  if (shuffled) Unshuffle(src, count, width, dst);
  else std::memcpy(dst, src, count * width);
}

}  // namespace

std::optional<Compression> ParseCompression(std::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "lz4") return Compression::kLz4;
  if (name == "zstd") return Compression::kZstd;
  return std::nullopt;
}

std::optional<LossyFloat> ParseLossyFloat(std::string_view name) {
  if (name == "none") return LossyFloat::kNone;
  if (name == "fp16") return LossyFloat::kFp16;
  if (name == "bf16") return LossyFloat::kBf16;
  return std::nullopt;
}

std::vector<uint8_t> EncodeCheckpoint(const Checkpoint& cp, Priority priority, const CodecOptions& options) {
  LossyFloat lossy = IsStateBlob(cp.state) ? options.lossy : LossyFloat::kNone;
  // The raw payload: [state header | state floats (f32, or 16-bit) | logits].
  std::vector<uint8_t> raw;
  if (IsStateBlob(cp.state)) {
    size_t n = (cp.state.size() - kStateHeader) / 4;
    raw.reserve(kStateHeader + n * 4 + cp.logits.size() * 4);
    raw.insert(raw.end(), cp.state.begin(), cp.state.begin() + kStateHeader);
    const uint8_t* floats = cp.state.data() + kStateHeader;
    if (lossy == LossyFloat::kNone) {
      AppendElements(floats, n, 4, options.shuffle, &raw);
    } else {
      std::vector<uint16_t> half(n);
      for (size_t i = 0; i < n; ++i) {
        float f;
        std::memcpy(&f, floats + 4 * i, 4);
        half[i] = lossy == LossyFloat::kFp16 ? FloatToFp16(f) : FloatToBf16(f);
      }
      AppendElements(reinterpret_cast<const uint8_t*>(half.data()), n, 2, options.shuffle, &raw);
    }
  } else {
    raw.insert(raw.end(), cp.state.begin(), cp.state.end());
  }
  AppendElements(reinterpret_cast<const uint8_t*>(cp.logits.data()), cp.logits.size(), 4, options.shuffle, &raw);

  Header h{};
  h.magic = kMagic;
  h.version = kVersion;
  h.compression = static_cast<uint8_t>(options.compression);
  h.lossy = static_cast<uint8_t>(lossy);
  h.priority = static_cast<uint8_t>(priority);
  h.flags = (options.shuffle ? kFlagShuffled : 0) | (IsStateBlob(cp.state) ? kFlagStateBlob : 0);
  h.tokens = cp.tokens;
  h.model_id_len = static_cast<uint32_t>(cp.model_id.size());
  h.prefix_len = static_cast<uint32_t>(cp.prefix.size());
  h.state_bytes = cp.state.size();
  h.logits_count = cp.logits.size();
  h.raw_payload = raw.size();

  size_t meta = kCheckpointHeaderBytes + cp.model_id.size() + cp.prefix.size() * 4;
  std::vector<uint8_t> out;
  switch (options.compression) {
    case Compression::kNone:
      out.resize(meta + raw.size());
      std::memcpy(out.data() + meta, raw.data(), raw.size());
      break;
    case Compression::kLz4: {
      out.resize(meta + LZ4_compressBound(static_cast<int>(raw.size())));
      int n = LZ4_compress_default(reinterpret_cast<const char*>(raw.data()), reinterpret_cast<char*>(out.data() + meta),
                                   static_cast<int>(raw.size()), static_cast<int>(out.size() - meta));
      DTE_CHECK(n > 0 || raw.empty(), "lz4 compression failed");
      out.resize(meta + n);
      break;
    }
    case Compression::kZstd: {
      out.resize(meta + ZSTD_compressBound(raw.size()));
      size_t n = ZSTD_compress(out.data() + meta, out.size() - meta, raw.data(), raw.size(), options.zstd_level);
      DTE_CHECK(!ZSTD_isError(n), "zstd compression failed");
      out.resize(meta + n);
      break;
    }
  }
  h.payload = out.size() - meta;
  std::memcpy(out.data(), &h, sizeof h);
  std::memcpy(out.data() + kCheckpointHeaderBytes, cp.model_id.data(), cp.model_id.size());
  if (!cp.prefix.empty())
    std::memcpy(out.data() + kCheckpointHeaderBytes + cp.model_id.size(), cp.prefix.data(), cp.prefix.size() * 4);
  return out;
}

namespace {

Result<Header> ReadHeader(std::span<const uint8_t> bytes, size_t* needed) {
  if (bytes.size() < kCheckpointHeaderBytes) {
    if (needed) *needed = kCheckpointHeaderBytes;
    return Status::OutOfRange("checkpoint: shorter than its header");
  }
  Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.magic != kMagic) return Status::Corrupt("checkpoint: bad magic");
  if (h.version != kVersion) return Status::Unsupported("checkpoint: version " + std::to_string(h.version));
  if (h.compression > 2 || h.lossy > 2 || h.priority >= kPriorityCount)
    return Status::Corrupt("checkpoint: bad header fields");
  size_t meta = kCheckpointHeaderBytes + size_t{h.model_id_len} + size_t{h.prefix_len} * 4;
  if (bytes.size() < meta) {
    if (needed) *needed = meta;
    return Status::OutOfRange("checkpoint: shorter than its id and prefix");
  }
  return h;
}

}  // namespace

Result<CheckpointMeta> PeekCheckpointMeta(std::span<const uint8_t> bytes, size_t* needed) {
  DTE_ASSIGN_OR_RETURN(Header h, ReadHeader(bytes, needed));
  CheckpointMeta m;
  m.model_id.assign(reinterpret_cast<const char*>(bytes.data() + kCheckpointHeaderBytes), h.model_id_len);
  m.prefix.resize(h.prefix_len);
  if (h.prefix_len)
    std::memcpy(m.prefix.data(), bytes.data() + kCheckpointHeaderBytes + h.model_id_len, size_t{h.prefix_len} * 4);
  m.tokens = h.tokens;
  m.priority = static_cast<Priority>(h.priority);
  m.decoded_bytes = h.state_bytes + h.logits_count * 4 + size_t{h.prefix_len} * 4 + h.model_id_len + 64;
  return m;
}

Result<DecodedCheckpoint> DecodeCheckpoint(std::span<const uint8_t> bytes) {
  DTE_ASSIGN_OR_RETURN(Header h, ReadHeader(bytes, nullptr));
  DTE_ASSIGN_OR_RETURN(CheckpointMeta meta, PeekCheckpointMeta(bytes));
  size_t at = kCheckpointHeaderBytes + h.model_id_len + size_t{h.prefix_len} * 4;
  if (bytes.size() - at != h.payload) return Status::Corrupt("checkpoint: payload length mismatch");
  // Sanity limits before allocating what the header asks for.
  constexpr uint64_t kMaxRaw = uint64_t{1} << 34;
  if (h.raw_payload > kMaxRaw || h.state_bytes > kMaxRaw || h.logits_count > kMaxRaw / 4)
    return Status::Corrupt("checkpoint: implausible sizes");
  std::span<const uint8_t> stored = bytes.subspan(at);

  std::vector<uint8_t> raw(h.raw_payload);
  switch (static_cast<Compression>(h.compression)) {
    case Compression::kNone:
      if (stored.size() != raw.size()) return Status::Corrupt("checkpoint: raw payload length mismatch");
      std::memcpy(raw.data(), stored.data(), raw.size());
      break;
    case Compression::kLz4: {
      int n = LZ4_decompress_safe(reinterpret_cast<const char*>(stored.data()), reinterpret_cast<char*>(raw.data()),
                                  static_cast<int>(stored.size()), static_cast<int>(raw.size()));
      if (n < 0 || static_cast<size_t>(n) != raw.size()) return Status::Corrupt("checkpoint: lz4 payload damaged");
      break;
    }
    case Compression::kZstd: {
      size_t n = ZSTD_decompress(raw.data(), raw.size(), stored.data(), stored.size());
      if (ZSTD_isError(n) || n != raw.size()) return Status::Corrupt("checkpoint: zstd payload damaged");
      break;
    }
  }

  bool shuffled = h.flags & kFlagShuffled;
  LossyFloat lossy = static_cast<LossyFloat>(h.lossy);
  DecodedCheckpoint out;
  Checkpoint& cp = out.checkpoint;
  cp.model_id = std::move(meta.model_id);
  cp.prefix = std::move(meta.prefix);
  cp.tokens = h.tokens;
  out.priority = meta.priority;
  cp.state.resize(h.state_bytes);
  cp.logits.resize(h.logits_count);
  size_t logits_bytes = h.logits_count * 4;
  if (raw.size() < logits_bytes) return Status::Corrupt("checkpoint: payload too short");
  size_t state_stored = raw.size() - logits_bytes;
  if (h.flags & kFlagStateBlob) {
    // A State blob: exact header, then floats as stored.
    size_t n = (h.state_bytes - kStateHeader) / 4;
    int width = lossy == LossyFloat::kNone ? 4 : 2;
    if (h.state_bytes < kStateHeader || state_stored != kStateHeader + n * width)
      return Status::Corrupt("checkpoint: state section size mismatch");
    std::memcpy(cp.state.data(), raw.data(), kStateHeader);
    if (width == 4) {
      ReadElements(raw.data() + kStateHeader, n, 4, shuffled, cp.state.data() + kStateHeader);
    } else {
      std::vector<uint16_t> half(n);
      ReadElements(raw.data() + kStateHeader, n, 2, shuffled, reinterpret_cast<uint8_t*>(half.data()));
      for (size_t i = 0; i < n; ++i) {
        float f = lossy == LossyFloat::kFp16 ? Fp16ToFloat(half[i]) : Bf16ToFloat(half[i]);
        std::memcpy(cp.state.data() + kStateHeader + 4 * i, &f, 4);
      }
    }
  } else {
    if (lossy != LossyFloat::kNone) return Status::Corrupt("checkpoint: lossy mode without a state blob");
    if (state_stored != h.state_bytes) return Status::Corrupt("checkpoint: state section size mismatch");
    std::memcpy(cp.state.data(), raw.data(), h.state_bytes);
  }
  ReadElements(raw.data() + state_stored, h.logits_count, 4, shuffled, reinterpret_cast<uint8_t*>(cp.logits.data()));
  return out;
}

}  // namespace dte
