#pragma once
// Test helpers: run `dte serve` as a child process on a free port, and talk raw HTTP/1.1 to it
// over blocking sockets (so tests can send anything, including broken requests).

#include <arpa/inet.h>
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

namespace dte::testing {

class ServerProcess {
 public:
  // Starts `dte serve --model MODEL --port 0 ARGS...` and waits for its "listening on" line.
  explicit ServerProcess(const std::string& model, std::vector<std::string> args = {}) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      std::vector<std::string> argv = {DTE_BINARY, "serve", "--model", model, "--model-name", "demo",
                                       "--port", "0", "--threads", "1", "--log-level", "warning"};
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
    if (text.starts_with("listening on http://") && colon != std::string::npos) port_ = std::stoi(text.substr(colon + 1));
  }
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) close(stdout_fd_);
  }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Sends SIGTERM and returns the exit code (-1 if it did not exit within `timeout`).
  int Terminate(std::chrono::seconds timeout = std::chrono::seconds(30)) {
    kill(pid_, SIGTERM);
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

}  // namespace dte::testing
