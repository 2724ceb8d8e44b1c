#pragma once
// The layout of a RedisTier value (internal to redis_tier*.cc): a 32-byte header, then the
// checkpoint_codec bytes. The stamp sits at bytes 8..15 (read alone by GETRANGE and by the
// conditional-write script).

#include <cstdint>

namespace dte::redis_value {

inline constexpr uint32_t kMagic = 0x56525444;  // "DTRV"
inline constexpr uint32_t kVersion = 1;
inline constexpr uint64_t kSeed = 0x5244;

struct Header {
  uint32_t magic;
  uint32_t version;
  uint64_t stamp;
  uint64_t payload;
  uint64_t checksum;  // xxhash64 of the payload, seed kSeed
};
static_assert(sizeof(Header) == 32);
inline constexpr int kStampOffset = 8;

}  // namespace dte::redis_value
