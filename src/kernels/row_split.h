#pragma once
// How the weight products split their output rows over a ThreadPool (matmul.cc, matmul_q8.cc),
// and the argument block they share.
// Not for the ISA files (matmul_internal.h): it is an inline template of shared types.
//
// Owned ranges with stealing: the rows are cut into one contiguous region per thread of the
// pool; a thread takes its region from the front, an eighth at a time, and, when that is done,
// takes halves of what is left of the other regions from their backs. So each thread streams
// one contiguous range of weights (the kernels' prefetch runs on across its claims, see
// `stream_end`) and the threads still finish within about one grain of each other; a thread
// that starts late (descheduled) finds its region taken by the others. The guided split this
// replaces (a shared counter, ranges of remaining / (2 * threads)) restarted every thread's
// prefetch stream a dozen times per product: 0.1B batch-1 decode, 2 threads, paired A/B:
// half as many claims +2 % (F16) / +4 % (Q8_0), twice as many -4 % / -8 %.
//
// Thread-safety: fn is called concurrently on disjoint ranges.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>

#include "base/check.h"
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

// Calls fn(begin, end, stream_end) over disjoint ranges covering [0, rows), on the pool's
// threads; range bounds are multiples of `grain` (except the end). stream_end >= end: the same
// thread will probably go on with rows [end, stream_end) (the rest of its region when the range
// was claimed; a thief may still take some of them). Inline when the pool is null or has one
// thread, or when the rows are at most min_rows (too little work to hand off).
template <class Fn>
void SplitRowsStealing(int64_t rows, int64_t grain, int64_t min_rows, ThreadPool* pool, Fn fn) {
  if (rows <= 0) return;
  if (pool == nullptr || pool->size() == 1 || rows <= min_rows) {
    fn(int64_t{0}, rows, rows);
    return;
  }
  DTE_CHECK(rows < (int64_t{1} << 31), "too many rows for one split");
  // Each region's [front, back) in one word (front in the low half), on its own cache line.
  struct alignas(64) Region {
    std::atomic<uint64_t> range;
  };
  auto pack = [](int64_t front, int64_t back) {
    return static_cast<uint64_t>(front) | static_cast<uint64_t>(back) << 32;
  };
  const int64_t threads = pool->size();
  thread_local std::unique_ptr<Region[]> regions;
  thread_local int64_t capacity = 0;
  if (capacity < threads) {
    regions = std::make_unique<Region[]>(static_cast<size_t>(threads));
    capacity = threads;
  }
  const int64_t grains = (rows + grain - 1) / grain;
  for (int64_t t = 0; t < threads; ++t) {
    const int64_t begin = std::min(rows, grains * t / threads * grain);
    const int64_t end = std::min(rows, grains * (t + 1) / threads * grain);
    regions[t].range.store(pack(begin, end), std::memory_order_relaxed);
  }
  const int64_t owner_step = std::max(grain, (grains / threads + 7) / 8 * grain);
  Region* const all = regions.get();
  pool->ParallelFor(
      threads,
      [&](int64_t first, int64_t last) {
        for (int64_t t = first; t < last; ++t) {  // own region(s), from the front
          std::atomic<uint64_t>& range = all[t].range;
          uint64_t cur = range.load(std::memory_order_relaxed);
          while (true) {
            const int64_t front = static_cast<int64_t>(cur & 0xffffffffu);
            const int64_t back = static_cast<int64_t>(cur >> 32);
            if (front >= back) break;
            const int64_t end = std::min(back, front + owner_step);
            if (!range.compare_exchange_weak(cur, pack(end, back), std::memory_order_relaxed))
              continue;
            fn(front, end, back);
            cur = range.load(std::memory_order_relaxed);
          }
        }
        for (int64_t k = 1; k < threads; ++k) {  // the others', half of what is left at a time
          std::atomic<uint64_t>& range = all[(first + k) % threads].range;
          uint64_t cur = range.load(std::memory_order_relaxed);
          while (true) {
            const int64_t front = static_cast<int64_t>(cur & 0xffffffffu);
            const int64_t back = static_cast<int64_t>(cur >> 32);
            if (front >= back) break;
            int64_t mid = front + ((back - front) / 2 + grain - 1) / grain * grain;
            if (mid >= back) mid = front;
            if (!range.compare_exchange_weak(cur, pack(front, mid), std::memory_order_relaxed))
              continue;
            fn(mid, back, back);
            cur = range.load(std::memory_order_relaxed);
          }
        }
      },
      1);
}

// SplitRowsStealing over the rows of `a` in multiples of `row_grain`; inline when the whole product
// is less than kMinChunkWork multiply-adds.
template <class Fn>
void SplitRows(const MatMulArgs& a, int64_t row_grain, ThreadPool* pool, Fn fn) {
  const int64_t work_per_row = std::max<int64_t>(1, a.cols * a.n);
  SplitRowsStealing(a.rows, row_grain, kMinChunkWork / work_per_row, pool, fn);
}

}  // namespace dte::internal
