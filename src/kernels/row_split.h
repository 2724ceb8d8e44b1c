#pragma once
// How the weight products split their output rows over a ThreadPool (matmul.cc, matmul_q8.cc),
// and the argument block they share.
// Not for the ISA files (matmul_internal.h): it is an inline template of shared types.
//
// Guided scheduling: every thread of the pool runs one loop that claims row ranges from a shared
// counter, each range a share of what is left (remaining / (2 * threads), rounded up to the
// grain, at least one grain): big ranges first, one-grain ranges at the end. So the threads
// finish within about one grain of each other, with a dozen claims per product, where the
// pool's own chunks (at most 4 per thread) left one thread idle for up to an eighth of a
// product while the other finished its last chunk (about 10 % of batch-1 decode time).
// A thread that starts late (descheduled) finds fewer rows left, or none.
//
// Thread-safety: fn is called concurrently on disjoint ranges.

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/matmul_internal.h"

namespace dte::internal {

// Work (multiply-adds) below which a chunk is not worth handing to another thread.
inline constexpr int64_t kMinChunkWork = int64_t{1} << 16;
// Row ranges are multiples of this, so kernel row tiles (4) never straddle two threads.
inline constexpr int64_t kRowGrain = 8;

// The kernels' view of y[n][rows] = x[n][cols] . w^T.
inline MatMulArgs ArgsFor(const MatrixView& w, const float* x, int64_t n, float* y) {
  MatMulArgs a;
  a.type = w.type;
  a.rows = w.rows;
  a.cols = w.cols;
  a.row_bytes = w.row_bytes();  // CHECKs cols against the block size
  a.w = static_cast<const uint8_t*>(w.data);
  a.x = x;
  a.n = n;
  a.y = y;
  return a;
}

// Calls fn(begin, end) over disjoint ranges covering [0, rows), on the pool's threads; range
// bounds are multiples of `grain` (except the end). Inline when the pool is null or has one
// thread, or when the rows are at most min_rows (too little work to hand off).
template <class Fn>
void SplitRowsGuided(int64_t rows, int64_t grain, int64_t min_rows, ThreadPool* pool, Fn fn) {
  if (rows <= 0) return;
  if (pool == nullptr || pool->size() == 1 || rows <= min_rows) {
    fn(int64_t{0}, rows);
    return;
  }
  const int64_t threads = pool->size();
  std::atomic<int64_t> next{0};
  pool->ParallelFor(
      threads,
      [&](int64_t, int64_t) {
        int64_t begin = next.load(std::memory_order_relaxed);
        while (true) {
          int64_t end;
          do {
            if (begin >= rows) return;
            const int64_t share = (rows - begin) / (2 * threads);
            const int64_t size = std::max(grain, (share + grain - 1) / grain * grain);
            end = std::min(rows, begin + size);
          } while (!next.compare_exchange_weak(begin, end, std::memory_order_relaxed));
          fn(begin, end);
          begin = next.load(std::memory_order_relaxed);
        }
      },
      1);
}

// SplitRowsGuided over the rows of `a` in multiples of `row_grain`; inline when the whole product
// is less than kMinChunkWork multiply-adds.
template <class Fn>
void SplitRows(const MatMulArgs& a, int64_t row_grain, ThreadPool* pool, Fn fn) {
  const int64_t work_per_row = std::max<int64_t>(1, a.cols * a.n);
  SplitRowsGuided(a.rows, row_grain, kMinChunkWork / work_per_row, pool, fn);
}

}  // namespace dte::internal
