#pragma once
// Stable 64-bit hashing for routing (the same key maps to the same point in every process):
// FNV-1a over the bytes, then the splitmix64 finalizer to spread FNV's weak low bits.

#include <cstdint>
#include <string_view>

namespace dte::router {

inline uint64_t MixHash(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

inline uint64_t HashBytes(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ull) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return MixHash(h);
}

}  // namespace dte::router
