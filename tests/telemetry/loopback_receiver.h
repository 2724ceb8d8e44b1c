#pragma once
// Test helper: a tiny HTTP/1.1 receiver on 127.0.0.1 (plain blocking sockets, one thread) that
// records every request and answers from a script of responses (then 200 {}), standing in for
// an OTLP collector or an Alertmanager webhook receiver.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dte::testing {

class LoopbackReceiver {
 public:
  struct Request {
    std::string method, path, head, body;
  };
  struct Response {
    int status = 200;
    std::string extra_headers;  // e.g. "Retry-After: 1\r\n"
    std::chrono::milliseconds delay{0};
  };

  LoopbackReceiver() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    listen(listen_fd_, 64);
    socklen_t len = sizeof(addr);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~LoopbackReceiver() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }
  int port() const { return port_; }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void Script(std::vector<Response> responses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(responses.begin(), responses.end());
  }
  std::vector<Request> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // Waits until at least n requests arrived.
  bool WaitForRequests(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 50) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      Serve(fd);
      close(fd);
    }
  }
  void Serve(int fd) {
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string data;
    char buf[8192];
    size_t head_end = std::string::npos, length = 0;
    while (true) {
      if (head_end != std::string::npos && data.size() >= head_end + 4 + length) break;
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos &&
          (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string head = data.substr(0, head_end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = head.find("content-length:");
        if (cl != std::string::npos) length = std::strtoul(head.c_str() + cl + 15, nullptr, 10);
      }
    }
    Request r;
    r.head = data.substr(0, head_end);
    r.body = data.substr(head_end + 4, length);
    size_t sp1 = r.head.find(' '), sp2 = r.head.find(' ', sp1 + 1);
    r.method = r.head.substr(0, sp1);
    r.path = r.head.substr(sp1 + 1, sp2 - sp1 - 1);
    Response resp;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!script_.empty()) {
        resp = script_.front();
        script_.pop_front();
      }
    }
    // Recorded before answering, so a client that got its answer finds its request here.
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(std::move(r));
    }
    cv_.notify_all();
    if (resp.delay.count() > 0) std::this_thread::sleep_for(resp.delay);
    std::string out = "HTTP/1.1 " + std::to_string(resp.status) +
                      " X\r\nContent-Type: application/json\r\n" + resp.extra_headers +
                      "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
    send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Response> script_;
  std::vector<Request> requests_;
  std::thread thread_;
};

}  // namespace dte::testing
