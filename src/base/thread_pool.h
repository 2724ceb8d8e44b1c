#pragma once
// A fixed pool of worker threads for data-parallel loops in the forward pass.
//
// ParallelFor splits [0, n) into chunks (multiples of `grain`), a few per thread, which the
// calling thread and the workers claim from a shared counter. The caller works too, so if a
// worker is descheduled (more runnable threads than cores: an HTTP thread, another process)
// the others simply take its chunks instead of waiting for it — a loop never waits for a thread
// that has not started. Workers spin briefly before sleeping, so back-to-back small loops (one
// per matmul) do not pay a futex wake-up each.
//
// One ParallelFor at a time per pool (concurrent callers are serialized by a mutex).

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

  // Calls fn(begin, end) over disjoint ranges covering [0, n); range bounds are multiples of
  // `grain` (except the end). Returns when all ranges are done.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

  // The number of hardware threads, at least 1.
  static int HardwareThreads();

 private:
  void WorkerLoop();
  // Claims and runs chunks of the current loop until none is left.
  void RunChunks();

  std::mutex call_mu_;  // serializes ParallelFor callers
  std::vector<std::thread> workers_;

  // The current loop, written by ParallelFor before it publishes the loop's first ticket
  // (release) and read by whoever claims a chunk of it (the claim acquires the ticket). A loop
  // cannot end while a claimed chunk runs, so these stay valid for the claimant.
  std::atomic<const std::function<void(int64_t, int64_t)>*> fn_{nullptr};
  std::atomic<int64_t> n_{0};
  std::atomic<int64_t> chunk_size_{1};
  std::atomic<int64_t> chunks_{0};
  std::atomic<int64_t> done_chunks_{0};
  // (loop id << 32) | next chunk index. Claims are compare-exchanges on the whole ticket, so a
  // thread still looking at a finished loop can never claim a chunk of the next one by mistake.
  std::atomic<uint64_t> ticket_{0};
  uint32_t loop_id_ = 0;  // guarded by call_mu_

  std::atomic<uint32_t> generation_{0};  // bumped per loop to wake workers
  std::atomic<bool> stop_{false};
};

}  // namespace dte
