#include "cache/cache_stats.h"

#include <bit>
#include <cmath>

namespace dte {

namespace {
int BucketOf(int64_t ns) {
  if (ns < 1) ns = 1;
  uint64_t v = static_cast<uint64_t>(ns);
  int log2 = 63 - std::countl_zero(v);
  // Two bits below the leading one pick the quarter.
  int quarter = log2 >= 2 ? static_cast<int>((v >> (log2 - 2)) & 3) : 0;
  return log2 * 4 + quarter;
}
double BucketMidNanos(int b) {
  int log2 = b / 4, quarter = b % 4;
  return std::ldexp(1.0 + quarter / 4.0 + 0.125, log2);
}
}  // namespace

size_t StripedCounter::AssignCell() {
  static std::atomic<size_t> next{0};
  size_t n = next.fetch_add(1, std::memory_order_relaxed);
  return n < kOwned ? n : kOwned + n % kShared;
}

void LatencyHistogram::Record(int64_t ns) {
  int b = BucketOf(ns);
  if (b >= kBuckets) b = kBuckets - 1;
  counts_[b].fetch_add(1, std::memory_order_relaxed);
}

double LatencyHistogram::QuantileMicros(double q) const {
  uint64_t total = 0;
  std::array<uint64_t, kBuckets> c;
  for (int i = 0; i < kBuckets; ++i) total += c[i] = counts_[i].load(std::memory_order_relaxed);
  if (total == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(q * total));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += c[i];
    if (seen >= rank) return BucketMidNanos(i) / 1000.0;
  }
  return BucketMidNanos(kBuckets - 1) / 1000.0;
}

void LatencyHistogram::Reset() {
  for (auto& c : counts_) c.store(0, std::memory_order_relaxed);
}

void TierCounters::Fill(TierStats* s) const {
  s->hits = hits.load(std::memory_order_relaxed);
  s->misses = misses.load(std::memory_order_relaxed);
  s->evictions = evictions.load(std::memory_order_relaxed);
  s->expirations = expirations.load(std::memory_order_relaxed);
  s->promotions = promotions.load(std::memory_order_relaxed);
  s->rejections = rejections.load(std::memory_order_relaxed);
  s->corrupt = corrupt.load(std::memory_order_relaxed);
  s->writes = writes.load(std::memory_order_relaxed);
  s->bytes_written = bytes_written.load(std::memory_order_relaxed);
  s->errors = errors.load(std::memory_order_relaxed);
  s->skipped = skipped.load(std::memory_order_relaxed);
  s->get_p50_us = get_latency.QuantileMicros(0.5);
  s->get_p99_us = get_latency.QuantileMicros(0.99);
}

void TierCounters::Reset() {
  hits.store(0);
  misses.store(0);
  for (auto* c : {&evictions, &expirations, &promotions, &rejections, &corrupt, &writes, &bytes_written, &errors, &skipped})
    c->store(0, std::memory_order_relaxed);
  get_latency.Reset();
}

}  // namespace dte
