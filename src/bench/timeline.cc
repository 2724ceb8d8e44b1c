#include "bench/timeline.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace dte::bench {

void Timeline::Start(SteadyClock::time_point start, double planned_s) {
  started_ = true;
  start_ = start;
  // A "nice" interval near planned/100: 0.1, 0.2, 0.5, 1, 2, 5, 10, ... seconds.
  const double raw = std::max(0.1, planned_s / 100.0);
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double nice = decade;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (decade * m >= raw - 1e-12) {
      nice = decade * m;
      break;
    }
  }
  interval_s_ = nice;
  buckets_.clear();
}

void Timeline::Add(SteadyClock::time_point done, bool error, int64_t output_tokens,
                   std::optional<uint64_t> ttft_ns, uint64_t e2e_ns) {
  if (!started_) return;
  const double t = std::chrono::duration<double>(done - start_).count();
  const size_t i = static_cast<size_t>(std::max(0.0, t / interval_s_));
  if (i >= 1'000'000) return;  // far past any sane run; keep memory bounded
  if (buckets_.size() <= i) buckets_.resize(i + 1);
  Bucket& b = buckets_[i];
  ++b.requests;
  if (error) {
    ++b.errors;
    return;
  }
  b.output_tokens += output_tokens;
  if (ttft_ns) b.ttft_ns.Record(*ttft_ns);
  b.e2e_ns.Record(e2e_ns);
}

std::string Timeline::Json() const {
  using json = nlohmann::ordered_json;
  auto ms = [](uint64_t ns) { return std::round(static_cast<double>(ns) * 1e-3) / 1e3; };
  json j;
  j["interval_s"] = interval_s_;
  json t = json::array(), req = json::array(), err = json::array(), rps = json::array(),
       tps = json::array(), t50 = json::array(), t99 = json::array(), e50 = json::array(),
       e99 = json::array();
  for (size_t i = 0; i < buckets_.size(); ++i) {
    const Bucket& b = buckets_[i];
    t.push_back(std::round(static_cast<double>(i + 1) * interval_s_ * 1e3) / 1e3);
    req.push_back(b.requests);
    err.push_back(b.errors);
    rps.push_back(std::round(static_cast<double>(b.requests - b.errors) / interval_s_ * 1e3) / 1e3);
    tps.push_back(std::round(static_cast<double>(b.output_tokens) / interval_s_ * 1e3) / 1e3);
    // Intervals without a sample get null, which the charts draw as a gap.
    t50.push_back(b.ttft_ns.empty() ? json() : json(ms(b.ttft_ns.Percentile(0.5))));
    t99.push_back(b.ttft_ns.empty() ? json() : json(ms(b.ttft_ns.Percentile(0.99))));
    e50.push_back(b.e2e_ns.empty() ? json() : json(ms(b.e2e_ns.Percentile(0.5))));
    e99.push_back(b.e2e_ns.empty() ? json() : json(ms(b.e2e_ns.Percentile(0.99))));
  }
  j["t_s"] = t;
  j["requests"] = req;
  j["errors"] = err;
  j["requests_per_s"] = rps;
  j["output_tokens_per_s"] = tps;
  j["ttft_p50_ms"] = t50;
  j["ttft_p99_ms"] = t99;
  j["e2e_p50_ms"] = e50;
  j["e2e_p99_ms"] = e99;
  return j.dump();
}

}  // namespace dte::bench
