#pragma once
// Software prefetch for kernels that stream weight rows once (decode of 1 to 8 sequences):
// every cache line of a row range is asked for kStreamPrefetchBytes ahead of the row being
// read, with the non-temporal hint, counted in bytes across row boundaries, starting at the
// range's first row, and on past the range into the rows the same thread reads next
// (MatMulArgs::stream_end, row_split.h).
//
// Measured on the 0.1B RWKV-7 models, 2 threads, Zen 5 (paired A/B, alternating every 16
// tokens; docs/performance.md): against 6 rows ahead with the T0 hint, 12 KiB ahead NTA gave
// +6 % (F16) / +5 % (Q8_0) decode tok/s while the host's memory was slow (~50 GB/s streams)
// and +16 % / +19 % while it was fast (~75 GB/s); 4-8 KiB and 16-24 KiB were slower, T1 and
// T0 slower than NTA at the same distance. The non-temporal hint also keeps the streamed
// weights from evicting the recurrent state and activations from L2/L3.
//
// For the ISA files (matmul_internal.h's rules): the class is in an anonymous namespace, so
// each file compiles its own copy with its own flags.

#include <cstdint>

#include "kernels/matmul_internal.h"

namespace dte::internal {
namespace {

inline constexpr int64_t kStreamPrefetchBytes = 12 * 1024;

class StreamPrefetcher {
 public:
  // Weights [begin, end) will be read in order; asks for the first kStreamPrefetchBytes.
  StreamPrefetcher(const uint8_t* begin, const uint8_t* end) : base_(begin), end_(end - begin) {
    Upto(kStreamPrefetchBytes);
  }
  // Rows [r0, r1) of a product will be read, then probably [r1, a.stream_end).
  StreamPrefetcher(const MatMulArgs& a, int64_t r0, int64_t r1)
      : StreamPrefetcher(a.w + r0 * static_cast<int64_t>(a.row_bytes),
                         a.w + (a.stream_end > r1 ? a.stream_end : r1) *
                                   static_cast<int64_t>(a.row_bytes)) {}
  // Reading has reached `read`: asks for every line below read + kStreamPrefetchBytes.
  void ReadingAt(const uint8_t* read) { Upto((read - base_) + kStreamPrefetchBytes); }

 private:
  void Upto(int64_t to) {
    if (to > end_) to = end_;
    for (; next_ < to; next_ += 64) __builtin_prefetch(base_ + next_, 0, 0);
  }
  const uint8_t* base_;
  int64_t next_ = 0;  // offsets from base_
  int64_t end_;
};

}  // namespace
}  // namespace dte::internal
