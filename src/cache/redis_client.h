#pragma once
// RedisClient: a small pool of blocking hiredis connections with short timeouts and a circuit
// breaker, for the state cache's shared tier (RedisTier). It sends a batch of commands as one
// pipeline (one round trip) and hands back the replies.
//
// Failure model: a pooled connection that the server closed while it sat idle is replaced once,
// silently. Otherwise an I/O error or a timeout closes the connection, drops the idle ones (they
// point at the same server) and opens the breaker: for `backoff` every Run fails at once with
// Unavailable (no network at all); then one caller probes (reconnects) while the others keep
// skipping; a success closes the breaker. So a Redis that is down costs a request at most one
// connect or command timeout, and only the probing one.
//
// SIGPIPE: hiredis writes with write(2); a write to a connection the server has closed would
// raise SIGPIPE. Run blocks SIGPIPE in the calling thread for the duration of the I/O and consumes
// one raised meanwhile, so the process's signal dispositions are left alone.
//
// Thread-safe: hiredis contexts are not, so each Run takes a connection from the pool for itself
// (at most pool_size open; a caller that finds none free within command_timeout gets Unavailable).

#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte {

// redis://[:password@]host[:port][/db]
struct RedisUrl {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;
};
Result<RedisUrl> ParseRedisUrl(std::string_view url);

// Opens after a failure for `backoff`, then lets one probe through at a time. Thread-safe.
class CircuitBreaker {
 public:
  explicit CircuitBreaker(std::chrono::milliseconds backoff) : backoff_ns_(backoff.count() * 1000000) {}
  // Whether to try now. While open, false until the backoff has passed; then true for exactly one
  // caller (the probe) until it reports Success or Failure.
  bool Allow();
  void Success();
  void Failure();
  bool open() const { return open_until_.load(std::memory_order_acquire) != 0; }
  // Open and still within the backoff (Allow would say false to everyone).
  bool InBackoff() const;

 private:
  const int64_t backoff_ns_;
  std::atomic<int64_t> open_until_{0};  // steady-clock ns; 0: closed
  std::atomic<bool> probing_{false};
};

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

struct RedisClientOptions {
  RedisUrl url;
  std::chrono::milliseconds connect_timeout{50};
  std::chrono::milliseconds command_timeout{200};
  std::chrono::milliseconds backoff{1000};
  int pool_size = 4;
};

class RedisClient {
 public:
  // One command: its arguments as byte strings (binary safe).
  using Command = std::vector<std::string_view>;

  explicit RedisClient(const RedisClientOptions& options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Sends `commands` as one pipeline; returns one reply per command, in order (a reply may be an
  // error reply: the caller checks). Unavailable: skipped (breaker open, pool busy). IoError:
  // connection or I/O failure / timeout (counted in errors()).
  Result<std::vector<RedisReplyPtr>> Run(const std::vector<Command>& commands);

  bool breaker_open() const { return breaker_.open(); }
  bool in_backoff() const { return breaker_.InBackoff(); }
  int64_t errors() const { return errors_.load(std::memory_order_relaxed); }
  int64_t skipped() const { return skipped_.load(std::memory_order_relaxed); }

 private:
  Result<redisContext*> Connect();
  // A pooled connection (*reused) or a new one.
  Result<redisContext*> Acquire(bool* reused);
  void Release(redisContext* c);
  // Frees `c` (may be null) and every idle connection.
  void Discard(redisContext* c);
  // A connection broke: Discard, count an error, open the breaker.
  void Broken(redisContext* c, const std::string& why);

  const RedisClientOptions options_;
  CircuitBreaker breaker_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<redisContext*> idle_;  // GUARDED_BY(mu_)
  int open_ = 0;                     // GUARDED_BY(mu_): connections in existence
  std::atomic<int64_t> errors_{0}, skipped_{0};
};

}  // namespace dte
