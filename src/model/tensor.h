#pragma once
// A named, typed view of weight bytes. Tensors never own their bytes: a TensorStore keeps the
// mapping or buffer they point into alive.

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dtype.h"
#include "kernels/matmul.h"

namespace dte {

struct Tensor {
  std::string name;
  DType type = DType::kF32;
  std::vector<int64_t> shape;  // ggml order: shape[0] is the contiguous dimension
  const void* data = nullptr;
  size_t bytes = 0;

  int64_t elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  // A 2-D tensor as a weight matrix: cols = shape[0], rows = product of the other dims.
  MatrixView AsMatrix() const {
    return MatrixView{type, shape.empty() ? 0 : elements() / shape[0], shape.empty() ? 0 : shape[0], data};
  }
  // "[64, 256]"
  std::string ShapeString() const;
};

}  // namespace dte
