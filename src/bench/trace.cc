#include "bench/trace.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/workload.h"

namespace dte::bench {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

template <typename T>
bool ParseNumber(std::string_view s, T& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

// "YYYY-MM-DD HH:MM:SS[.fraction]" → seconds since the epoch.
bool ParseTimestamp(std::string_view s, double& seconds) {
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T') ||
      s[13] != ':' || s[16] != ':')
    return false;
  int64_t y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0;
  double sec = 0;
  if (!ParseNumber(s.substr(0, 4), y) || !ParseNumber(s.substr(5, 2), mo) ||
      !ParseNumber(s.substr(8, 2), d) || !ParseNumber(s.substr(11, 2), h) ||
      !ParseNumber(s.substr(14, 2), mi) || !ParseNumber(s.substr(17), sec))
    return false;
  seconds = static_cast<double>(DaysFromCivil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 + sec;
  return true;
}

Status LineError(const char* format, int64_t line, const std::string& why) {
  return Status::InvalidArgument(std::string(format) + " trace line " + std::to_string(line) +
                                 ": " + why);
}

class TraceRequests : public RequestSource {
 public:
  TraceRequests(std::vector<TraceRequest> trace, const TraceOptions& o)
      : trace_(std::move(trace)), options_(o) {}
  std::optional<PlannedRequest> Next() override {
    if (next_ >= trace_.size()) return std::nullopt;
    const size_t i = next_++;
    return ReplayRequest(trace_[i], options_, i);
  }
  double DurationS() const override {
    // The last arrival, plus a little so that it is still inside the run's deadline.
    return trace_.empty() ? 0 : trace_.back().at_s * options_.time_scale + 0.001;
  }

 private:
  std::vector<TraceRequest> trace_;
  const TraceOptions options_;
  size_t next_ = 0;
};

}  // namespace

Result<std::vector<TraceRequest>> ParseAzureCsv(std::string_view text, int64_t max_lines) {
  std::vector<TraceRequest> out;
  double first = 0;
  int64_t line_no = 0;
  while (!text.empty() && (max_lines <= 0 || static_cast<int64_t>(out.size()) < max_lines)) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line_no == 1 && line.starts_with("TIMESTAMP")) continue;  // the header
    const size_t c1 = line.find(','), c2 = line.find(',', c1 + 1);
    if (c1 == std::string_view::npos || c2 == std::string_view::npos)
      return LineError("Azure", line_no, "expected TIMESTAMP,ContextTokens,GeneratedTokens");
    TraceRequest r;
    double t = 0;
    if (!ParseTimestamp(line.substr(0, c1), t))
      return LineError("Azure", line_no, "bad timestamp");
    if (!ParseNumber(line.substr(c1 + 1, c2 - c1 - 1), r.input_tokens) ||
        !ParseNumber(line.substr(c2 + 1), r.output_tokens) || r.input_tokens < 0 ||
        r.output_tokens < 0)
      return LineError("Azure", line_no, "bad token count");
    if (out.empty()) first = t;
    r.at_s = std::max(0.0, t - first);
    out.push_back(std::move(r));
  }
  if (out.empty()) return Status::InvalidArgument("the Azure trace has no requests");
  return out;
}

Result<std::vector<TraceRequest>> ParseMooncakeJsonl(std::string_view text, int64_t max_lines) {
  using json = nlohmann::json;
  std::vector<TraceRequest> out;
  double first = 0;
  int64_t line_no = 0;
  while (!text.empty() && (max_lines <= 0 || static_cast<int64_t>(out.size()) < max_lines)) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json j = json::parse(line, nullptr, false);
    if (!j.is_object()) return LineError("Mooncake", line_no, "not a JSON object");
    const auto number = [&](const char* key) -> const json* {
      auto it = j.find(key);
      return it != j.end() && it->is_number() ? &*it : nullptr;
    };
    const json *ts = number("timestamp"), *in = number("input_length"),
               *outlen = number("output_length");
    if (!ts || !in || !outlen)
      return LineError("Mooncake", line_no, "needs timestamp, input_length, output_length");
    TraceRequest r;
    const double t = ts->get<double>() / 1000.0;
    r.input_tokens = in->get<int64_t>();
    r.output_tokens = outlen->get<int64_t>();
    if (r.input_tokens < 0 || r.output_tokens < 0)
      return LineError("Mooncake", line_no, "negative length");
    if (auto it = j.find("hash_ids"); it != j.end()) {
      if (!it->is_array()) return LineError("Mooncake", line_no, "hash_ids is not a list");
      for (const json& h : *it) {
        if (!h.is_number_integer()) return LineError("Mooncake", line_no, "bad hash id");
        r.hash_ids.push_back(h.get<uint64_t>());
      }
    }
    if (out.empty()) first = t;
    r.at_s = std::max(0.0, t - first);
    out.push_back(std::move(r));
  }
  if (out.empty()) return Status::InvalidArgument("the Mooncake trace has no requests");
  return out;
}

Result<std::vector<TraceRequest>> LoadTrace(const std::string& path, int64_t max_lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read trace " + path);
  std::ostringstream text;
  text << in.rdbuf();
  Result<std::vector<TraceRequest>> r =
      path.ends_with(".csv")     ? ParseAzureCsv(text.str(), max_lines)
      : path.ends_with(".jsonl") ? ParseMooncakeJsonl(text.str(), max_lines)
                                 : Result<std::vector<TraceRequest>>(Status::InvalidArgument(
                                       "unknown trace format (.csv: Azure, .jsonl: Mooncake)"));
  if (!r.ok()) return r.status().WithPrefix(path);
  return r;
}

PlannedRequest ReplayRequest(const TraceRequest& r, const TraceOptions& o, uint64_t index) {
  auto scaled = [&](int64_t tokens) {
    return std::max<int64_t>(1, std::llround(static_cast<double>(tokens) * o.length_scale));
  };
  PlannedRequest p;
  p.at_s = r.at_s * o.time_scale;
  p.max_tokens = static_cast<int>(std::min<int64_t>(scaled(r.output_tokens), 1 << 30));
  const int64_t words = scaled(r.input_tokens);
  const int64_t block_words = scaled(kMooncakeBlockTokens);
  std::string prompt;
  int64_t have = 0;
  // Shared blocks first (the same id → the same words), then words of this request's own.
  for (uint64_t id : r.hash_ids) {
    if (have >= words) break;
    const int64_t take = std::min(block_words, words - have);
    if (!prompt.empty()) prompt.push_back(' ');
    std::string block = SynthesizePrompt(static_cast<int>(take), 0xB10C0000ull ^ (id * 0x9E37ull));
    block.pop_back();  // the period
    prompt += block;
    have += take;
  }
  if (have < words) {
    if (!prompt.empty()) prompt.push_back(' ');
    std::string own = SynthesizePrompt(static_cast<int>(words - have), o.seed * 0x100000001B3ull + index);
    own.pop_back();
    prompt += own;
  }
  prompt.push_back('.');
  p.prompt = std::move(prompt);
  return p;
}

std::unique_ptr<RequestSource> TraceSource(std::vector<TraceRequest> trace,
                                           const TraceOptions& options) {
  return std::make_unique<TraceRequests>(std::move(trace), options);
}

}  // namespace dte::bench
