#include "router/prom_text.h"

#include <cmath>
#include <cstdlib>
#include <limits>

namespace dte::router {
namespace {

double ParseDouble(std::string_view s, bool* ok) {
  const std::string text(s);
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  *ok = end != text.c_str() && *end == '\0';
  return v;
}

// Parses `a="x",b="y"` (the text between the braces).
bool ParseLabels(std::string_view s, std::map<std::string, std::string>* out) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ',' || s[i] == ' ')) ++i;
    if (i >= s.size()) break;
    const size_t eq = s.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= s.size() || s[eq + 1] != '"') return false;
    std::string key(s.substr(i, eq - i));
    std::string value;
    size_t j = eq + 2;
    for (; j < s.size() && s[j] != '"'; ++j) {
      if (s[j] == '\\' && j + 1 < s.size()) ++j;
      value.push_back(s[j]);
    }
    if (j >= s.size()) return false;
    (*out)[std::move(key)] = std::move(value);
    i = j + 1;
  }
  return true;
}

}  // namespace

std::vector<PromSample> ParsePromText(std::string_view text) {
  std::vector<PromSample> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line.front() == '#') continue;
    PromSample s;
    std::string_view rest;
    const size_t brace = line.find('{');
    const size_t space = line.find(' ');
    if (brace != std::string_view::npos && (space == std::string_view::npos || brace < space)) {
      const size_t close = line.rfind('}');
      if (close == std::string_view::npos || close < brace) continue;
      s.name = std::string(line.substr(0, brace));
      if (!ParseLabels(line.substr(brace + 1, close - brace - 1), &s.labels)) continue;
      rest = line.substr(close + 1);
    } else {
      if (space == std::string_view::npos) continue;
      s.name = std::string(line.substr(0, space));
      rest = line.substr(space);
    }
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    rest = rest.substr(0, rest.find(' '));  // drop an optional timestamp
    bool ok = true;
    s.value = ParseDouble(rest, &ok);
    if (!ok || s.name.empty()) continue;
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<double> SumSeries(const std::vector<PromSample>& samples, std::string_view name,
                                const std::map<std::string, std::string>& match) {
  std::optional<double> sum;
  for (const PromSample& s : samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : match) {
      auto it = s.labels.find(k);
      all = all && it != s.labels.end() && it->second == v;
    }
    if (all) sum = sum.value_or(0) + s.value;
  }
  return sum;
}

std::map<std::string, double> SumBy(const std::vector<PromSample>& samples, std::string_view name,
                                    const std::string& label) {
  std::map<std::string, double> out;
  for (const PromSample& s : samples) {
    if (s.name != name) continue;
    auto it = s.labels.find(label);
    if (it != s.labels.end()) out[it->second] += s.value;
  }
  return out;
}

Buckets HistogramBuckets(const std::vector<PromSample>& samples, std::string_view name) {
  const std::string bucket_name = std::string(name) + "_bucket";
  Buckets out;
  for (const PromSample& s : samples) {
    if (s.name != bucket_name) continue;
    auto it = s.labels.find("le");
    if (it == s.labels.end()) continue;
    bool ok = true;
    const double le = ParseDouble(it->second, &ok);
    if (ok) out[le] += s.value;
  }
  return out;
}

Buckets BucketDelta(const Buckets& now, const Buckets& before) {
  Buckets out;
  for (const auto& [le, count] : now) {
    auto it = before.find(le);
    const double prev = it == before.end() ? 0 : it->second;
    out[le] = count >= prev ? count - prev : count;
  }
  return out;
}

std::optional<double> HistogramQuantile(const Buckets& buckets, double q) {
  if (buckets.empty()) return std::nullopt;
  const double total = buckets.rbegin()->second;
  if (!(total > 0)) return std::nullopt;
  const double rank = q * total;
  double lower = 0, below = 0, last_finite = 0;
  for (const auto& [le, count] : buckets) {
    if (std::isinf(le)) return last_finite;
    if (count >= rank) {
      const double in_bucket = count - below;
      if (in_bucket <= 0) return le;
      return lower + (le - lower) * (rank - below) / in_bucket;
    }
    lower = le;
    below = count;
    last_finite = le;
  }
  return last_finite;
}

}  // namespace dte::router
