#pragma once
// Helpers shared by the cache tests.

#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include <unistd.h>

#include "cache/checkpoint.h"

namespace dte::testing {

// A checkpoint with a State-like blob ("DTES" header + floats) of `floats` floats and `vocab` logits.
inline Checkpoint MakeCheckpoint(uint32_t seed, size_t floats = 256, size_t vocab = 16) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  Checkpoint cp;
  cp.model_id.push_back('m');  // (= "m" trips a GCC 12 -Wrestrict false positive)
  cp.tokens = seed;
  cp.state.resize(32 + floats * 4);
  uint32_t header[8] = {0x53455444, 1, 7, 1, 1, 1, 0, static_cast<uint32_t>(floats)};
  std::memcpy(cp.state.data(), header, 32);
  for (size_t i = 0; i < floats; ++i) {
    float f = d(rng);
    std::memcpy(cp.state.data() + 32 + 4 * i, &f, 4);
  }
  for (size_t i = 0; i < vocab; ++i) cp.logits.push_back(d(rng));
  return cp;
}

// A fresh directory under the temp dir, removed by the destructor.
struct TempDir {
  std::string path;
  TempDir() {
    static int n = 0;
    path = (std::filesystem::temp_directory_path() /
            ("dte-cache-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++))).string();
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace dte::testing
