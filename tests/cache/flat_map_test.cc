// FlatMap against std::unordered_map under random inserts, erases and lookups (clustered keys
// make long probe runs, so backward-shift deletion is exercised across the wrap-around).

#include "cache/flat_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

namespace dte {
namespace {

TEST(FlatMapTest, MatchesUnorderedMapUnderRandomOps) {
  for (uint64_t key_space : {8u, 100u, 5000u}) {
    FlatMap<int> m;
    std::unordered_map<uint64_t, int> ref;
    std::mt19937_64 rng(key_space);
    for (int i = 0; i < 200000; ++i) {
      uint64_t k = rng() % key_space;
      switch (rng() % 3) {
        case 0:
          if (!ref.contains(k)) {
            m.Insert(k, i);
            ref[k] = i;
          }
          break;
        case 1:
          ASSERT_EQ(m.Erase(k), ref.erase(k) == 1) << k;
          break;
        default: {
          int* v = m.Find(k);
          auto it = ref.find(k);
          ASSERT_EQ(v != nullptr, it != ref.end()) << k;
          if (v) {
            ASSERT_EQ(*v, it->second);
          }
        }
      }
      ASSERT_EQ(m.size(), ref.size());
    }
    size_t seen = 0;
    m.ForEach([&](uint64_t k, int& v) {
      ++seen;
      EXPECT_EQ(ref.at(k), v);
    });
    EXPECT_EQ(seen, ref.size());
    m.Clear();
    EXPECT_EQ(m.size(), 0u);
    EXPECT_EQ(m.Find(1), nullptr);
  }
}

}  // namespace
}  // namespace dte
