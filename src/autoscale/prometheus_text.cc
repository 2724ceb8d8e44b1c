#include "autoscale/prometheus_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

namespace dte::autoscale {
namespace {

bool IsNameStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool IsNameChar(char c) { return IsNameStart(c) || std::isdigit(static_cast<unsigned char>(c)); }

void SkipBlanks(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

std::string_view ReadName(std::string_view s, size_t& i) {
  const size_t start = i;
  if (i < s.size() && IsNameStart(s[i])) {
    ++i;
    while (i < s.size() && IsNameChar(s[i])) ++i;
  }
  return s.substr(start, i - start);
}

// A float as the format writes it: decimal/exponent, NaN, +Inf, -Inf (case-insensitive).
std::optional<double> ParseValue(std::string_view t) {
  if (t.empty()) return std::nullopt;
  bool negative = false;
  if (t.front() == '+' || t.front() == '-') {
    negative = t.front() == '-';
    t.remove_prefix(1);
  }
  auto lower = [](std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(x) == std::tolower(y);
           });
  };
  double v = 0;
  if (lower(t, "inf") || lower(t, "infinity")) {
    v = std::numeric_limits<double>::infinity();
  } else if (lower(t, "nan")) {
    v = std::numeric_limits<double>::quiet_NaN();
  } else {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  }
  return negative ? -v : v;
}

// Parses `{a="x",b="y"}` starting at s[i] == '{'; leaves i after the '}'.
Status ParseLabels(std::string_view s, size_t& i, Labels* labels) {
  ++i;  // '{'
  while (true) {
    SkipBlanks(s, i);
    if (i < s.size() && s[i] == '}') {
      ++i;
      return Status::Ok();
    }
    std::string_view key = ReadName(s, i);
    if (key.empty()) return Status::Corrupt("bad label name");
    SkipBlanks(s, i);
    if (i >= s.size() || s[i] != '=') return Status::Corrupt("expected '=' after label name");
    ++i;
    SkipBlanks(s, i);
    if (i >= s.size() || s[i] != '"') return Status::Corrupt("expected '\"' to open a label value");
    ++i;
    std::string value;
    while (true) {
      if (i >= s.size()) return Status::Corrupt("unterminated label value");
      const char c = s[i++];
      if (c == '"') break;
      if (c != '\\') {
        value.push_back(c);
        continue;
      }
      if (i >= s.size()) return Status::Corrupt("unterminated escape");
      const char e = s[i++];
      if (e == 'n')
        value.push_back('\n');
      else if (e == '\\' || e == '"')
        value.push_back(e);
      else
        return Status::Corrupt("bad escape in label value");
    }
    labels->emplace_back(std::string(key), std::move(value));
    SkipBlanks(s, i);
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') continue;
    return Status::Corrupt("expected ',' or '}' in labels");
  }
}

Status ParseSampleLine(std::string_view line, MetricSample* out) {
  size_t i = 0;
  std::string_view name = ReadName(line, i);
  if (name.empty()) return Status::Corrupt("bad metric name");
  out->name = std::string(name);
  SkipBlanks(line, i);
  if (i < line.size() && line[i] == '{') DTE_RETURN_IF_ERROR(ParseLabels(line, i, &out->labels));
  SkipBlanks(line, i);
  size_t end = i;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  std::optional<double> v = ParseValue(line.substr(i, end - i));
  if (!v) return Status::Corrupt("bad sample value '" + std::string(line.substr(i, end - i)) + "'");
  out->value = *v;
  i = end;
  SkipBlanks(line, i);
  if (i < line.size()) {  // optional timestamp (ms): an integer, ignored
    int64_t ts = 0;
    auto [p, ec] = std::from_chars(line.data() + i, line.data() + line.size(), ts);
    if (ec != std::errc()) return Status::Corrupt("bad timestamp");
    i = static_cast<size_t>(p - line.data());
    SkipBlanks(line, i);
    if (i < line.size()) return Status::Corrupt("trailing text after sample");
  }
  return Status::Ok();
}

bool Includes(const Labels& labels, const Labels& match) {
  for (const auto& [k, v] : match) {
    auto it =
        std::find_if(labels.begin(), labels.end(), [&](const auto& l) { return l.first == k; });
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string_view> MetricSample::Label(std::string_view key) const {
  for (const auto& [k, v] : labels)
    if (k == key) return std::string_view(v);
  return std::nullopt;
}

std::string_view MetricSet::TypeOf(std::string_view name) const {
  for (const auto& [n, t] : types)
    if (n == name) return t;
  return {};
}

std::optional<double> MetricSet::Sum(std::string_view name, const Labels& match) const {
  std::optional<double> sum;
  for (const MetricSample& s : samples) {
    if (s.name != name || !Includes(s.labels, match)) continue;
    sum = sum.value_or(0) + s.value;
  }
  return sum;
}

std::vector<Bucket> MetricSet::HistogramBuckets(std::string_view family,
                                                const Labels& match) const {
  const std::string bucket_name = std::string(family) + "_bucket";
  std::map<double, double> by_bound;
  for (const MetricSample& s : samples) {
    if (s.name != bucket_name || !Includes(s.labels, match)) continue;
    std::optional<std::string_view> le = s.Label("le");
    if (!le) continue;
    std::optional<double> bound = ParseValue(*le);
    if (!bound || std::isnan(*bound)) continue;
    by_bound[*bound] += s.value;
  }
  std::vector<Bucket> out;
  out.reserve(by_bound.size());
  for (const auto& [bound, count] : by_bound) out.push_back({bound, count});
  return out;
}

Result<MetricSet> ParsePrometheusText(std::string_view text) {
  MetricSet set;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    SkipBlanks(line, i);
    line.remove_prefix(i);
    if (line.empty()) continue;
    if (line.front() == '#') {
      // "# TYPE name type" is kept; "# HELP" and other comments are skipped.
      std::string_view rest = line.substr(1);
      size_t j = 0;
      SkipBlanks(rest, j);
      if (rest.substr(j).starts_with("TYPE")) {
        j += 4;
        SkipBlanks(rest, j);
        std::string_view name = ReadName(rest, j);
        SkipBlanks(rest, j);
        std::string_view type = rest.substr(j);
        while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
        if (name.empty() || type.empty())
          return Status::Corrupt("line " + std::to_string(line_no) + ": malformed # TYPE");
        set.types.emplace_back(std::string(name), std::string(type));
      }
      continue;
    }
    MetricSample sample;
    Status s = ParseSampleLine(line, &sample);
    if (!s.ok()) return Status::Corrupt("line " + std::to_string(line_no) + ": " + s.message());
    set.samples.push_back(std::move(sample));
  }
  return set;
}

std::optional<double> BucketQuantile(double q, const std::vector<Bucket>& now,
                                     const std::vector<Bucket>& before) {
  if (now.empty() || !(q > 0 && q < 1)) return std::nullopt;
  std::vector<Bucket> delta = now;
  if (!before.empty()) {
    if (before.size() != now.size()) return std::nullopt;
    for (size_t i = 0; i < now.size(); ++i) {
      if (before[i].upper_bound != now[i].upper_bound) return std::nullopt;
      delta[i].count = now[i].count - before[i].count;
      if (delta[i].count < 0) return std::nullopt;  // a counter reset
    }
  }
  const double total = delta.back().count;
  if (!(total > 0)) return std::nullopt;
  const double rank = q * total;
  double prev_bound = 0, prev_count = 0;
  for (const Bucket& b : delta) {
    if (b.count >= rank) {
      if (std::isinf(b.upper_bound)) return prev_bound;  // highest finite bound
      const double in_bucket = b.count - prev_count;
      if (in_bucket <= 0) return b.upper_bound;
      return prev_bound + (b.upper_bound - prev_bound) * (rank - prev_count) / in_bucket;
    }
    prev_bound = b.upper_bound;
    prev_count = b.count;
  }
  return prev_bound;
}

}  // namespace dte::autoscale
