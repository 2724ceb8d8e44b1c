#include "autoscale/trace.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dte::autoscale {
namespace {

bool ParseInt(std::string_view t, int64_t* out) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '"')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '"' || t.back() == '\r')) t.remove_suffix(1);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size();
}

bool ParseDouble(std::string_view t, double* out) {
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\r')) t.remove_suffix(1);
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), *out);
  return ec == std::errc() && p == t.data() + t.size();
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t p = line.find(sep, start);
    out.push_back(line.substr(start, p == std::string_view::npos ? line.npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

Result<std::vector<TraceRequest>> ParseJsonl(std::string_view text) {
  std::vector<TraceRequest> out;
  size_t line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("timestamp") ||
        !j["timestamp"].is_number() || !j.value("input_length", nlohmann::json()).is_number() ||
        !j.value("output_length", nlohmann::json()).is_number())
      return Status::Corrupt("trace line " + std::to_string(line_no) +
                             ": need timestamp, input_length, output_length");
    out.push_back({j["timestamp"].get<double>() / 1000.0, j["input_length"].get<int>(),
                   j["output_length"].get<int>()});
  }
  return out;
}

Result<std::vector<TraceRequest>> ParseCsv(std::string_view text) {
  std::vector<TraceRequest> out;
  size_t line_no = 0;
  for (std::string_view line : Split(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::vector<std::string_view> f = Split(line, ',');
    if (f.size() < 3)
      return Status::Corrupt("trace line " + std::to_string(line_no) + ": need 3 columns");
    int64_t prompt = 0, gen = 0;
    double t = 0;
    const bool numbers = ParseInt(f[1], &prompt) && ParseInt(f[2], &gen);
    if (!numbers) {
      if (line_no == 1) continue;  // a header
      return Status::Corrupt("trace line " + std::to_string(line_no) + ": bad token counts");
    }
    if (!ParseDouble(f[0], &t)) {
      Result<double> stamp = ParseTimestamp(f[0]);
      if (!stamp.ok()) return stamp.status().WithPrefix("trace line " + std::to_string(line_no));
      t = *stamp;
    }
    out.push_back({t, static_cast<int>(prompt), static_cast<int>(gen)});
  }
  return out;
}

}  // namespace

Result<double> ParseTimestamp(std::string_view text) {
  // YYYY-MM-DD HH:MM:SS[.fraction]
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != ' ' && text[10] != 'T') || text[13] != ':' || text[16] != ':')
    return Status::Corrupt("bad timestamp '" + std::string(text) + "'");
  int64_t y, mo, d, h, mi, s;
  if (!ParseInt(text.substr(0, 4), &y) || !ParseInt(text.substr(5, 2), &mo) ||
      !ParseInt(text.substr(8, 2), &d) || !ParseInt(text.substr(11, 2), &h) ||
      !ParseInt(text.substr(14, 2), &mi) || !ParseInt(text.substr(17, 2), &s))
    return Status::Corrupt("bad timestamp '" + std::string(text) + "'");
  double fraction = 0;
  if (text.size() > 19) {
    if (text[19] != '.') return Status::Corrupt("bad timestamp '" + std::string(text) + "'");
    const std::string frac = "0" + std::string(text.substr(19));
    if (!ParseDouble(frac, &fraction))
      return Status::Corrupt("bad timestamp '" + std::string(text) + "'");
  }
  return static_cast<double>(DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) + fraction;
}

Result<std::vector<TraceRequest>> ParseTrace(std::string_view text, std::string_view format_hint) {
  Result<std::vector<TraceRequest>> parsed =
      format_hint.ends_with(".jsonl") ? ParseJsonl(text) : ParseCsv(text);
  if (!parsed.ok()) return parsed;
  std::vector<TraceRequest> out = std::move(*parsed);
  if (out.empty()) return Status::InvalidArgument("the trace has no requests");
  std::stable_sort(out.begin(), out.end(), [](const TraceRequest& a, const TraceRequest& b) {
    return a.arrival_s < b.arrival_s;
  });
  const double t0 = out.front().arrival_s;
  for (TraceRequest& r : out) r.arrival_s -= t0;
  return out;
}

Result<std::vector<TraceRequest>> LoadTrace(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot open trace " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ParseTrace(ss.str(), path);
}

}  // namespace dte::autoscale
