// deploy/grafana/dte.json queries only series that exist: every metric name in its PromQL
// (panel targets, template variables, annotations) must appear in the /metrics output of a real
// `dte serve` on the demo model after it has served a request.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;

const std::string kDemoModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";
const std::string kDashboard = std::string(DTE_SOURCE_DIR) + "/deploy/grafana/dte.json";

// Series that Prometheus itself makes (not exported by any process).
const std::set<std::string> kPrometheusSynthetic = {"ALERTS", "ALERTS_FOR_STATE", "up"};

// The metric names a PromQL expression reads: identifiers that are not functions, keywords,
// label names (inside {...} or by/without/on/ignoring/group_left/group_right (...)), durations,
// numbers, strings or Grafana variables.
std::set<std::string> MetricNames(std::string expr) {
  static const std::regex strings(R"("(\\.|[^"\\])*"|'(\\.|[^'\\])*')");
  static const std::regex matchers(R"(\{[^}]*\})");
  static const std::regex ranges(R"(\[[^\]]*\])");
  static const std::regex grouping(
      R"(\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\))");
  static const std::regex variables(R"(\$\{?\w+\}?)");
  static const std::regex ident(R"([A-Za-z_:][A-Za-z0-9_:]*)");
  static const std::set<std::string> keywords = {
      "by", "without", "on",     "ignoring", "group_left", "group_right", "bool", "and",
      "or", "unless",  "offset", "inf",      "nan",        "Inf",         "NaN"};
  expr = std::regex_replace(expr, matchers, "{}");  // label values may hold anything
  expr = std::regex_replace(expr, strings, "\"\"");
  expr = std::regex_replace(expr, ranges, "");
  expr = std::regex_replace(expr, grouping, "");
  expr = std::regex_replace(expr, variables, "");
  std::set<std::string> names;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), ident);
       it != std::sregex_iterator(); ++it) {
    std::string name = it->str();
    size_t end = static_cast<size_t>(it->position()) + name.size();
    while (end < expr.size() && expr[end] == ' ') ++end;
    bool is_function = end < expr.size() && expr[end] == '(';
    bool after_digit =
        it->position() > 0 && std::isdigit(static_cast<unsigned char>(expr[it->position() - 1]));
    if (is_function || after_digit || keywords.count(name)) continue;
    names.insert(name);
  }
  return names;
}

// Every PromQL string in the dashboard, with where it came from.
void CollectQueries(const json& j, const std::string& where,
                    std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if ((key == "expr" || (key == "query" && where.find("templating") != std::string::npos)) &&
          value.is_string())
        out.emplace_back(where + "." + key, value.get<std::string>());
      else
        CollectQueries(value, where + "." + key, out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      CollectQueries(j[i], where + "[" + std::to_string(i) + "]", out);
  }
}

std::set<std::string> DashboardMetricNames() {
  std::ifstream in(kDashboard);
  json dash = json::parse(in, nullptr, false);
  EXPECT_FALSE(dash.is_discarded()) << kDashboard;
  std::vector<std::pair<std::string, std::string>> queries;
  CollectQueries(dash, "", queries);
  EXPECT_GT(queries.size(), 10u);
  std::set<std::string> names;
  for (const auto& [where, q] : queries) {
    // label_values(metric{...}, label): the metric is the first argument.
    std::smatch m;
    if (std::regex_search(q, m, std::regex(R"(label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*))"))) {
      names.insert(m[1]);
      continue;
    }
    if (q == "prometheus") continue;  // the data source variable
    auto found = MetricNames(q);
    EXPECT_FALSE(found.empty()) << where << ": " << q;
    names.insert(found.begin(), found.end());
  }
  return names;
}

TEST(GrafanaDashboardTest, ExtractsMetricNamesFromPromql) {
  auto names = MetricNames(
      R"(histogram_quantile(0.95, sum by (le, route) (rate(dte_x_bucket{job=~"$job", route=~"/v1/.*"}[$__rate_interval]))))"
      R"( / on (job) group_left sum(dte_y) > 1e3 or ALERTS{alertname="a b"} offset 5m)");
  EXPECT_EQ(names, (std::set<std::string>{"dte_x_bucket", "dte_y", "ALERTS"}));
}

TEST(GrafanaDashboardTest, EveryQueriedMetricExistsInDteServe) {
  auto names = DashboardMetricNames();
  ASSERT_FALSE(names.empty());
  EXPECT_TRUE(names.count("dte_time_to_first_token_seconds_bucket"));
  EXPECT_TRUE(names.count("dte_cache_hits_total"));

  testing::ServerProcess server(kDemoModel);
  ASSERT_GT(server.port(), 0);
  // Serve one completion (twice, so the prefix cache can hit) so labelled series exist.
  for (int i = 0; i < 2; ++i) {
    json body = {{"model", "demo"},
                 {"prompt", "The quick brown fox jumps over the lazy dog"},
                 {"max_tokens", 4},
                 {"temperature", 0}};
    auto r = testing::RawRequest(server.port(), "POST", "/v1/completions", body.dump());
    ASSERT_EQ(r.status, 200) << r.body;
  }
  auto metrics = testing::RawRequest(server.port(), "GET", "/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  std::set<std::string> exported;
  std::istringstream lines(metrics.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    exported.insert(line.substr(0, line.find_first_of("{ ")));
  }
  for (const auto& name : names) {
    if (kPrometheusSynthetic.count(name)) continue;
    EXPECT_TRUE(exported.count(name))
        << "deploy/grafana/dte.json queries " << name << ", which dte serve does not export";
  }
}

}  // namespace
}  // namespace dte
