#pragma once
// A minimal reader of the Prometheus text format (what `dte serve` serves on /metrics), for the
// router's alert and dashboard loop: samples with their labels, plus the few aggregations the
// loop needs (sum of a series by label filter, histogram quantiles from bucket deltas).
// Not a full parser: HELP/TYPE lines are skipped, escapes in label values are kept verbatim.
//
// Threading: plain values; no shared state.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dte::router {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Malformed lines are skipped.
std::vector<PromSample> ParsePromText(std::string_view text);

// Sum of every sample named `name` whose labels include all of `match`.
std::optional<double> SumSeries(const std::vector<PromSample>& samples, std::string_view name,
                                const std::map<std::string, std::string>& match = {});
// Per value of `label`: the sum of the samples named `name`.
std::map<std::string, double> SumBy(const std::vector<PromSample>& samples, std::string_view name,
                                    const std::string& label);

// Cumulative histogram buckets: upper bound -> count (+Inf as infinity), summed over samples.
using Buckets = std::map<double, double>;
Buckets HistogramBuckets(const std::vector<PromSample>& samples, std::string_view name);
// now - before, bucket by bucket (a bucket that went down, e.g. a restart, counts as now).
Buckets BucketDelta(const Buckets& now, const Buckets& before);
// The q-quantile by linear interpolation inside the bucket (Prometheus' histogram_quantile);
// nullopt when the histogram is empty. A quantile in the +Inf bucket gives the last finite bound.
std::optional<double> HistogramQuantile(const Buckets& buckets, double q);

}  // namespace dte::router
