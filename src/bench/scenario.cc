#include "bench/scenario.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace dte::bench {
namespace {

using json = nlohmann::json;

Scenario Closed(std::string name, int users, double duration_s, double ramp_up_s,
                double think_s, double ramp_down_s = 0) {
  Scenario s = SteadyUsers(users, duration_s - ramp_down_s, ramp_up_s, think_s);
  s.name = std::move(name);
  if (ramp_down_s > 0) s.stages.push_back({ramp_down_s, 0, std::nullopt});
  return s;
}

Result<double> Number(const json& j, const char* key) {
  if (!j.is_number()) return Status::InvalidArgument(std::string("'") + key + "' must be a number");
  const double v = j.get<double>();
  if (v < 0) return Status::InvalidArgument(std::string("'") + key + "' must not be negative");
  return v;
}

Result<Scenario> FromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a scenario is an object");
  Scenario s;
  for (const auto& [key, value] : j.items()) {
    if (key == "name") {
      if (!value.is_string()) return Status::InvalidArgument("'name' must be a string");
      s.name = value.get<std::string>();
    } else if (key == "think_s") {
      Result<double> v = Number(value, "think_s");
      if (!v.ok()) return v.status();
      s.think_s = *v;
    } else if (key == "cv") {
      Result<double> v = Number(value, "cv");
      if (!v.ok()) return v.status();
      s.cv = *v;
    } else if (key == "arrival") {
      if (!value.is_string()) return Status::InvalidArgument("'arrival' must be a string");
      Result<ArrivalKind> k = ParseArrivalKind(value.get<std::string>());
      if (!k.ok()) return k.status();
      s.arrival = *k;
    } else if (key != "stages") {
      return Status::InvalidArgument("unknown scenario key '" + key + "'");
    }
  }
  if (!j.contains("stages") || !j["stages"].is_array() || j["stages"].empty())
    return Status::InvalidArgument("a scenario needs a non-empty 'stages' list");
  int users_stages = 0, rate_stages = 0;
  for (const json& st : j["stages"]) {
    if (!st.is_object()) return Status::InvalidArgument("a stage is an object");
    Stage stage;
    for (const auto& [key, value] : st.items()) {
      Result<double> v = Number(value, key.c_str());
      if (!v.ok()) return v.status();
      if (key == "duration_s") {
        stage.duration_s = *v;
      } else if (key == "users") {
        stage.target = *v;
        ++users_stages;
      } else if (key == "rate") {
        stage.target = *v;
        ++rate_stages;
      } else if (key == "from") {
        stage.from = *v;
      } else {
        return Status::InvalidArgument("unknown stage key '" + key + "'");
      }
    }
    if (stage.duration_s <= 0) return Status::InvalidArgument("every stage needs duration_s > 0");
    s.stages.push_back(stage);
  }
  const int n = static_cast<int>(s.stages.size());
  if (users_stages != n && rate_stages != n)
    return Status::InvalidArgument("every stage needs 'users' (closed loop) or every 'rate' "
                                   "(open loop), not a mix");
  s.open_loop = rate_stages == n;
  if (s.open_loop && !s.stages[0].from) s.stages[0].from = s.stages[0].target;
  if (s.arrival == ArrivalKind::kGamma && s.cv <= 0)
    return Status::InvalidArgument("gamma arrivals need cv > 0");
  return s;
}

std::string Trim(std::string_view s) {
  const size_t hash = s.find('#');
  if (hash != std::string_view::npos) s = s.substr(0, hash);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return std::string(s);
}

json YamlScalar(const std::string& v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  double d = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec == std::errc() && end == v.data() + v.size()) return d;
  return v;
}

}  // namespace

Scenario SteadyUsers(int users, double duration_s, double ramp_s, double think_s) {
  Scenario s;
  s.name = "users";
  s.think_s = think_s;
  ramp_s = std::min(ramp_s, duration_s);
  if (ramp_s > 0) s.stages.push_back({ramp_s, static_cast<double>(users), 0.0});
  if (duration_s > ramp_s)
    s.stages.push_back({duration_s - ramp_s, static_cast<double>(users), static_cast<double>(users)});
  return s;
}

double Scenario::DurationS() const {
  double d = 0;
  for (const Stage& st : stages) d += st.duration_s;
  return d;
}

double Scenario::ValueAt(double t) const {
  double start = 0, previous = 0;
  for (const Stage& st : stages) {
    const double from = st.from.value_or(previous);
    if (t < start + st.duration_s) return from + (st.target - from) * (t - start) / st.duration_s;
    start += st.duration_s;
    previous = st.target;
  }
  return 0;
}

double Scenario::PeakValue() const {
  double peak = 0;
  for (const Stage& st : stages) peak = std::max({peak, st.target, st.from.value_or(0)});
  return peak;
}

Scenario Scenario::TimeScaled(double factor) const {
  Scenario s = *this;
  for (Stage& st : s.stages) st.duration_s *= factor;
  return s;
}

std::vector<std::string> BuiltinScenarioNames() {
  return {"light", "medium", "high", "stress", "spike", "endurance"};
}

Result<Scenario> BuiltinScenario(std::string_view name) {
  // The prototype's parameters: users, duration (ramps included), ramp-up, think time.
  if (name == "light") return Closed("light", 10, 60, 10, 2);
  if (name == "medium") return Closed("medium", 50, 120, 30, 1);
  if (name == "high") return Closed("high", 100, 180, 60, 0.5);
  if (name == "stress") return Closed("stress", 200, 300, 120, 0.25);
  if (name == "spike") return Closed("spike", 500, 60, 5, 0.1, 5);
  if (name == "endurance") return Closed("endurance", 30, 3600, 300, 2);
  std::string known;
  for (const std::string& n : BuiltinScenarioNames()) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound("no scenario '" + std::string(name) + "' (built in: " + known + ")");
}

Result<Scenario> ParseScenarioJson(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("the scenario is not valid JSON");
  return FromJson(j);
}

Result<Scenario> ParseScenarioYaml(std::string_view text) {
  std::string first = Trim(text.substr(0, std::min<size_t>(text.size(), 64)));
  if (!first.empty() && first.front() == '{') return ParseScenarioJson(text);
  json j = json::object();
  bool in_stages = false;
  std::istringstream in{std::string(text)};
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    std::string line = Trim(raw);
    if (line.empty() || line == "---") continue;
    const auto bad = [&] {
      return Status::InvalidArgument("scenario YAML line " + std::to_string(line_no) +
                                     ": expected 'key: value'");
    };
    if (!indented) in_stages = false;
    if (in_stages && line.starts_with("- ")) {
      j["stages"].push_back(json::object());
      line = Trim(line.substr(2));
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return bad();
    const std::string key = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (!indented && key == "stages" && value.empty()) {
      in_stages = true;
      j["stages"] = json::array();
      continue;
    }
    if (value.empty()) return bad();
    if (in_stages) {
      if (j["stages"].empty()) return bad();
      j["stages"].back()[key] = YamlScalar(value);
    } else {
      j[key] = YamlScalar(value);
    }
  }
  return FromJson(j);
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read scenario file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  const bool yaml = path.ends_with(".yaml") || path.ends_with(".yml");
  Result<Scenario> s = yaml ? ParseScenarioYaml(text.str()) : ParseScenarioJson(text.str());
  if (!s.ok()) return s.status().WithPrefix(path);
  return s;
}

Result<ArrivalKind> ParseArrivalKind(std::string_view name) {
  if (name == "constant") return ArrivalKind::kConstant;
  if (name == "poisson") return ArrivalKind::kPoisson;
  if (name == "gamma") return ArrivalKind::kGamma;
  return Status::InvalidArgument("unknown arrival process '" + std::string(name) +
                                 "' (constant, poisson, gamma)");
}

const char* ArrivalKindName(ArrivalKind kind) {
  switch (kind) {
    case ArrivalKind::kConstant:
      return "constant";
    case ArrivalKind::kPoisson:
      return "poisson";
    case ArrivalKind::kGamma:
      return "gamma";
  }
  return "?";
}

}  // namespace dte::bench
