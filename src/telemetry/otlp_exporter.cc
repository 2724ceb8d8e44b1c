#include "telemetry/otlp_exporter.h"

#include <algorithm>

#include "base/log.h"

namespace dte {

using Clock = std::chrono::steady_clock;

OtlpExporter::OtlpExporter(OtlpExporterOptions options, std::unique_ptr<OtlpTransport> transport,
                           prometheus::Registry* registry)
    : options_(std::move(options)), transport_(std::move(transport)) {
  if (registry) {
    exported_counter_ = &prometheus::BuildCounter()
                             .Name("dte_trace_spans_exported_total")
                             .Help("Spans accepted by the OTLP endpoint.")
                             .Register(*registry)
                             .Add({});
    auto& dropped = prometheus::BuildCounter()
                        .Name("dte_trace_spans_dropped_total")
                        .Help(
                            "Spans not exported: queue full, export failed after retries, or "
                            "unsent at shutdown.")
                        .Register(*registry);
    dropped_full_counter_ = &dropped.Add({{"reason", "queue_full"}});
    dropped_failed_counter_ = &dropped.Add({{"reason", "export_failed"}});
    dropped_shutdown_counter_ = &dropped.Add({{"reason", "shutdown"}});
    auto& requests =
        prometheus::BuildCounter()
            .Name("dte_trace_export_requests_total")
            .Help("OTLP export requests by result (ok, retry: retryable failure, failed: final).")
            .Register(*registry);
    requests_ok_counter_ = &requests.Add({{"result", "ok"}});
    requests_retry_counter_ = &requests.Add({{"result", "retry"}});
    requests_failed_counter_ = &requests.Add({{"result", "failed"}});
  }
  thread_ = std::thread([this] { Run(); });
}

Result<std::shared_ptr<OtlpExporter>> OtlpExporter::Create(OtlpExporterOptions options,
                                                           prometheus::Registry* registry) {
  auto url = ParseHttpUrl(options.endpoint);
  if (!url.ok()) return url.status().WithPrefix("--otlp-endpoint");
  auto transport = std::make_unique<HttpJsonTransport>(*url, options.request_timeout);
  return std::make_shared<OtlpExporter>(std::move(options), std::move(transport), registry);
}

OtlpExporter::~OtlpExporter() { Shutdown(std::chrono::milliseconds(2000)); }

void OtlpExporter::OnEnd(std::shared_ptr<const SpanData> span) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ++stats_.dropped_shutdown;
      if (dropped_shutdown_counter_) dropped_shutdown_counter_->Increment();
      return;
    }
    if (queue_.size() >= options_.max_queue_spans) {
      ++stats_.dropped_queue_full;
      if (dropped_full_counter_) dropped_full_counter_->Increment();
      return;
    }
    queue_.push_back(std::move(span));
    wake = queue_.size() >= options_.max_batch_spans;
  }
  if (wake) wake_.notify_one();
}

bool OtlpExporter::Flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  ++flush_requests_;
  wake_.notify_one();
  return drained_.wait_for(lock, timeout, [&] { return queue_.empty() && in_flight_ == 0; });
}

void OtlpExporter::Shutdown(std::chrono::milliseconds timeout) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (joined_) return;
    joined_ = true;
    stopping_ = true;
    deadline_ = Clock::now() + timeout;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

OtlpExporterStats OtlpExporter::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

size_t OtlpExporter::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void OtlpExporter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t flushes_seen = 0;
  while (true) {
    // Wait for a full batch, the delay of the oldest span, a flush, or shutdown.
    auto batch_due = Clock::now() + options_.max_delay;
    wake_.wait_until(lock, batch_due, [&] {
      return stopping_ || flush_requests_ != flushes_seen ||
             queue_.size() >= options_.max_batch_spans;
    });
    flushes_seen = flush_requests_;
    if (stopping_ && (queue_.empty() || Clock::now() >= deadline_)) break;
    while (!queue_.empty()) {
      size_t n = std::min(queue_.size(), options_.max_batch_spans);
      std::vector<std::shared_ptr<const SpanData>> batch(queue_.begin(),
                                                         queue_.begin() + static_cast<long>(n));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
      in_flight_ = n;
      lock.unlock();
      bool ok = Export(batch);
      lock.lock();
      in_flight_ = 0;
      if (ok) {
        stats_.exported += n;
        if (exported_counter_) exported_counter_->Increment(static_cast<double>(n));
      } else {
        stats_.dropped_export_failed += n;
        if (dropped_failed_counter_) dropped_failed_counter_->Increment(static_cast<double>(n));
      }
      if (stopping_ && Clock::now() >= deadline_) break;
    }
    if (queue_.empty()) drained_.notify_all();
  }
  // Whatever is left could not be sent before the shutdown deadline.
  if (!queue_.empty()) {
    stats_.dropped_shutdown += queue_.size();
    if (dropped_shutdown_counter_)
      dropped_shutdown_counter_->Increment(static_cast<double>(queue_.size()));
    queue_.clear();
  }
  drained_.notify_all();
}

bool OtlpExporter::Backoff(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  auto until = Clock::now() + d;
  // Stop waiting early only when a shutdown deadline would pass.
  if (stopping_ && deadline_ < until) return false;
  wake_.wait_until(lock, until, [&] { return stopping_ && deadline_ < until; });
  return !(stopping_ && deadline_ < until);
}

bool OtlpExporter::Export(const std::vector<std::shared_ptr<const SpanData>>& batch) {
  const std::string body = OtlpTraceRequest(options_.resource, batch).dump();
  auto backoff = options_.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    HttpResult r = transport_->Post(body);
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.requests;
    }
    if (r.ok()) {
      if (requests_ok_counter_) requests_ok_counter_->Increment();
      return true;
    }
    if (!r.retryable() || attempt >= options_.max_attempts) {
      if (requests_failed_counter_) requests_failed_counter_->Increment();
      LogWarning("otlp export of " + std::to_string(batch.size()) +
                 " spans failed: " + (r.status ? "HTTP " + std::to_string(r.status) : r.error));
      return false;
    }
    if (requests_retry_counter_) requests_retry_counter_->Increment();
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.retries;
    }
    auto wait = backoff;
    if (r.retry_after_seconds)
      wait = std::max(
          wait, std::chrono::milliseconds(static_cast<int64_t>(*r.retry_after_seconds * 1000)));
    wait = std::min(wait, options_.max_backoff);
    if (!Backoff(wait)) {
      if (requests_failed_counter_) requests_failed_counter_->Increment();
      return false;
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

}  // namespace dte
