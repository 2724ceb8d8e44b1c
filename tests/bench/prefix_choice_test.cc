// The shared-prefix workload: which prefix a request gets must depend on every bit of its seed.
// Closed-loop seeds differ between users only in bits 32 and up (closed_loop.cc PromptSeed), so
// a choice that ignored them made all users ask for the same prefix at the same step.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "bench/workload.h"

namespace dte::bench {
namespace {

TEST(PrefixChoiceTest, SeedsThatDifferOnlyInHighBitsPickDifferentPrefixes) {
  WorkloadOptions w;
  w.prefixes = 32;
  w.prefix_words = 20;
  w.prompt_words = 4;
  for (uint64_t low : {0ull, 1ull, 12345ull}) {
    std::set<std::string> prefixes;
    for (uint64_t user = 0; user < 16; ++user) {
      const std::string prompt = PromptFor(w, (user << 32) ^ low);
      prefixes.insert(prompt.substr(0, prompt.find('.')));  // the prefix ends with its period
    }
    // 16 uniform draws from 32 prefixes: fewer than 6 distinct has probability < 1e-4.
    EXPECT_GE(prefixes.size(), 6u) << "low bits " << low;
  }
}

TEST(PrefixChoiceTest, EveryPrefixIsUsedAboutEquallyOften) {
  WorkloadOptions w;
  w.prefixes = 8;
  w.prefix_words = 10;
  w.prompt_words = 2;
  std::map<std::string, int> counts;
  for (uint64_t seed = 0; seed < 8000; ++seed) {
    const std::string prompt = PromptFor(w, seed);
    ++counts[prompt.substr(0, prompt.find('.'))];
  }
  ASSERT_EQ(counts.size(), 8u);
  for (const auto& [p, n] : counts) {
    EXPECT_GT(n, 800);   // expected 1000, sd ~30
    EXPECT_LT(n, 1200);
  }
}

}  // namespace
}  // namespace dte::bench
