#pragma once
// Shared by the matmul differential tests: random weight matrices of any DType (stored
// unaligned, as mapped files can be) and a tolerance check relative to sum |w * x|.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "kernels/quant.h"

namespace dte::testing {

// Fast kernels dequantize weights exactly and keep activations in f32, so they differ from the
// scalar twin only in summation order: bound the difference relative to sum |w * x|.
inline constexpr double kRelTolerance = 1e-5;

// A weight matrix stored as `type`, 1 byte past an aligned address, as weights mapped in place
// from a file can be.
struct TestMatrix {
  std::vector<uint8_t> storage;
  std::vector<float> dequantized;  // rows x cols, what the kernels should multiply by
  MatrixView view;
};

inline TestMatrix MakeMatrix(DType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  TestMatrix m;
  m.view.type = type;
  m.view.rows = rows;
  m.view.cols = cols;
  const size_t row_bytes = DTypeRowBytes(type, cols);
  m.storage.resize(row_bytes * rows + 1 + 64);
  uint8_t* base = m.storage.data() + 1;
  m.dequantized.resize(rows * cols);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = (r % 7 == 3) ? 30.0f : 1.0f;  // some rows with a larger range
    for (auto& v : row) v = dist(rng) * scale;
    QuantizeRow(type, row.data(), base + r * row_bytes, cols);
    DequantizeRow(type, base + r * row_bytes, &m.dequantized[r * cols], cols);
  }
  m.view.data = base;
  return m;
}

inline std::vector<float> RandomInputs(int64_t n, int64_t cols, std::mt19937& rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (auto& v : x) v = dist(rng);
  return x;
}

// Expects got[i][r] close to want[i][r], with the tolerance scaled by sum_c |w[r][c] x[i][c]|.
inline void ExpectClose(const TestMatrix& m, const std::vector<float>& x, int64_t n,
                        const std::vector<float>& want, const std::vector<float>& got,
                        const std::string& what, double rel_tolerance = kRelTolerance) {
  const int64_t rows = m.view.rows, cols = m.view.cols;
  int failures = 0;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t r = 0; r < rows; ++r) {
      double magnitude = 0;
      for (int64_t c = 0; c < cols; ++c) {
        magnitude += std::fabs(static_cast<double>(m.dequantized[r * cols + c]) * x[i * cols + c]);
      }
      const double tol = rel_tolerance * magnitude + 1e-30;
      const float w = want[i * rows + r], g = got[i * rows + r];
      if (!(std::fabs(static_cast<double>(w) - g) <= tol) && ++failures <= 5) {
        ADD_FAILURE() << what << " input " << i << " row " << r << ": want " << w << " got " << g
                      << " (tolerance " << tol << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0) << what;
}

}  // namespace dte::testing
