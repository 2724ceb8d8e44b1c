#pragma once
// A fixed pool of worker threads for data-parallel loops in the forward pass.
// ParallelFor splits [0, n) into one contiguous range per thread; the calling thread takes a
// range too. Workers spin briefly before sleeping, so back-to-back small loops (one per matmul)
// do not pay a futex wake-up each. One ParallelFor at a time per pool: the pool belongs to one
// engine/scheduler thread (calls from several threads are serialized by a mutex).

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dte {

class ThreadPool {
 public:
  // n_threads counts the caller: ThreadPool(1) runs everything inline, starting no thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) over disjoint ranges covering [0, n); ranges are multiples of `grain`
  // (except the last). Returns when all ranges are done.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

  // The number of hardware threads, at least 1.
  static int HardwareThreads();

 private:
  void WorkerLoop(int index);
  void RunShare(int index);

  std::mutex call_mu_;  // serializes ParallelFor callers
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace dte
