// deploy/prometheus: the rule file is valid (`promtool check rules`), its unit tests pass
// (`promtool test rules alerts_test.yml`), the scrape config is valid, and the five alerts
// match the ones the router evaluates itself (src/telemetry/alerts.h).

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "system/shell.h"
#include "telemetry/alerts.h"

namespace dte {
namespace {

const std::string kDir = std::string(DTE_SOURCE_DIR) + "/deploy/prometheus";

using testing::Shell;
using Output = testing::ShellOutput;

bool HavePromtool() { return Shell("command -v promtool").code == 0; }

TEST(PrometheusRulesTest, RuleFileIsValid) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (scripts/deps.sh installs it)";
  Output r = Shell("cd " + kDir + " && promtool check rules alerts.yml");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("SUCCESS"), std::string::npos) << r.text;
}

TEST(PrometheusRulesTest, RuleUnitTestsPass) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (scripts/deps.sh installs it)";
  Output r = Shell("cd " + kDir + " && promtool test rules alerts_test.yml");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("SUCCESS"), std::string::npos) << r.text;
}

TEST(PrometheusRulesTest, ScrapeConfigIsValid) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not installed (scripts/deps.sh installs it)";
  Output r = Shell("cd " + kDir + " && promtool check config prometheus.yml");
  EXPECT_EQ(r.code, 0) << r.text;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(PrometheusRulesTest, SameFiveAlertsAsTheRouterWithTheSameSeverityAndFor) {
  std::string rules = Slurp(kDir + "/alerts.yml");
  ASSERT_FALSE(rules.empty());
  std::regex alert_re(R"(- alert: (\w+)\n(?:.*\n)*?\s+for: (\d+)m\n(?:.*\n)*?\s+severity: (\w+))");
  std::map<std::string, std::pair<int, std::string>> found;
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), alert_re);
       it != std::sregex_iterator(); ++it)
    found[(*it)[1]] = {std::stoi((*it)[2]), (*it)[3]};
  AlertEvaluator evaluator;
  auto expected = evaluator.Rules();
  ASSERT_EQ(found.size(), expected.size()) << rules;
  for (const auto& rule : expected) {
    ASSERT_TRUE(found.count(rule.name)) << rule.name;
    EXPECT_EQ(found[rule.name].first * 60, rule.for_duration.count()) << rule.name;
    EXPECT_EQ(found[rule.name].second, rule.severity) << rule.name;
  }
  // Every alert is exercised by the unit tests.
  std::string tests = Slurp(kDir + "/alerts_test.yml");
  for (const auto& rule : expected)
    EXPECT_NE(tests.find("alertname: " + rule.name), std::string::npos) << rule.name;
}

}  // namespace
}  // namespace dte
