#pragma once
// A parser of the Prometheus text exposition format (version 0.0.4), enough to read what a
// `dte serve` worker (or any prometheus-cpp / client_golang process) serves on GET /metrics:
// `# HELP` / `# TYPE` comments, samples `name{label="value",...} value [timestamp]`, escaped
// label values (\\, \", \n), special values (NaN, +Inf, -Inf). Histograms stay as their flat
// `_bucket{le=...}`, `_sum` and `_count` samples; HistogramBuckets() regroups them.
// Plain values: parse on any thread, no shared state.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dte::autoscale {

using Labels = std::vector<std::pair<std::string, std::string>>;  // in the order written

struct MetricSample {
  std::string name;
  Labels labels;
  double value = 0;

  // The value of label `key`, if present.
  std::optional<std::string_view> Label(std::string_view key) const;
};

// One cumulative histogram bucket: observations <= upper_bound.
struct Bucket {
  double upper_bound = 0;  // +Inf for the last one
  double count = 0;        // cumulative
};

class MetricSet {
 public:
  std::vector<MetricSample> samples;
  // `# TYPE` declarations: family name -> "counter", "gauge", "histogram", "summary", "untyped".
  std::vector<std::pair<std::string, std::string>> types;

  // The declared type of family `name`, or "" when undeclared.
  std::string_view TypeOf(std::string_view name) const;
  // Sum of the samples called `name` whose labels include every pair of `match` (all
  // samples of that name when `match` is empty); nullopt when no sample matches.
  std::optional<double> Sum(std::string_view name, const Labels& match = {}) const;
  // The buckets of histogram `family` (samples `<family>_bucket`), summed over label sets other
  // than `le` that include `match`, sorted by upper bound. Empty when there are none.
  std::vector<Bucket> HistogramBuckets(std::string_view family, const Labels& match = {}) const;
};

// Parses a whole exposition. A malformed line fails the parse with its line number (a scrape
// that cannot be trusted is better dropped than half-read).
Result<MetricSet> ParsePrometheusText(std::string_view text);

// The q-quantile (0 < q < 1) of the observations between two cumulative bucket snapshots of
// the same histogram (`now` minus `before`; pass an empty `before` for all-time), by linear
// interpolation inside the bucket that holds it, as PromQL's histogram_quantile does. A
// quantile in the +Inf bucket returns the highest finite bound. nullopt when no observation
// fell between the snapshots (or the bounds differ, e.g. after a worker restart).
std::optional<double> BucketQuantile(double q, const std::vector<Bucket>& now,
                                     const std::vector<Bucket>& before);

}  // namespace dte::autoscale
