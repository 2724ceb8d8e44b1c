#pragma once
// Test helpers: run `dte` subcommands (`dte serve` on a free port, `dte route`, `dte up`, ...) as
// child processes, and talk raw HTTP/1.1 to them over blocking sockets (so tests can send
// anything, including broken requests), with small chunked/SSE/header helpers.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "system/run_command.h"

namespace dte::testing {

class DteProcess {
 public:
  // Starts `dte ARGS...` and waits (up to the child's own pace) for its "listening on" line.
  // With `stderr_path`, the child's stderr goes to that file (created or truncated).
  explicit DteProcess(std::vector<std::string> args, const std::string& stderr_path = "") {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      if (!stderr_path.empty()) {
        const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (err >= 0) dup2(err, 2);
      }
      ExecDte(args);
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

// `dte serve --model MODEL --port 0 ARGS...` (demo model name, one thread, warnings only).
class ServerProcess : public DteProcess {
 public:
  explicit ServerProcess(const std::string& model, std::vector<std::string> args = {})
      : DteProcess(ServeArgs(model, std::move(args))) {}

 private:
  static std::vector<std::string> ServeArgs(const std::string& model, std::vector<std::string> args) {
    std::vector<std::string> argv = {"serve", "--model", model, "--model-name", "demo",
                                     "--port", "0", "--threads", "1", "--log-level", "warning"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
};

inline int Connect(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

inline bool SendAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

inline std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct HttpReply {
  int status = 0;
  std::string head, body;  // body still chunk-encoded for streams
};

// One request on its own connection (Connection: close), read to the end.
inline HttpReply RawRequest(int port, const std::string& method, const std::string& path, const std::string& body,
                            const std::string& extra_headers = "") {
  HttpReply r;
  int fd = Connect(port);
  if (fd < 0) return r;
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + extra_headers;
  if (!body.empty() || method == "POST")
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  SendAll(fd, req);
  std::string all = ReadAll(fd);
  close(fd);
  size_t split = all.find("\r\n\r\n");
  r.head = all.substr(0, split);
  if (split != std::string::npos) r.body = all.substr(split + 4);
  if (all.starts_with("HTTP/1.1 ")) r.status = std::atoi(all.c_str() + 9);
  return r;
}

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
