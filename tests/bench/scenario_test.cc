// Scenarios: the built-in ones carry the prototype's parameters, --time-scale shortens them,
// stage values interpolate, and custom scenarios parse from JSON and YAML (or fail clearly).
#include "bench/scenario.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace dte::bench {
namespace {

struct Expected {
  const char* name;
  double users, duration_s, ramp_s, think_s;
};

TEST(ScenarioTest, BuiltinsHaveThePrototypeParameters) {
  const Expected kAll[] = {{"light", 10, 60, 10, 2},     {"medium", 50, 120, 30, 1},
                           {"high", 100, 180, 60, 0.5},  {"stress", 200, 300, 120, 0.25},
                           {"spike", 500, 60, 5, 0.1},   {"endurance", 30, 3600, 300, 2}};
  ASSERT_EQ(BuiltinScenarioNames().size(), std::size(kAll));
  for (const Expected& e : kAll) {
    SCOPED_TRACE(e.name);
    Result<Scenario> s = BuiltinScenario(e.name);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->name, e.name);
    EXPECT_FALSE(s->open_loop);
    EXPECT_DOUBLE_EQ(s->DurationS(), e.duration_s);
    EXPECT_DOUBLE_EQ(s->PeakValue(), e.users);
    EXPECT_DOUBLE_EQ(s->think_s, e.think_s);
    EXPECT_DOUBLE_EQ(s->ValueAt(0), 0);                          // ramps start from nobody
    EXPECT_NEAR(s->ValueAt(e.ramp_s / 2), e.users / 2, 1e-9);    // halfway up the ramp
    EXPECT_DOUBLE_EQ(s->ValueAt(e.ramp_s + 0.001), e.users);     // all users after it
    EXPECT_DOUBLE_EQ(s->ValueAt(e.duration_s + 1), 0);           // nobody after the end
  }
  // The spike also ramps down over its last 5 s.
  Scenario spike = *BuiltinScenario("spike");
  EXPECT_DOUBLE_EQ(spike.ValueAt(54.9), 500);
  EXPECT_NEAR(spike.ValueAt(57.5), 250, 1e-9);
  EXPECT_FALSE(BuiltinScenario("tsunami").ok());
}

TEST(ScenarioTest, TimeScaleShortensStagesButKeepsThinkTime) {
  Scenario light = BuiltinScenario("light")->TimeScaled(0.1);
  EXPECT_DOUBLE_EQ(light.DurationS(), 6);
  EXPECT_DOUBLE_EQ(light.think_s, 2);
  EXPECT_NEAR(light.ValueAt(0.5), 5, 1e-9);  // the 10 s ramp is now 1 s
  EXPECT_DOUBLE_EQ(light.ValueAt(1.5), 10);
}

TEST(ScenarioTest, ParsesJsonStagesOfUsersAndOfRates) {
  Result<Scenario> users = ParseScenarioJson(
      R"({"name":"mine","think_s":0.5,"stages":[{"duration_s":10,"users":20},
          {"duration_s":20,"users":20},{"duration_s":10,"users":5}]})");
  ASSERT_TRUE(users.ok()) << users.status().ToString();
  EXPECT_EQ(users->name, "mine");
  EXPECT_FALSE(users->open_loop);
  EXPECT_DOUBLE_EQ(users->DurationS(), 40);
  EXPECT_NEAR(users->ValueAt(5), 10, 1e-9);
  EXPECT_DOUBLE_EQ(users->ValueAt(15), 20);
  EXPECT_NEAR(users->ValueAt(35), 12.5, 1e-9);

  Result<Scenario> rates = ParseScenarioJson(
      R"({"arrival":"gamma","cv":3,"stages":[{"duration_s":5,"rate":100},
          {"duration_s":5,"rate":300}]})");
  ASSERT_TRUE(rates.ok()) << rates.status().ToString();
  EXPECT_TRUE(rates->open_loop);
  EXPECT_EQ(rates->arrival, ArrivalKind::kGamma);
  EXPECT_DOUBLE_EQ(rates->cv, 3);
  EXPECT_DOUBLE_EQ(rates->ValueAt(2), 100);  // an open loop's first stage starts at its rate
  EXPECT_NEAR(rates->ValueAt(7.5), 200, 1e-9);
}

TEST(ScenarioTest, RejectsBadScenarios) {
  EXPECT_FALSE(ParseScenarioJson("{").ok());
  EXPECT_FALSE(ParseScenarioJson(R"({"stages":[]})").ok());
  EXPECT_FALSE(ParseScenarioJson(R"({"stages":[{"duration_s":0,"users":1}]})").ok());
  EXPECT_FALSE(ParseScenarioJson(R"({"stages":[{"duration_s":1,"users":1},
                                               {"duration_s":1,"rate":1}]})").ok());
  EXPECT_FALSE(ParseScenarioJson(R"({"stages":[{"duration_s":1,"users":-1}]})").ok());
  EXPECT_FALSE(ParseScenarioJson(R"({"colour":"red","stages":[{"duration_s":1,"users":1}]})").ok());
  EXPECT_FALSE(ParseScenarioJson(R"({"arrival":"bursty","stages":[{"duration_s":1,"rate":1}]})")
                   .ok());
}

TEST(ScenarioTest, ParsesYamlAndLoadsFiles) {
  const char* kYaml =
      "# a ramp\n"
      "name: ramp\n"
      "think_s: 0.25\n"
      "stages:\n"
      "  - duration_s: 4\n"
      "    users: 8\n"
      "  - duration_s: 6   # hold\n"
      "    users: 8\n";
  Result<Scenario> s = ParseScenarioYaml(kYaml);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->name, "ramp");
  EXPECT_DOUBLE_EQ(s->think_s, 0.25);
  ASSERT_EQ(s->stages.size(), 2u);
  EXPECT_DOUBLE_EQ(s->DurationS(), 10);
  EXPECT_NEAR(s->ValueAt(2), 4, 1e-9);
  EXPECT_FALSE(ParseScenarioYaml("stages:\n  - duration_s 4\n").ok());

  const std::string path = "/tmp/dte_scenario_test." + std::to_string(getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << kYaml;
  }
  Result<Scenario> loaded = LoadScenarioFile(path);
  std::remove(path.c_str());
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_DOUBLE_EQ(loaded->DurationS(), 10);
  EXPECT_FALSE(LoadScenarioFile("/nonexistent/scenario.json").ok());
}

}  // namespace
}  // namespace dte::bench
