// PrefixIndex: longest match against a brute-force scan, removal, model separation, collisions of
// structure (tails inside a block, aligned prefixes, empty prefix).

#include "cache/prefix_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace dte {
namespace {

TEST(PrefixIndexTest, LongestMatchAgreesWithBruteForce) {
  for (int block : {1, 4, 16, 32}) {
    PrefixIndex index(block);
    std::mt19937 rng(block);
    // A small alphabet and shared stems make many prompts share prefixes.
    std::vector<std::vector<int32_t>> stems;
    for (int i = 0; i < 5; ++i) {
      std::vector<int32_t> s(rng() % 100);
      for (auto& t : s) t = rng() % 3;
      stems.push_back(s);
    }
    auto random_prompt = [&] {
      std::vector<int32_t> p = stems[rng() % stems.size()];
      int extra = rng() % 80;
      for (int i = 0; i < extra; ++i) p.push_back(rng() % 3);
      return p;
    };
    std::map<std::vector<int32_t>, CacheKey> inserted;
    for (int i = 0; i < 300; ++i) {
      auto p = random_prompt();
      p.resize(rng() % (p.size() + 1));
      inserted[p] = index.Insert("model", p);
      EXPECT_EQ(inserted[p], index.KeyOf("model", p));
    }
    // Remove some, so removal is covered by the comparison too.
    int removed = 0;
    for (auto it = inserted.begin(); it != inserted.end();) {
      if (rng() % 4 == 0) {
        index.Remove(it->second);
        it = inserted.erase(it);
        ++removed;
      } else {
        ++it;
      }
    }
    EXPECT_GT(removed, 0);
    EXPECT_EQ(index.size(), inserted.size());
    for (int q = 0; q < 500; ++q) {
      auto query = random_prompt();
      // Brute force: the longest inserted sequence that is a prefix of the query.
      int64_t best = -1;
      CacheKey best_key = 0;
      size_t count = 0;
      for (const auto& [p, key] : inserted) {
        if (p.size() <= query.size() && std::equal(p.begin(), p.end(), query.begin())) {
          ++count;
          if (static_cast<int64_t>(p.size()) > best) best = p.size(), best_key = key;
        }
      }
      auto m = index.LongestMatch("model", query);
      if (best < 0) {
        EXPECT_FALSE(m.has_value());
      } else {
        ASSERT_TRUE(m.has_value()) << "block " << block;
        EXPECT_EQ(m->tokens, best);
        EXPECT_EQ(m->key, best_key);
      }
      auto all = index.Matches("model", query);
      EXPECT_EQ(all.size(), count);
      for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(all[i - 1].tokens, all[i].tokens);
    }
  }
}

TEST(PrefixIndexTest, ModelsAreSeparate) {
  PrefixIndex index(4);
  std::vector<int32_t> p = {1, 2, 3, 4, 5, 6};
  CacheKey a = index.Insert("a", p);
  EXPECT_NE(a, index.KeyOf("b", p));
  EXPECT_FALSE(index.LongestMatch("b", p).has_value());
  EXPECT_EQ(index.LongestMatch("a", p)->key, a);
}

TEST(PrefixIndexTest, RemoveAllLeavesNothing) {
  PrefixIndex index(2);
  std::vector<CacheKey> keys;
  for (int n = 0; n < 10; ++n) keys.push_back(index.Insert("m", std::vector<int32_t>(n, 7)));
  EXPECT_EQ(index.LongestMatch("m", std::vector<int32_t>(20, 7))->tokens, 9);
  for (CacheKey k : keys) index.Remove(k);
  EXPECT_EQ(index.size(), 0u);
  EXPECT_FALSE(index.LongestMatch("m", std::vector<int32_t>(20, 7)).has_value());
  // Insert again after full removal: nodes were rebuilt correctly.
  index.Insert("m", std::vector<int32_t>(5, 7));
  EXPECT_EQ(index.LongestMatch("m", std::vector<int32_t>(20, 7))->tokens, 5);
}

TEST(PrefixIndexTest, EmptyAndZeroTailsDiffer) {
  PrefixIndex index(4);
  std::vector<int32_t> aligned = {1, 2, 3, 4};
  std::vector<int32_t> zero_tail = {1, 2, 3, 4, 0};
  EXPECT_NE(index.KeyOf("m", aligned), index.KeyOf("m", zero_tail));
  index.Insert("m", aligned);
  auto m = index.LongestMatch("m", std::vector<int32_t>{1, 2, 3, 4, 0, 0});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->tokens, 4);
}

}  // namespace
}  // namespace dte
