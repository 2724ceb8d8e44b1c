#include "router/local_supervisor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <future>

#include "base/log.h"

namespace dte::router {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Reads from `fd` until a newline or the deadline; returns what it read.
std::string ReadLine(int fd, Clock::time_point deadline) {
  std::string text;
  char buf[256];
  while (text.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, RemainingMs(deadline)) <= 0) break;
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace

int BlockingGetStatus(const std::string& host, uint16_t port, const std::string& path,
                      std::chrono::milliseconds timeout) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return 0;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int status = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    const std::string req =
        "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[64];
      ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
      if (n >= 12) {
        buf[n] = '\0';
        if (std::strncmp(buf, "HTTP/1.", 7) == 0) status = std::atoi(buf + 9);
      }
    }
  }
  close(fd);
  return status;
}

struct LocalWorkerSupervisor::ForkJob {
  std::string path;  // what to exec
  std::vector<std::string> argv;
  std::promise<Result<std::pair<pid_t, int>>> done;
};

LocalWorkerSupervisor::LocalWorkerSupervisor(WorkerSpec spec, BackendPool& pool)
    : spec_(std::move(spec)), pool_(pool), spawner_([this] { SpawnerLoop(); }) {}

LocalWorkerSupervisor::~LocalWorkerSupervisor() {
  StopMonitor();
  StopAll(false);
  {
    std::lock_guard lock(spawner_mu_);
    spawner_stop_ = true;
  }
  spawner_cv_.notify_all();
  spawner_.join();
}

void LocalWorkerSupervisor::SpawnerLoop() {
  while (true) {
    ForkJob* job = nullptr;
    {
      std::unique_lock lock(spawner_mu_);
      spawner_cv_.wait(lock, [&] { return spawner_stop_ || !fork_jobs_.empty(); });
      if (fork_jobs_.empty()) return;
      job = fork_jobs_.front();
      fork_jobs_.erase(fork_jobs_.begin());
    }
    std::vector<char*> cargv;
    for (auto& a : job->argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
      job->done.set_value(Status::IoError(std::string("pipe: ") + std::strerror(errno)));
      continue;
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls until exec: this process has other threads.
      setpgid(0, 0);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(126);  // the parent died before prctl
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      dup2(out[1], 1);
      close_range(3, ~0U, 0);  // the router's listening socket must not leak into workers
      execv(job->path.c_str(), cargv.data());
      _exit(127);
    }
    close(out[1]);
    if (pid < 0) {
      close(out[0]);
      job->done.set_value(Status::IoError(std::string("fork: ") + std::strerror(errno)));
      continue;
    }
    job->done.set_value(std::make_pair(pid, out[0]));
  }
}

Result<std::pair<pid_t, int>> LocalWorkerSupervisor::ForkWorker() {
  ForkJob job;
  job.path = spec_.binary;
  // argv[0] is what `ps` shows: the real path rather than "/proc/self/exe".
  std::error_code ec;
  const std::filesystem::path real = std::filesystem::read_symlink(spec_.binary, ec);
  job.argv = {ec ? spec_.binary : real.string(), "serve"};
  job.argv.insert(job.argv.end(), spec_.serve_args.begin(), spec_.serve_args.end());
  for (const char* a : {"--host", "127.0.0.1", "--port", "0"}) job.argv.emplace_back(a);
  std::future<Result<std::pair<pid_t, int>>> result = job.done.get_future();
  {
    std::lock_guard lock(spawner_mu_);
    if (spawner_stop_) return Status::Unavailable("supervisor is stopping");
    fork_jobs_.push_back(&job);
  }
  spawner_cv_.notify_all();
  return result.get();
}

Result<std::string> LocalWorkerSupervisor::Spawn() { return SpawnSlot(0); }

Result<std::string> LocalWorkerSupervisor::SpawnSlot(int restarts) {
  Result<std::pair<pid_t, int>> forked = ForkWorker();
  if (!forked.ok()) return forked.status();
  const auto [pid, fd] = *forked;
  const Clock::time_point deadline = Clock::now() + spec_.ready_timeout;
  auto fail = [&, pid = pid, fd = fd](std::string why) -> Status {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    close(fd);
    return Status::Unavailable("worker (pid " + std::to_string(pid) + ") " + why);
  };
  const std::string line = ReadLine(fd, deadline);
  const size_t colon = line.rfind(':');
  if (!line.starts_with("listening on http://") || colon == std::string::npos) {
    return fail("did not start listening (see its log above)");
  }
  const int port = std::atoi(line.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return fail("printed a bad port: " + line);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  while (true) {
    if (BlockingGetStatus("127.0.0.1", static_cast<uint16_t>(port), "/ready",
                          std::chrono::milliseconds(1000)) == 200)
      break;
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      close(fd);
      return Status::Unavailable("worker " + url + " exited before it was ready");
    }
    if (Clock::now() >= deadline) return fail("was not ready within the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  {
    std::lock_guard lock(mu_);
    Child child;
    child.pid = pid;
    child.stdout_fd = fd;
    child.restarts = restarts;
    child.serial = ++next_serial_;
    children_[url] = child;
  }
  if (Status s = pool_.AddBackend(url); !s.ok()) {
    {
      std::lock_guard lock(mu_);
      children_.erase(url);
    }
    return fail("could not join the pool: " + s.message());
  }
  LogInfo("dte up: worker " + url + " (pid " + std::to_string(pid) + ") is ready");
  return url;
}

int LocalWorkerSupervisor::WaitExit(pid_t pid, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return 0;  // already reaped (by the monitor)
    if (Clock::now() >= deadline) {
      LogWarning("dte up: worker pid " + std::to_string(pid) + " did not exit in time; SIGKILL");
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Status LocalWorkerSupervisor::Stop(const std::string& url, bool drain) {
  pid_t pid = 0;
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    auto it = children_.find(url);
    if (it == children_.end() || it->second.stopping) return Status::NotFound("no worker " + url);
    it->second.stopping = true;
    pid = it->second.pid;
    fd = it->second.stdout_fd;
  }
  StopMarked(url, pid, fd, drain);
  return Status::Ok();
}

void LocalWorkerSupervisor::StopMarked(const std::string& url, pid_t pid, int fd, bool drain) {
  if (pool_.RemoveBackend(url, drain).ok() && drain) {
    if (!pool_.WaitRemoved(url, spec_.drain_timeout)) {
      LogWarning("dte up: " + url + " still had requests in flight after the drain timeout");
      (void)pool_.RemoveBackend(url, false);
    }
  }
  kill(pid, SIGTERM);
  WaitExit(pid, spec_.kill_timeout);
  if (fd >= 0) close(fd);
  {
    std::lock_guard lock(mu_);
    children_.erase(url);
  }
  LogInfo("dte up: worker " + url + " stopped");
}

Result<std::string> LocalWorkerSupervisor::StopOne(bool drain) {
  std::string chosen;
  pid_t pid = 0;
  int fd = -1;
  {
    std::lock_guard lock(mu_);  // choose and mark in one step: parallel StopOne()s differ
    Child* best = nullptr;
    int64_t best_load = 0;
    for (auto& [url, child] : children_) {
      if (child.stopping) continue;
      std::shared_ptr<Backend> b = pool_.Find(url);
      const int64_t load = b ? b->outstanding() : 0;
      if (!best || load < best_load || (load == best_load && child.serial > best->serial)) {
        best = &child;
        best_load = load;
        chosen = url;
      }
    }
    if (!best) return Status::NotFound("no worker to stop");
    best->stopping = true;
    pid = best->pid;
    fd = best->stdout_fd;
  }
  StopMarked(chosen, pid, fd, drain);
  return chosen;
}

void LocalWorkerSupervisor::StopAll(bool drain) {
  std::vector<std::string> urls;
  {
    std::lock_guard lock(mu_);
    for (const auto& [url, child] : children_)
      if (!child.stopping) urls.push_back(url);
  }
  std::vector<std::thread> stoppers;
  for (const std::string& url : urls)
    stoppers.emplace_back([this, url, drain] { (void)Stop(url, drain); });
  for (std::thread& t : stoppers) t.join();
}

void LocalWorkerSupervisor::StartMonitor(std::chrono::milliseconds period) {
  if (monitor_.joinable()) return;
  monitor_ = std::thread([this, period] { MonitorLoop(period); });
}

void LocalWorkerSupervisor::StopMonitor() {
  {
    std::lock_guard lock(monitor_mu_);
    monitor_stop_ = true;
  }
  monitor_cv_.notify_all();
  if (monitor_.joinable()) monitor_.join();
}

void LocalWorkerSupervisor::MonitorLoop(std::chrono::milliseconds period) {
  Clock::time_point last_restart{};
  while (true) {
    {
      std::unique_lock lock(monitor_mu_);
      if (monitor_cv_.wait_for(lock, period, [&] { return monitor_stop_; })) return;
    }
    std::vector<std::pair<std::string, Child>> live;
    {
      std::lock_guard lock(mu_);
      for (const auto& [url, child] : children_)
        if (!child.stopping) live.emplace_back(url, child);
    }
    for (const auto& [url, child] : live) {
      int status = 0;
      if (waitpid(child.pid, &status, WNOHANG) != child.pid) continue;
      {
        std::lock_guard lock(mu_);
        auto it = children_.find(url);
        if (it == children_.end() || it->second.stopping) continue;  // a Stop() got there first
        children_.erase(it);
      }
      close(child.stdout_fd);
      (void)pool_.RemoveBackend(url, false);
      LogWarning("dte up: worker " + url + " (pid " + std::to_string(child.pid) + ") died (" +
                 (WIFSIGNALED(status) ? "signal " + std::to_string(WTERMSIG(status))
                                      : "exit " + std::to_string(WEXITSTATUS(status))) +
                 "); restarting");
      const auto wait = last_restart + spec_.restart_backoff - Clock::now();
      if (wait.count() > 0) std::this_thread::sleep_for(wait);
      last_restart = Clock::now();
      {
        std::lock_guard lock(monitor_mu_);
        if (monitor_stop_) return;
      }
      Result<std::string> replacement = SpawnSlot(child.restarts + 1);
      restarts_.fetch_add(1);
      if (!replacement.ok()) LogError("dte up: restart failed: " + replacement.status().ToString());
    }
  }
}

std::vector<WorkerInfo> LocalWorkerSupervisor::Workers() const {
  std::lock_guard lock(mu_);
  std::vector<WorkerInfo> out;
  for (const auto& [url, child] : children_) out.push_back({url, child.pid, child.restarts});
  return out;
}

size_t LocalWorkerSupervisor::size() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [url, child] : children_) n += child.stopping ? 0 : 1;
  return n;
}

}  // namespace dte::router
