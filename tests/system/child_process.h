#pragma once
// Test helper: `dte ARGS...` as a child process whose stdout and stderr go to files, for tests
// that read what a child wrote (a JSON report, log lines) while it runs or after it exited.
// Not thread-safe; one owner.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "system/run_command.h"

namespace dte::testing {

class ChildProcess {
 public:
  // Starts `DTE_BINARY args...`; its stdout goes to `base`.out, stderr to `base`.err (both
  // removed by the destructor), stdin is /dev/null.
  ChildProcess(const std::vector<std::string>& args, const std::string& base)
      : out_path_(base + ".out"), err_path_(base + ".err") {
    pid_ = fork();
    if (pid_ == 0) {
      int out = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int null = open("/dev/null", O_RDONLY);
      dup2(out, 1);
      dup2(err, 2);
      dup2(null, 0);
      ExecDte(args);
    }
  }
  ~ChildProcess() {
    if (pid_ > 0 && exit_code_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove(out_path_.c_str());
    std::remove(err_path_.c_str());
  }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True once the child exited (its code in exit_code()).
  bool Poll() {
    if (exit_code_ >= 0) return true;
    int status = 0;
    if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }
  int exit_code() const { return exit_code_; }
  std::string out() const { return Slurp(out_path_); }
  std::string err() const { return Slurp(err_path_); }

  // The port of the "listening on http://host:port" line on stdout; 0 if none within `timeout`.
  int WaitForPort(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline && !Poll()) {
      const std::string text = out();
      const size_t eol = text.find('\n');
      if (text.starts_with("listening on http://") && eol != std::string::npos) {
        const size_t colon = text.rfind(':', eol);
        return std::stoi(text.substr(colon + 1, eol - colon - 1));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

  // Sends `sig` and returns the exit code (-1 if it did not exit within `timeout`).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(60), int sig = SIGTERM) {
    if (exit_code_ >= 0) return exit_code_;
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Poll()) return exit_code_;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::string out_path_, err_path_;
};

}  // namespace dte::testing
