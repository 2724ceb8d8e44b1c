#include "cache/redis_client.h"

#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <charconv>

#include "base/clock.h"
#include "base/log.h"

namespace dte {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch()).count();
}

timeval ToTimeval(std::chrono::milliseconds ms) {
  timeval tv;
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>(ms.count() % 1000 * 1000);
  return tv;
}

// Blocks SIGPIPE in this thread while alive; consumes one raised meanwhile.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

bool ParseInt(std::string_view s, int* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<RedisUrl> ParseRedisUrl(std::string_view url) {
  constexpr std::string_view kScheme = "redis://";
  if (!url.starts_with(kScheme)) return Status::InvalidArgument("redis url must start with redis://: " + std::string(url));
  std::string_view rest = url.substr(kScheme.size());
  RedisUrl out;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view auth = rest.substr(0, at);
    if (size_t colon = auth.find(':'); colon != std::string_view::npos) auth = auth.substr(colon + 1);
    out.password = std::string(auth);
    rest = rest.substr(at + 1);
  }
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    if (!db.empty() && (!ParseInt(db, &out.db) || out.db < 0)) return Status::InvalidArgument("redis url: bad db in " + std::string(url));
    rest = rest.substr(0, slash);
  }
  if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (!ParseInt(rest.substr(colon + 1), &out.port) || out.port <= 0 || out.port > 65535)
      return Status::InvalidArgument("redis url: bad port in " + std::string(url));
    rest = rest.substr(0, colon);
  }
  out.host = rest.empty() ? "127.0.0.1" : std::string(rest);
  return out;
}

bool CircuitBreaker::Allow() {
  int64_t until = open_until_.load(std::memory_order_acquire);
  if (until == 0) return true;
  if (NowNs() < until) return false;
  bool expected = false;
  return probing_.compare_exchange_strong(expected, true, std::memory_order_acq_rel);
}

bool CircuitBreaker::InBackoff() const {
  int64_t until = open_until_.load(std::memory_order_acquire);
  return until != 0 && NowNs() < until;
}

void CircuitBreaker::Success() {
  open_until_.store(0, std::memory_order_release);
  probing_.store(false, std::memory_order_release);
}

void CircuitBreaker::Failure() {
  open_until_.store(NowNs() + backoff_ns_, std::memory_order_release);
  probing_.store(false, std::memory_order_release);
}

RedisClient::RedisClient(const RedisClientOptions& options)
    : options_(options), breaker_(options.backoff) {}

RedisClient::~RedisClient() {
  std::lock_guard lock(mu_);
  for (redisContext* c : idle_) redisFree(c);
}

Result<redisContext*> RedisClient::Connect() {
  redisContext* c = redisConnectWithTimeout(options_.url.host.c_str(), options_.url.port, ToTimeval(options_.connect_timeout));
  if (c == nullptr) return Status::IoError("redis: cannot allocate a connection");
  auto fail = [c](std::string what) {
    std::string msg = "redis: " + what + ": " + c->errstr;
    redisFree(c);
    return Status::IoError(msg);
  };
  if (c->err) return fail("connect");
  if (redisSetTimeout(c, ToTimeval(options_.command_timeout)) != REDIS_OK) return fail("set timeout");
  auto setup = [&](std::vector<std::string_view> args) -> Status {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (std::string_view a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    RedisReplyPtr r(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!r) return fail(std::string(args[0]));
    if (r->type == REDIS_REPLY_ERROR) {
      std::string msg = "redis: " + std::string(args[0]) + ": " + std::string(r->str, r->len);
      redisFree(c);
      return Status::IoError(msg);
    }
    return Status::Ok();
  };
  if (!options_.url.password.empty()) DTE_RETURN_IF_ERROR(setup({"AUTH", options_.url.password}));
  if (options_.url.db != 0) {
    std::string db = std::to_string(options_.url.db);
    DTE_RETURN_IF_ERROR(setup({"SELECT", db}));
  }
  return c;
}

Result<redisContext*> RedisClient::Acquire(bool* reused) {
  *reused = false;
  std::unique_lock lock(mu_);
  auto deadline = SteadyClock::now() + options_.command_timeout;
  while (idle_.empty() && open_ >= options_.pool_size) {
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() && open_ >= options_.pool_size)
      return Status::Unavailable("redis: all connections busy");
  }
  if (!idle_.empty()) {
    redisContext* c = idle_.back();
    idle_.pop_back();
    *reused = true;
    return c;
  }
  ++open_;
  lock.unlock();
  Result<redisContext*> c = Connect();
  if (!c.ok()) {
    lock.lock();
    --open_;
    freed_.notify_one();
  }
  return c;
}

void RedisClient::Release(redisContext* c) {
  std::lock_guard lock(mu_);
  idle_.push_back(c);
  freed_.notify_one();
}

void RedisClient::Discard(redisContext* c) {
  std::vector<redisContext*> idle;
  {
    std::lock_guard lock(mu_);
    idle.swap(idle_);
    open_ -= static_cast<int>(idle.size()) + (c ? 1 : 0);
    freed_.notify_all();
  }
  if (c) redisFree(c);
  for (redisContext* i : idle) redisFree(i);
}

void RedisClient::Broken(redisContext* c, const std::string& why) {
  Discard(c);
  bool was_open = breaker_.open();
  breaker_.Failure();
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (!was_open)
    LogWarning(why + "; using the local tiers only, retrying in " + std::to_string(options_.backoff.count()) + " ms");
}

Result<std::vector<RedisReplyPtr>> RedisClient::Run(const std::vector<Command>& commands) {
  if (!breaker_.Allow()) {
    skipped_.fetch_add(1, std::memory_order_relaxed);
    return Status::Unavailable("redis: skipped while the circuit breaker is open");
  }
  SigpipeBlock no_sigpipe;
  for (int attempt = 0;; ++attempt) {
    bool reused = false;
    Result<redisContext*> acquired = Acquire(&reused);
    if (!acquired.ok()) {
      if (acquired.status().code() == StatusCode::kUnavailable) {
        // Busy, not broken: let a later caller probe if this one was the probe.
        if (breaker_.open()) breaker_.Failure();
        skipped_.fetch_add(1, std::memory_order_relaxed);
      } else {
        Broken(nullptr, acquired.status().message());
      }
      return acquired.status();
    }
    redisContext* c = *acquired;
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const Command& cmd : commands) {
      argv.clear();
      lens.clear();
      for (std::string_view a : cmd) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data());
    }
    std::vector<RedisReplyPtr> replies;
    replies.reserve(commands.size());
    int failure_errno = 0;
    for (size_t i = 0; i < commands.size(); ++i) {
      void* r = nullptr;
      if (redisGetReply(c, &r) != REDIS_OK || r == nullptr) {
        failure_errno = errno;
        break;
      }
      replies.emplace_back(static_cast<redisReply*>(r));
    }
    if (replies.size() == commands.size()) {
      Release(c);
      breaker_.Success();
      return replies;
    }
    bool timed_out = c->err == REDIS_ERR_IO && (failure_errno == EAGAIN || failure_errno == EWOULDBLOCK);
    if (reused && !timed_out && attempt == 0) {
      // The server closed a connection that sat idle in the pool (its `timeout` setting, a
      // restart, a proxy): not an outage yet. Drop the idle ones and try once on a fresh one.
      // (Every command the tier sends may safely run twice.)
      Discard(c);
      continue;
    }
    Status s = Status::IoError(std::string("redis: ") + (c->err ? c->errstr : "no reply"));
    Broken(c, s.message());
    return s;
  }
}

}  // namespace dte
