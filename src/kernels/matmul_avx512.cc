// AVX-512 weight kernels: matmul_tiles.h instantiated with the vector unit and row decoders of
// avx512_decode.h. Compiled with -mavx512f/bw/vl/dq (+fma, f16c); uses only those. Keeps the
// rules in matmul_internal.h: everything but the entry point is local to this file.

// GCC 12's _mm256_undefined_* (inside _mm512_reduce_add_ps, _mm512_cvtph_ps) self-initialize a
// variable on purpose and then warn about it; the warning is a false positive.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "kernels/avx512_decode.h"
#include "kernels/matmul_internal.h"
#include "kernels/matmul_tiles.h"

namespace dte::internal {

void MatMulRowsAvx512(const MatMulArgs& a, int64_t row_begin, int64_t row_end) {
  tiles::RowsForType<Avx512, F32Dec, F16Dec, BF16Dec, Q4_0Dec, Q4_1Dec, Q5_0Dec, Q5_1Dec, Q8_0Dec>(
      a, row_begin, row_end);
}

}  // namespace dte::internal
