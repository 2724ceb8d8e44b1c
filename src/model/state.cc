#include "model/state.h"

#include <cstring>

namespace dte {
namespace {
constexpr uint32_t kMagic = 0x53455444;  // "DTES"
constexpr uint32_t kFormatVersion = 1;
constexpr uint32_t kDtypeF32 = 0;
constexpr size_t kHeaderBytes = 32;

uint32_t VersionCode(RwkvVersion v) { return static_cast<uint32_t>(v); }
}  // namespace

State::State(const ModelConfig& config)
    : config_(config),
      per_layer_(config.StateFloatsPerLayer()),
      data_(static_cast<size_t>(per_layer_ * config.n_layer)) {
  Reset();
}

void State::Reset() {
  std::fill(data_.begin(), data_.end(), 0.0f);
  if (config_.version == RwkvVersion::kV4) {
    const int64_t c = config_.n_embd;
    for (int64_t l = 0; l < config_.n_layer; ++l) std::fill_n(layer(l) + 4 * c, c, -1e30f);
  }
}

std::vector<uint8_t> State::Serialize() const {
  uint32_t header[8] = {kMagic,
                        kFormatVersion,
                        VersionCode(config_.version),
                        static_cast<uint32_t>(config_.n_layer),
                        static_cast<uint32_t>(config_.n_embd),
                        static_cast<uint32_t>(config_.head_size),
                        kDtypeF32,
                        static_cast<uint32_t>(data_.size())};
  std::vector<uint8_t> out(kHeaderBytes + bytes());
  std::memcpy(out.data(), header, kHeaderBytes);
  std::memcpy(out.data() + kHeaderBytes, data_.data(), bytes());
  return out;
}

Result<State> State::Deserialize(const ModelConfig& config, std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes)
    return Status::Corrupt("state: " + std::to_string(bytes.size()) + " bytes, shorter than its header");
  uint32_t h[8];
  std::memcpy(h, bytes.data(), kHeaderBytes);
  if (h[0] != kMagic) return Status::Corrupt("state: bad magic (not a Deep Tree Echo state)");
  if (h[1] != kFormatVersion)
    return Status::Unsupported("state: format version " + std::to_string(h[1]) + ", expected " +
                               std::to_string(kFormatVersion));
  if (h[6] != kDtypeF32) return Status::Unsupported("state: dtype " + std::to_string(h[6]));
  State s(config);
  if (h[2] != VersionCode(config.version) || h[3] != config.n_layer || h[4] != config.n_embd ||
      h[5] != config.head_size || h[7] != s.data_.size()) {
    return Status::InvalidArgument("state was made for another model shape (" + std::to_string(h[3]) +
                                   " layers x " + std::to_string(h[4]) + "), this model is " +
                                   config.ToString());
  }
  if (bytes.size() != kHeaderBytes + s.bytes())
    return Status::Corrupt("state: " + std::to_string(bytes.size()) + " bytes, expected " +
                           std::to_string(kHeaderBytes + s.bytes()));
  std::memcpy(s.data_.data(), bytes.data() + kHeaderBytes, s.bytes());
  return s;
}

}  // namespace dte
