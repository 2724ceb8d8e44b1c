#pragma once
// Test helpers for `dte route` / `dte up`: run any `dte` subcommand that prints a
// "listening on http://host:port" line as a child process, and small HTTP/SSE helpers.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace dte::testing {

class DteProcess {
 public:
  // Starts `dte ARGS...` and waits (up to the child's own pace) for its "listening on" line.
  explicit DteProcess(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::vector<std::string> argv = {DTE_BINARY};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> cargv;
      for (auto& a : argv) cargv.push_back(a.data());
      cargv.push_back(nullptr);
      execv(cargv[0], cargv.data());
      _exit(127);
    }
    close(out[1]);
    std::string text;
    char buf[256];
    while (text.find('\n') == std::string::npos) {
      ssize_t n = read(out[0], buf, sizeof(buf));
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    stdout_fd_ = out[0];
    size_t colon = text.rfind(':');
    if (text.starts_with("listening on http://") && colon != std::string::npos)
      port_ = std::stoi(text.substr(colon + 1));
  }
  ~DteProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Sends `sig` and returns the exit code (-1 if it did not exit within `timeout`).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(60), int sig = SIGTERM) {
    kill(pid_, sig);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;
  bool exited_ = false;
};

// The child processes of `pid` (from /proc/<pid>/task/*/children).
inline std::set<pid_t> ChildPids(pid_t pid) {
  std::set<pid_t> out;
  {
    std::string cmd = "cat /proc/" + std::to_string(pid) + "/task/*/children 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char buf[4096];
    std::string text;
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
    pclose(p);
    std::istringstream in(text);
    pid_t child;
    while (in >> child) out.insert(child);
  }
  return out;
}

// True while a process with this pid exists (a zombie counts).
inline bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

// Removes HTTP chunked framing.
inline std::string DechunkBody(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t n = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) break;
    out += body.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  return out;
}

// The data payloads of an SSE stream.
inline std::vector<std::string> SseDataOf(const std::string& stream) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = stream.find("data: ", pos)) != std::string::npos) {
    size_t end = stream.find('\n', pos);
    out.push_back(stream.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  return out;
}

// The value of header `name` (case-sensitive match on the name as sent) in a raw head.
inline std::string HeaderOf(const std::string& head, const std::string& name) {
  size_t pos = head.find("\r\n" + name + ": ");
  if (pos == std::string::npos) return {};
  pos += name.size() + 4;
  return head.substr(pos, head.find("\r\n", pos) - pos);
}

}  // namespace dte::testing
