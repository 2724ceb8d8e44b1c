#pragma once
// Test helper for system tests: a real redis-server child process (no hiredis needed).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "system/server_process.h"

extern char** environ;

namespace dte::testing {

inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A redis-server child without persistence, on a free port, in its own temp dir; killed and its
// dir removed on destruction. ready() is false when redis-server is missing or did not start.
class RedisProcess {
 public:
  RedisProcess()
      : port_(FreePort()),
        dir_(std::filesystem::temp_directory_path() / ("dte_redis_" + std::to_string(getpid()) + "_" + std::to_string(port_))) {
    std::filesystem::create_directories(dir_);
    if (system("command -v redis-server >/dev/null 2>&1") != 0) return;
    std::vector<std::string> args = {
        "redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
        "--save",       "",       "--appendonly",        "no",     "--dir",
        dir_.string()};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t quiet;
    posix_spawn_file_actions_init(&quiet);
    posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
    if (posix_spawnp(&pid_, "redis-server", &quiet, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&quiet);
    for (int i = 0; i < 200 && pid_ > 0 && !ready_; ++i) {
      int fd = testing::Connect(port_);
      if (fd >= 0) {
        close(fd);
        ready_ = true;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
  }
  ~RedisProcess() {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  bool ready() const { return ready_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
  int64_t KeyCount() const {
    FILE* f = popen(("redis-cli -p " + std::to_string(port_) + " dbsize").c_str(), "r");
    if (f == nullptr) return -1;
    char buf[64] = {0};
    const bool read = fgets(buf, sizeof(buf), f) != nullptr;
    pclose(f);
    return read ? std::atoll(buf) : -1;
  }

 private:
  int port_;
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  bool ready_ = false;
};

}  // namespace dte::testing
