#include "base/thread_pool.h"

#include <algorithm>

#include "base/check.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define DTE_PAUSE() _mm_pause()
#else
#define DTE_PAUSE() std::this_thread::yield()
#endif

namespace dte {
namespace {
constexpr int kSpinIterations = 20000;  // ~tens of microseconds before sleeping
constexpr int64_t kChunksPerThread = 4;
constexpr uint64_t kClosedTicket = 0xffffffffu;  // chunk index past any loop
}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  DTE_CHECK(n_threads >= 1, "ThreadPool needs at least one thread");
  for (int i = 1; i < n_threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::HardwareThreads() { return std::max(1u, std::thread::hardware_concurrency()); }

void ThreadPool::RunChunks() {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  while (true) {
    const int64_t chunk = static_cast<int64_t>(t & 0xffffffffu);
    if (chunk >= chunks_.load(std::memory_order_acquire)) {
      // Exhausted — unless `t` is stale and a new loop has begun: look once more.
      const uint64_t now = ticket_.load(std::memory_order_acquire);
      if (now == t) return;
      t = now;
      continue;
    }
    if (!ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
    const int64_t size = chunk_size_.load(std::memory_order_relaxed);
    const int64_t begin = chunk * size;
    const int64_t end = std::min(n_.load(std::memory_order_relaxed), begin + size);
    (*fn_.load(std::memory_order_relaxed))(begin, end);
    done_chunks_.fetch_add(1, std::memory_order_acq_rel);
    t = ticket_.load(std::memory_order_acquire);
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t blocks = (n + grain - 1) / grain;
  if (workers_.empty() || blocks <= 1) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> lock(call_mu_);
  // Close the previous loop's ticket first: a worker still holding it (it saw that loop end)
  // must not claim a chunk of this loop through it while the fields below change.
  ticket_.store(kClosedTicket, std::memory_order_release);
  const int64_t chunks = std::min<int64_t>(blocks, kChunksPerThread * size());
  const int64_t blocks_per_chunk = (blocks + chunks - 1) / chunks;
  const int64_t chunk_size = blocks_per_chunk * grain;
  fn_.store(&fn, std::memory_order_relaxed);
  n_.store(n, std::memory_order_relaxed);
  chunk_size_.store(chunk_size, std::memory_order_relaxed);
  chunks_.store((n + chunk_size - 1) / chunk_size, std::memory_order_release);
  done_chunks_.store(0, std::memory_order_relaxed);
  ticket_.store(static_cast<uint64_t>(++loop_id_) << 32, std::memory_order_release);  // publishes the loop
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  RunChunks();
  const int64_t total = chunks_.load(std::memory_order_relaxed);
  int spins = 0;
  while (done_chunks_.load(std::memory_order_acquire) != total) {
    if (++spins < kSpinIterations) {
      DTE_PAUSE();
    } else {
      std::this_thread::yield();
    }
  }
}

void ThreadPool::WorkerLoop() {
  uint32_t seen = 0;  // the value before any loop (not a load: a late start must not miss stop_)
  while (true) {
    int spins = 0;
    uint32_t g;
    while ((g = generation_.load(std::memory_order_acquire)) == seen) {
      if (++spins < kSpinIterations) {
        DTE_PAUSE();
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
    }
    seen = g;
    if (stop_.load(std::memory_order_acquire)) return;
    RunChunks();
  }
}

}  // namespace dte
