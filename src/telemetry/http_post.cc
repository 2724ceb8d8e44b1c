#include "telemetry/http_post.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>

namespace dte {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Waits for `events` on fd until the deadline; false on timeout or error.
bool WaitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  while (true) {
    int r = poll(&p, 1, RemainingMs(deadline));
    if (r > 0) return true;
    if (r == 0 || errno != EINTR) return false;
  }
}

// A connected non-blocking socket, or -1 with `error` set.
int ConnectTo(const HttpUrl& url, Clock::time_point deadline, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  std::string port = std::to_string(url.port);
  if (int rc = getaddrinfo(url.host.c_str(), port.c_str(), &hints, &list); rc != 0) {
    *error = "resolve " + url.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = list; a && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    int err = errno;
    if (err == EINPROGRESS && WaitFor(fd, POLLOUT, deadline)) {
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) break;
    }
    *error = "connect " + url.host + ":" + port + ": " +
             (err == EINPROGRESS ? "timeout" : std::strerror(err));
    close(fd);
    fd = -1;
  }
  freeaddrinfo(list);
  return fd;
}

bool SendAll(int fd, std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLOUT, deadline)) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

constexpr size_t kMaxBody = 64 << 10;
constexpr size_t kMaxHead = 16 << 10;

}  // namespace

Result<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme)
    return Status::Unsupported("only http:// URLs are supported: " + std::string(url));
  url.remove_prefix(kScheme.size());
  HttpUrl out;
  size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.path = std::string(url.substr(slash));
  if (authority.empty()) return Status::InvalidArgument("URL has no host");
  size_t colon = authority.rfind(':');
  bool bracketed = authority.front() == '[';
  if (colon != std::string_view::npos && (!bracketed || authority[colon - 1] == ']')) {
    std::string_view p = authority.substr(colon + 1);
    unsigned port = 0;
    auto r = std::from_chars(p.data(), p.data() + p.size(), port);
    if (r.ec != std::errc() || r.ptr != p.data() + p.size() || port == 0 || port > 65535)
      return Status::InvalidArgument("bad port in URL");
    out.port = static_cast<uint16_t>(port);
    authority = authority.substr(0, colon);
  }
  if (bracketed) authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) return Status::InvalidArgument("URL has no host");
  out.host = std::string(authority);
  return out;
}

std::optional<double> ParseRetryAfter(std::string_view value, int64_t now_unix_seconds) {
  value = Trim(value);
  if (value.empty()) return std::nullopt;
  double seconds = 0;
  auto r = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (r.ec == std::errc() && r.ptr == value.data() + value.size()) return seconds < 0 ? 0 : seconds;
  std::tm tm{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  double delta = static_cast<double>(timegm(&tm) - now_unix_seconds);
  return delta < 0 ? 0 : delta;
}

HttpResult HttpPost(const HttpUrl& url, std::string_view body, std::string_view content_type,
                    std::chrono::milliseconds timeout,
                    const std::vector<std::pair<std::string, std::string>>& headers) {
  HttpResult result;
  const auto deadline = Clock::now() + timeout;
  int fd = ConnectTo(url, deadline, &result.error);
  if (fd < 0) return result;

  std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  std::string request = "POST " + url.path + " HTTP/1.1\r\nHost: " + host + ":" +
                        std::to_string(url.port) +
                        "\r\nContent-Type: " + std::string(content_type) +
                        "\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nConnection: close\r\nUser-Agent: dte-telemetry\r\n";
  for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
  request += "\r\n";
  if (!SendAll(fd, request, deadline) || !SendAll(fd, body, deadline)) {
    result.error = "send failed or timed out";
    close(fd);
    return result;
  }

  // Read the head, then the body (Content-Length, or to the end of the connection).
  std::string data;
  size_t head_end = std::string::npos;
  std::optional<size_t> content_length;
  char buf[8192];
  while (true) {
    if (head_end != std::string::npos) {
      size_t have = data.size() - head_end - 4;
      if ((content_length && have >= *content_length) || have >= kMaxBody) break;
    }
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) {
      data.append(buf, static_cast<size_t>(n));
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end == std::string::npos && data.size() > kMaxHead) break;
        if (head_end != std::string::npos) {
          // Parse the head once it is complete.
          std::string_view head(data.data(), head_end);
          size_t line_end = head.find("\r\n");
          std::string_view status_line = head.substr(0, line_end);
          if (status_line.substr(0, 5) == "HTTP/" && status_line.size() >= 12) {
            int code = 0;
            std::from_chars(status_line.data() + 9, status_line.data() + 12, code);
            result.status = code;
          }
          while (line_end != std::string_view::npos) {
            size_t next = head.find("\r\n", line_end + 2);
            std::string_view line =
                head.substr(line_end + 2, next == std::string_view::npos ? std::string_view::npos
                                                                         : next - line_end - 2);
            size_t colon = line.find(':');
            if (colon != std::string_view::npos) {
              std::string_view name = Trim(line.substr(0, colon)),
                               value = Trim(line.substr(colon + 1));
              if (IEquals(name, "retry-after"))
                result.retry_after_seconds = ParseRetryAfter(value, std::time(nullptr));
              if (IEquals(name, "content-length")) {
                size_t len = 0;
                if (std::from_chars(value.data(), value.data() + value.size(), len).ec ==
                    std::errc())
                  content_length = len;
              }
            }
            line_end = next;
          }
        }
      }
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFor(fd, POLLIN, deadline)) {
        if (head_end == std::string::npos) result.error = "timed out waiting for the response";
        break;
      }
    } else {
      break;  // closed (or reset) by the peer
    }
  }
  close(fd);
  if (head_end == std::string::npos || result.status == 0) {
    result.status = 0;
    if (result.error.empty()) result.error = "no valid HTTP response";
    return result;
  }
  result.body = data.substr(head_end + 4, kMaxBody);
  if (content_length && result.body.size() > *content_length) result.body.resize(*content_length);
  return result;
}

}  // namespace dte
