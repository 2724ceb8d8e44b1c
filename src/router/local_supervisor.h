#pragma once
// LocalWorkerSupervisor: `dte serve` workers as child processes of this one, each on a free
// port, each added to a BackendPool once it answers /ready.
//
//   Spawn()          fork/exec `<binary> serve <args> --host 127.0.0.1 --port 0`, read the port
//                    from its "listening on" line, wait for GET /ready = 200, AddBackend(url).
//   Stop(url, drain) RemoveBackend(url, drain) (no new requests), wait for the router's
//                    in-flight requests to it (drain), SIGTERM (the worker drains itself too),
//                    wait for the exit, SIGKILL after kill_timeout.
//   StartMonitor()   a thread that reaps workers which died on their own, takes them out of the
//                    pool and spawns replacements (at most one restart per restart_backoff).
//
// Children run in their own process group (a terminal's Ctrl-C reaches only this process, which
// then stops them in order) and get SIGTERM if this process dies (PR_SET_PDEATHSIG), so no
// worker is orphaned. This is the "local actuator" the autoscaler glue drives between MIN and
// MAX. Thread-safe: Spawn/Stop may be called from any thread, concurrently with the monitor.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "router/backend_pool.h"

namespace dte::router {

struct WorkerSpec {
  std::string binary = "/proc/self/exe";
  // Arguments after "serve", e.g. {"--model", "m.bin", "--model-name", "demo"}. The supervisor
  // adds --host 127.0.0.1 --port 0.
  std::vector<std::string> serve_args;
  std::chrono::milliseconds ready_timeout{120'000};
  std::chrono::milliseconds drain_timeout{30'000};  // router-side drain in Stop(url, true)
  std::chrono::milliseconds kill_timeout{35'000};   // SIGTERM -> SIGKILL
  std::chrono::milliseconds restart_backoff{1'000};
};

struct WorkerInfo {
  std::string url;
  pid_t pid = 0;
  int restarts = 0;  // how many workers this slot replaced
};

class LocalWorkerSupervisor {
 public:
  LocalWorkerSupervisor(WorkerSpec spec, BackendPool& pool);
  ~LocalWorkerSupervisor();  // StopMonitor(), then StopAll(false)
  LocalWorkerSupervisor(const LocalWorkerSupervisor&) = delete;
  LocalWorkerSupervisor& operator=(const LocalWorkerSupervisor&) = delete;

  // Blocks until the new worker is ready and in the pool; returns its URL.
  Result<std::string> Spawn();
  Status Stop(const std::string& url, bool drain);
  // Stops the worker with the fewest requests in flight (the newest on a tie); returns its URL.
  // NotFound when no worker is left to stop. For scale-in.
  Result<std::string> StopOne(bool drain);
  // Stops every worker (in parallel).
  void StopAll(bool drain);

  void StartMonitor(std::chrono::milliseconds period = std::chrono::milliseconds(200));
  void StopMonitor();

  std::vector<WorkerInfo> Workers() const;
  size_t size() const;
  uint64_t restarts() const { return restarts_.load(); }

 private:
  struct Child {
    pid_t pid = 0;
    int stdout_fd = -1;
    int restarts = 0;
    bool stopping = false;
    uint64_t serial = 0;  // spawn order
  };
  Result<std::string> SpawnSlot(int restarts);
  // Stop() for a child already marked stopping.
  void StopMarked(const std::string& url, pid_t pid, int fd, bool drain);
  void MonitorLoop(std::chrono::milliseconds period);
  // Forks on spawner_, a thread that lives as long as this object: PR_SET_PDEATHSIG fires when
  // the *thread* that forked exits, so forking on a caller's short-lived thread would kill the
  // worker with it. Returns the child's pid and the read end of its stdout, or an error.
  Result<std::pair<pid_t, int>> ForkWorker();
  void SpawnerLoop();
  // Waits for `pid` to exit; SIGKILL after `timeout`. Returns the wait status.
  static int WaitExit(pid_t pid, std::chrono::milliseconds timeout);

  const WorkerSpec spec_;
  BackendPool& pool_;
  mutable std::mutex mu_;
  std::map<std::string, Child> children_;  // by url; guarded by mu_
  std::atomic<uint64_t> restarts_{0};
  uint64_t next_serial_ = 0;  // guarded by mu_
  std::mutex monitor_mu_;
  std::condition_variable monitor_cv_;
  bool monitor_stop_ = false;  // guarded by monitor_mu_
  std::thread monitor_;

  struct ForkJob;
  std::mutex spawner_mu_;
  std::condition_variable spawner_cv_;
  std::vector<ForkJob*> fork_jobs_;  // guarded by spawner_mu_
  bool spawner_stop_ = false;        // guarded by spawner_mu_
  std::thread spawner_;
};

// GET http://host:port<path> over a blocking socket; the status code, or 0 on any failure.
int BlockingGetStatus(const std::string& host, uint16_t port, const std::string& path,
                      std::chrono::milliseconds timeout);

}  // namespace dte::router
