#include "bench/recorder.h"

#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>

namespace dte::bench {
namespace {

using json = nlohmann::ordered_json;

uint64_t ToNs(double seconds) {
  return seconds <= 0 ? 0 : static_cast<uint64_t>(std::llround(seconds * 1e9));
}

double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

// Percentiles of a histogram of nanoseconds, in milliseconds (or raw values for counts).
json Summary(const LatencyHistogram& h, double scale) {
  json j;
  j["count"] = h.count();
  auto v = [&](uint64_t x) { return Round3(static_cast<double>(x) * scale); };
  j["mean"] = Round3(h.mean() * scale);
  j["min"] = v(h.min());
  j["p50"] = v(h.Percentile(0.50));
  j["p90"] = v(h.Percentile(0.90));
  j["p95"] = v(h.Percentile(0.95));
  j["p99"] = v(h.Percentile(0.99));
  j["p99.9"] = v(h.Percentile(0.999));
  j["max"] = v(h.max());
  return j;
}

constexpr double kNsToMs = 1e-6;

Result<double> ParseDuration(std::string_view text) {
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0)
    return Status::InvalidArgument("bad duration '" + std::string(text) + "'");
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (unit.empty() || unit == "ms") return value / 1e3;
  if (unit == "s") return value;
  if (unit == "us") return value / 1e6;
  if (unit == "ns") return value / 1e9;
  return Status::InvalidArgument("bad unit in '" + std::string(text) + "' (ns, us, ms or s)");
}

}  // namespace

Result<Slo> ParseSlo(std::string_view text) {
  Slo slo;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return Status::InvalidArgument("SLO item '" + std::string(item) + "' is not name=duration");
    Result<double> d = ParseDuration(item.substr(eq + 1));
    if (!d.ok()) return d.status();
    std::string_view name = item.substr(0, eq);
    if (name == "ttft") {
      slo.ttft_s = *d;
    } else if (name == "tpot") {
      slo.tpot_s = *d;
    } else if (name == "e2e") {
      slo.e2e_s = *d;
    } else {
      return Status::InvalidArgument("unknown SLO '" + std::string(name) + "' (ttft, tpot, e2e)");
    }
  }
  return slo;
}

std::optional<double> TimePerOutputToken(const RequestRecord& r) {
  if (!r.ttft_s || r.output_tokens < 2) return std::nullopt;
  return (r.e2e_s - *r.ttft_s) / static_cast<double>(r.output_tokens - 1);
}

void Recorder::StartTimeline(SteadyClock::time_point start, double planned_s) {
  std::lock_guard lock(mu_);
  timeline_.Start(start, planned_s);
}

void Recorder::Add(const RequestRecord& r) {
  const std::optional<double> tpot = TimePerOutputToken(r);
  const SteadyClock::time_point done =
      r.sent + std::chrono::duration_cast<SteadyClock::duration>(
                   std::chrono::duration<double>(r.e2e_s));
  std::optional<uint64_t> ttft_ns;
  if (r.ttft_s) ttft_ns = ToNs(*r.ttft_s);
  std::lock_guard lock(mu_);
  ++completed_;
  lag_ns_.Record(ToNs(r.lag_s));
  timeline_.Add(done, !r.error.empty(), r.output_tokens, ttft_ns, ToNs(r.e2e_s));
  if (!r.error.empty()) {
    ++errors_;
    ++errors_by_kind_[r.error];
    if (!r.error_detail.empty()) error_examples_.emplace(r.error, r.error_detail.substr(0, 300));
    return;
  }
  output_tokens_ += r.output_tokens;
  e2e_ns_.Record(ToNs(r.e2e_s));
  tokens_.Record(static_cast<uint64_t>(std::max<int64_t>(0, r.output_tokens)));
  if (r.ttft_s) {
    ttft_ns_.Record(ToNs(*r.ttft_s));
    if (r.turn > 0) ttft_by_turn_ns_[r.turn].Record(ToNs(*r.ttft_s));
  }
  if (tpot) tpot_ns_.Record(ToNs(*tpot));
  for (uint64_t gap : r.gaps_ns) gap_ns_.Record(gap);
  // A response that was not streamed has its first token when it has all of them.
  const bool good = (!slo_.ttft_s || r.ttft_s.value_or(r.e2e_s) <= *slo_.ttft_s) &&
                    (!slo_.tpot_s || !tpot || *tpot <= *slo_.tpot_s) &&
                    (!slo_.e2e_s || r.e2e_s <= *slo_.e2e_s);
  if (good) ++good_;
}

Recorder::Progress Recorder::Snapshot() const {
  std::lock_guard lock(mu_);
  Progress p;
  p.completed = completed_;
  p.errors = errors_;
  p.output_tokens = output_tokens_;
  p.ttft_p99_s = static_cast<double>(ttft_ns_.Percentile(0.99)) * 1e-9;
  return p;
}

std::string Recorder::MeasurementsJson(double duration_s) const {
  std::lock_guard lock(mu_);
  const double d = duration_s > 0 ? duration_s : 1e-9;
  json j;
  j["duration_s"] = Round3(duration_s);
  j["requests"] = completed_;
  j["successes"] = completed_ - errors_;
  j["errors"] = errors_;
  j["errors_by_kind"] = json::object();
  for (const auto& [kind, n] : errors_by_kind_) j["errors_by_kind"][kind] = n;
  if (!error_examples_.empty()) {
    j["error_examples"] = json::object();
    for (const auto& [kind, text] : error_examples_) j["error_examples"][kind] = text;
  }
  j["requests_per_s"] = Round3(static_cast<double>(completed_ - errors_) / d);
  j["output_tokens"] = output_tokens_;
  j["output_tokens_per_s"] = Round3(static_cast<double>(output_tokens_) / d);
  j["ttft_ms"] = Summary(ttft_ns_, kNsToMs);
  j["tpot_ms"] = Summary(tpot_ns_, kNsToMs);
  j["inter_chunk_ms"] = Summary(gap_ns_, kNsToMs);
  j["e2e_ms"] = Summary(e2e_ns_, kNsToMs);
  j["output_tokens_per_request"] = Summary(tokens_, 1.0);
  j["send_lag_ms"] = Summary(lag_ns_, kNsToMs);
  json cdf;
  for (const auto& [name, h] : {std::pair<const char*, const LatencyHistogram*>{"ttft_ms", &ttft_ns_},
                                {"e2e_ms", &e2e_ns_}}) {
    json points = json::array();
    if (!h->empty()) {
      for (int i = 0; i < 100; ++i) {
        const double q = i / 100.0;
        points.push_back(json::array({Round3(h->Percentile(q) * kNsToMs), q}));
      }
      points.push_back(json::array({Round3(h->Percentile(0.999) * kNsToMs), 0.999}));
      points.push_back(json::array({Round3(h->max() * kNsToMs), 1.0}));
    }
    cdf[name] = points;
  }
  j["cdf"] = cdf;
  if (timeline_.started()) j["timeline"] = json::parse(timeline_.Json());
  if (!slo_.empty()) {
    json g;
    if (slo_.ttft_s) g["ttft_ms"] = Round3(*slo_.ttft_s * 1e3);
    if (slo_.tpot_s) g["tpot_ms"] = Round3(*slo_.tpot_s * 1e3);
    if (slo_.e2e_s) g["e2e_ms"] = Round3(*slo_.e2e_s * 1e3);
    g["good_requests"] = good_;
    g["good_fraction"] =
        completed_ ? Round3(static_cast<double>(good_) / static_cast<double>(completed_)) : 0.0;
    g["goodput_requests_per_s"] = Round3(static_cast<double>(good_) / d);
    j["goodput"] = g;
  }
  if (!ttft_by_turn_ns_.empty()) {
    json turns = json::array();
    for (const auto& [turn, h] : ttft_by_turn_ns_) {
      json t = Summary(h, kNsToMs);
      t["turn"] = turn;
      turns.push_back(t);
    }
    j["ttft_ms_by_turn"] = turns;
  }
  return j.dump(2);
}

}  // namespace dte::bench
