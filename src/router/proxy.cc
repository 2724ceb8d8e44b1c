#include "router/proxy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "base/clock.h"
#include "base/log.h"
#include "telemetry/request_log.h"

namespace dte::router {
namespace {

using json = nlohmann::json;

std::string ErrorJson(std::string_view message, std::string_view type, std::string_view code) {
  json j = {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}};
  return j.dump();
}

http::Headers RetryAfterHeader() {
  http::Headers h;
  h.Add("Retry-After", "1");
  return h;
}

bool IsRetryableStatus(int status) { return status == 429 || status == 502 || status == 503; }

// Relays the backend's response to the client: a stream as it comes, a whole response whole.
class ClientSink final : public UpstreamSink {
 public:
  ClientSink(http::Responder& res, const std::string& backend_url, bool may_decline,
             RetryBudget& budget)
      : res_(res), backend_url_(backend_url), may_decline_(may_decline), budget_(budget) {}

  asio::awaitable<bool> OnHead(const UpstreamHead& head) override {
    status_ = head.status;
    // The backend did not take the work: try another one if allowed (nothing was sent yet).
    if (may_decline_ && IsRetryableStatus(head.status) && budget_.TryRetry()) co_return false;
    for (const auto& [name, value] : head.headers) {
      if (IsHopByHopHeader(name)) continue;
      if (http::EqualsIgnoreCase(name, "content-type")) {
        content_type_ = value;
        continue;
      }
      headers_.Add(name, value);
    }
    headers_.Add("X-DTE-Backend", backend_url_);
    streaming_ = head.chunked || !head.content_length.has_value();
    if (!streaming_) {
      body_.reserve(static_cast<size_t>(std::min<uint64_t>(*head.content_length, 64u << 20)));
      co_return true;
    }
    const std::string content_type = content_type_;
    http::Headers headers = std::move(headers_);
    co_return co_await res_.StartStream(status_, content_type, std::move(headers));
  }

  asio::awaitable<bool> OnBody(std::string_view bytes) override {
    if (!streaming_) {
      body_.append(bytes);
      co_return true;
    }
    co_return co_await res_.Write(bytes);
  }

  // Sends a buffered response (no-op for a stream).
  asio::awaitable<bool> Finish() {
    if (streaming_) co_return co_await res_.Finish();
    const std::string content_type = content_type_;
    http::Headers headers = std::move(headers_);
    co_return co_await res_.Send(status_, content_type, std::move(body_), std::move(headers));
  }

  int status() const { return status_; }
  bool streaming() const { return streaming_; }
  const std::string& body() const { return body_; }

 private:
  http::Responder& res_;
  const std::string& backend_url_;
  const bool may_decline_;
  RetryBudget& budget_;
  int status_ = 0;
  bool streaming_ = false;
  std::string content_type_;
  http::Headers headers_;
  std::string body_;
};

}  // namespace

RouteContext ExtractRouteContext(std::string_view path, std::string_view body) {
  RouteContext ctx;
  constexpr std::string_view kSessions = "/v1/sessions/";
  if (path.starts_with(kSessions)) {
    std::string_view id = path.substr(kSessions.size());
    id = id.substr(0, id.find('/'));
    ctx.affinity_key = std::string(id);
    ctx.is_session_key = true;
    return ctx;
  }
  if (body.empty() || body.front() != '{') return ctx;
  const json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return ctx;
  if (auto it = j.find("session_id"); it != j.end() && it->is_string()) {
    ctx.affinity_key = it->get<std::string>();
    ctx.is_session_key = true;
  } else if (auto u = j.find("user"); u != j.end() && u->is_string()) {
    ctx.affinity_key = u->get<std::string>();
  }
  if (auto p = j.find("prompt"); p != j.end()) {
    if (p->is_string()) {
      ctx.prompt_text = p->get<std::string>();
    } else if (p->is_array() && !p->empty() && p->front().is_string()) {
      ctx.prompt_text = p->front().get<std::string>();
    }
  } else if (auto m = j.find("messages"); m != j.end() && m->is_array()) {
    for (const json& msg : *m) {
      if (!msg.is_object()) continue;
      auto role = msg.find("role");
      auto content = msg.find("content");
      if (role != msg.end() && role->is_string()) ctx.prompt_text += role->get<std::string>();
      ctx.prompt_text += ": ";
      if (content != msg.end() && content->is_string())
        ctx.prompt_text += content->get<std::string>();
      ctx.prompt_text += "\n";
    }
  }
  return ctx;
}

Proxy::Proxy(BackendPool& pool, Policy& policy, RetryBudget& budget, RouterMetrics& metrics,
             ProxyOptions options)
    : pool_(pool), policy_(policy), budget_(budget), metrics_(metrics), options_(options) {}

std::shared_ptr<Backend> Proxy::Pick(const RouteContext& ctx,
                                     const std::vector<std::string>& tried) {
  std::shared_ptr<const BackendPool::Backends> all = pool_.All();
  const SteadyClock::time_point now = SteadyClock::now();
  std::vector<std::shared_ptr<Backend>> eligible;
  std::vector<Candidate> candidates;
  eligible.reserve(all->size());
  candidates.reserve(all->size());
  for (const auto& b : *all) {
    if (!b->Eligible(now) || std::find(tried.begin(), tried.end(), b->url()) != tried.end())
      continue;
    eligible.push_back(b);
    candidates.push_back({b->url(), b->outstanding()});
  }
  std::optional<std::string> pinned;
  if (ctx.is_session_key) pinned = pins_.Find(ctx.affinity_key);
  while (!candidates.empty()) {
    size_t i = candidates.size();
    if (pinned) {  // the session's state is there: no policy gets a say
      for (size_t k = 0; k < candidates.size() && i == candidates.size(); ++k)
        if (candidates[k].url == *pinned) i = k;
      pinned.reset();
    }
    if (i == candidates.size()) i = policy_.Pick(ctx, candidates);
    // Allow() takes a half-open trial slot; another request may have taken the last one.
    if (eligible[i]->breaker().Allow(now)) return eligible[i];
    eligible.erase(eligible.begin() + static_cast<std::ptrdiff_t>(i));
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return nullptr;
}

asio::awaitable<void> Proxy::Handle(http::Request& req, http::Responder& res,
                                    std::string_view route) {
  const SteadyClock::time_point start = SteadyClock::now();
  Span span;
  if (tracer_ != nullptr) {
    span = tracer_->StartServerSpan("router.proxy", req.Header("traceparent"));
    if (span.IsRecording()) {
      span.SetAttribute("http.request.method", req.method);
      span.SetAttribute("http.route", route.empty() ? std::string_view(req.path) : route);
      span.SetAttribute("dte.policy", policy_.name());
    }
  }
  Outcome out;
  std::exception_ptr failure;
  try {
    co_await Forward(req, res, span, out);
  } catch (...) {
    failure = std::current_exception();
    if (out.error.empty()) out.error = "the response broke off";
  }
  if (span.IsRecording()) {
    span.SetAttribute("http.response.status_code", static_cast<int64_t>(out.status));
    span.SetAttribute("dte.backend", out.backend);
    if (out.status >= 500 || failure) span.SetStatus(SpanStatusCode::kError, out.error);
  }
  span.End();
  if (log_requests_) {
    RequestLogEntry entry;
    entry.component = "router";
    if (span.context().IsValid()) entry.trace_id = span.context().trace_id.Hex();
    entry.method = req.method;
    entry.route = std::string(route.empty() ? std::string_view(req.path) : route);
    entry.status = out.status;
    entry.backend = out.backend;
    entry.latency_ms = SecondsSince(start) * 1000.0;
    entry.error = out.error;
    if (out.status == 0 && !failure) {
      // The client hung up: not a server error. Logged as nginx's 499 (client closed request),
      // a warning, since the request log files status 0 under errors.
      entry.status = 499;
      if (entry.error.empty()) entry.error = "the client left";
    }
    LogRequest(entry);
  }
  if (failure) std::rethrow_exception(failure);
}

asio::awaitable<void> Proxy::Forward(http::Request& req, http::Responder& res, Span& span,
                                     Outcome& out) {
  const SteadyClock::time_point start = SteadyClock::now();
  const RouteContext ctx = ExtractRouteContext(req.path, req.body);
  budget_.OnRequest();
  UpstreamRequest up;
  up.method = req.method;
  up.target = req.target;
  up.headers = req.headers;
  up.body = req.body;
  up.headers.Add("X-Forwarded-For", req.remote_address);
  std::vector<std::string> tried;
  std::string last_error = "no backend is available";
  std::string last_backend = "none";

  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    std::shared_ptr<Backend> backend = Pick(ctx, tried);
    if (!backend) break;
    if (attempt > 0) metrics_.CountRetry();
    tried.push_back(backend->url());
    last_backend = backend->url();
    policy_.OnRouted(ctx, backend->url());
    const bool may_decline = attempt + 1 < options_.max_attempts && pool_.size() > tried.size();

    InFlight in_flight(pool_, backend);
    ClientSink sink(res, backend->url(), may_decline, budget_);
    Span attempt_span;
    if (tracer_ != nullptr) {
      attempt_span = tracer_->StartSpan("router.upstream", span.context(), SpanKind::kClient);
      if (attempt_span.IsRecording()) {
        attempt_span.SetAttribute("dte.backend", backend->url());
        attempt_span.SetAttribute("dte.attempt", static_cast<int64_t>(attempt + 1));
      }
      up.headers.Set("traceparent", attempt_span.Traceparent());
    }
    out.backend = backend->url();
    const ForwardResult r = co_await backend->upstream().Forward(up, sink, req.cancel);
    if (attempt_span.IsRecording()) {
      if (r.status != 0) attempt_span.SetAttribute("http.response.status_code",
                                                   static_cast<int64_t>(r.status));
      const bool failed = r.status >= 500 || (r.outcome != ForwardOutcome::kOk &&
                                              r.outcome != ForwardOutcome::kDeclined &&
                                              r.outcome != ForwardOutcome::kClientGone);
      if (failed) {
        attempt_span.SetAttribute("error.type", ForwardOutcomeName(r.outcome));
        attempt_span.SetStatus(SpanStatusCode::kError,
                               r.error.empty() ? "status " + std::to_string(r.status) : r.error);
      }
    }
    attempt_span.End();
    CircuitBreaker& breaker = backend->breaker();
    switch (r.outcome) {
      case ForwardOutcome::kOk: {
        if (r.status >= 500) {
          breaker.RecordFailure();
          backend->CountError();
          metrics_.CountBackendError(backend->url(), "5xx");
        } else {
          breaker.RecordSuccess();
        }
        if (req.method == "POST" && req.path == "/v1/sessions" && r.status == 201) {
          // The session's state lives on this worker from now on: pin its id here.
          const json j = json::parse(sink.body(), nullptr, false);
          if (j.is_object() && j.contains("id") && j["id"].is_string())
            pins_.Pin(j["id"].get<std::string>(), backend->url());
        }
        const bool sent = co_await sink.Finish();
        out.status = sent ? r.status : 0;
        metrics_.ObserveRequest(backend->url(), out.status, SecondsSince(start));
        co_return;
      }
      case ForwardOutcome::kClientGone:
        breaker.Release();
        out.status = 0;
        out.error = "the client left";
        metrics_.ObserveRequest(backend->url(), 0, SecondsSince(start));
        co_return;
      case ForwardOutcome::kDeclined:  // 429/502/503 with a retry token already taken
        if (r.status >= 500) {
          breaker.RecordFailure();
          backend->CountError();
          metrics_.CountBackendError(backend->url(), "5xx");
        } else {
          breaker.Release();
        }
        last_error = "backend " + backend->url() + " answered " + std::to_string(r.status);
        continue;
      case ForwardOutcome::kConnectFailed:
        breaker.Trip();  // refused: the process is gone or not listening
        backend->CountError();
        metrics_.CountBackendError(backend->url(), "connect");
        break;
      case ForwardOutcome::kFailedBeforeHead:
      case ForwardOutcome::kFailedInBody:
        breaker.RecordFailure();
        backend->CountError();
        metrics_.CountBackendError(backend->url(), "timeout_or_io");
        break;
    }
    last_error = r.error;
    LogWarning("dte route: " + req.method + " " + req.path + " via " + backend->url() + ": " +
               r.error);
    if (res.started()) {
      // A stream broke off midway: nothing can be retried, and ending it normally would pass a
      // truncated stream off as complete. Throwing makes the connection close without the final
      // chunk (see http/handler.h), which the client sees as the error it is.
      out.status = sink.status();
      out.error = "backend stream broke off: " + r.error;
      metrics_.ObserveRequest(backend->url(), sink.status(), SecondsSince(start));
      throw std::runtime_error("backend stream from " + backend->url() + " broke off: " + r.error);
    }
    if (attempt + 1 >= options_.max_attempts) break;
    if (!budget_.TryRetry()) {
      metrics_.CountRetryRefused();
      break;
    }
  }
  const std::string body = ErrorJson("the router could not reach a backend: " + last_error,
                                     "service_unavailable", "backend_unavailable");
  http::Headers headers = RetryAfterHeader();
  out.status = 503;
  out.error = last_error;
  co_await res.Send(503, "application/json", body, std::move(headers));
  metrics_.ObserveRequest(last_backend, 503, SecondsSince(start));
}

}  // namespace dte::router
