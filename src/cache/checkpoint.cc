#include "cache/checkpoint.h"

namespace dte {

namespace {
constexpr float kWeights[kPriorityCount] = {0.5f, 0.7f, 0.8f, 0.9f, 1.0f};
constexpr std::string_view kNames[kPriorityCount] = {"general", "grammar", "reasoning",
                                                     "memory_retrieval", "conversation"};
}  // namespace

float PriorityWeight(Priority p) { return kWeights[static_cast<int>(p)]; }
std::string_view PriorityName(Priority p) { return kNames[static_cast<int>(p)]; }

std::optional<Priority> ParsePriority(std::string_view name) {
  for (int i = 0; i < kPriorityCount; ++i)
    if (kNames[i] == name) return static_cast<Priority>(i);
  return std::nullopt;
}

}  // namespace dte
