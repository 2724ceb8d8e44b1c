#pragma once
// Helpers for tests against the real tiny models and reference logits in ../shared/models/tiny.

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

namespace dte::testing {

inline std::string TinyDir() { return std::string(DTE_SHARED_DIR) + "/models/tiny/"; }

inline std::string TinyModel(const std::string& stem, const std::string& type) {
  return TinyDir() + "tiny-rwkv-" + stem + "-" + type + ".bin";
}

// The 256 float32 logits after the prompt `"in` = [34, 105, 110].
inline std::vector<float> ExpectedLogits(const std::string& stem) {
  std::vector<float> v(256);
  std::ifstream f(TinyDir() + "expected-logits-" + stem + ".bin", std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), 1024);
  if (f.gcount() != 1024) v.clear();
  return v;
}

inline float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace dte::testing
