#pragma once
// Scenario: the shape of a load test over time, as a list of stages. A closed-loop scenario's
// stages give the number of simulated users; an open-loop scenario's stages give the arrival
// rate (requests per second). Within a stage the value moves linearly from where the previous
// stage ended (or the stage's own `from`) to the stage's target, so "ramp up over 10 s, hold
// for 50 s, ramp down over 5 s" is three stages.
//
// Built-in scenarios carry the prototype's parameters (light, medium, high, stress, spike,
// endurance); custom ones come from a small JSON or YAML file:
//
//   {"name": "mine", "think_s": 1, "stages": [{"duration_s": 10, "users": 20},
//                                            {"duration_s": 50, "users": 20}]}
//   {"name": "rate", "arrival": "gamma", "cv": 2, "stages": [{"duration_s": 30, "rate": 50}]}
//
// YAML: the same keys, as "key: value" lines and a "stages:" list of "- key: value" items.
// Plain values; no threading concerns.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte::bench {

enum class ArrivalKind { kConstant, kPoisson, kGamma };

struct Stage {
  double duration_s = 0;
  double target = 0;           // users (closed loop) or requests/s (open loop)
  std::optional<double> from;  // the value at the stage's start; default: previous target
};

struct Scenario {
  std::string name = "custom";
  bool open_loop = false;  // stages hold rates rather than users
  std::vector<Stage> stages;
  double think_s = 0;  // closed loop: a user's pause between requests
  ArrivalKind arrival = ArrivalKind::kPoisson;  // open loop
  double cv = 1.0;  // gamma: coefficient of variation of the gaps (burstiness; 1 = Poisson)

  double DurationS() const;
  // The interpolated users or rate at `t` seconds from the start (0 after the end).
  double ValueAt(double t) const;
  // The largest value any stage reaches (users to create, or the peak rate).
  double PeakValue() const;
  // Every stage duration multiplied by `factor` (think time is kept: a user's pace and the
  // arrival rates are what make the load, the scale only makes the run shorter).
  Scenario TimeScaled(double factor) const;
};

// Names of the built-in scenarios, in order of intensity.
std::vector<std::string> BuiltinScenarioNames();
Result<Scenario> BuiltinScenario(std::string_view name);

// A closed-loop scenario of `users` that start evenly over `ramp_s` and run until `duration_s`.
Scenario SteadyUsers(int users, double duration_s, double ramp_s, double think_s);

Result<Scenario> ParseScenarioJson(std::string_view text);
Result<Scenario> ParseScenarioYaml(std::string_view text);
// By extension: .yaml/.yml as YAML, anything else as JSON.
Result<Scenario> LoadScenarioFile(const std::string& path);

Result<ArrivalKind> ParseArrivalKind(std::string_view name);
const char* ArrivalKindName(ArrivalKind kind);

}  // namespace dte::bench
