// Prefix-aware routing: each backend's memory of the prompt text it served, as chained block
// hashes (an approximate radix tree: block i's hash covers blocks 0..i, so a hit on block i
// means the whole prefix up to it matched). A request goes to the backend holding the longest
// prefix of its prompt, unless the load is out of balance. See policy.h for the options.
#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "router/hashing.h"
#include "router/policy.h"

namespace dte::router {
namespace {

class PrefixPolicy final : public Policy {
 public:
  explicit PrefixPolicy(PrefixOptions o) : options_(o) {}
  std::string_view name() const override { return "prefix"; }

  size_t Pick(const RouteContext& ctx, std::span<const Candidate> c) override {
    if (c.size() == 1) return 0;
    auto [lo, hi] = std::minmax_element(
        c.begin(), c.end(),
        [](const Candidate& a, const Candidate& b) { return a.outstanding < b.outstanding; });
    if (hi->outstanding - lo->outstanding > options_.balance_abs_threshold &&
        static_cast<double>(hi->outstanding) >
            options_.balance_rel_threshold * static_cast<double>(lo->outstanding)) {
      return static_cast<size_t>(lo - c.begin());  // out of balance: load first
    }
    const std::vector<uint64_t> blocks = BlockHashes(ctx.prompt_text);
    std::lock_guard lock(mu_);
    size_t best = c.size(), best_match = 0;
    for (size_t i = 0; i < c.size() && !blocks.empty(); ++i) {
      const size_t m = MatchedBlocksLocked(c[i].url, blocks);
      if (m > best_match || (m == best_match && m > 0 && c[i].outstanding < c[best].outstanding)) {
        best = i;
        best_match = m;
      }
    }
    if (best < c.size() && static_cast<double>(best_match) >=
                               options_.min_match_ratio * static_cast<double>(blocks.size())) {
      return best;
    }
    // No useful prefix anywhere: the least loaded backend, ties to the one caching least (it
    // has the most room), then rotated by the prompt so an idle pool still spreads.
    const size_t start = HashBytes(ctx.prompt_text) % c.size();
    size_t pick = start;
    for (size_t k = 1; k < c.size(); ++k) {
      const size_t i = (start + k) % c.size();
      if (c[i].outstanding < c[pick].outstanding ||
          (c[i].outstanding == c[pick].outstanding &&
           TreeSizeLocked(c[i].url) < TreeSizeLocked(c[pick].url))) {
        pick = i;
      }
    }
    return pick;
  }

  void OnRouted(const RouteContext& ctx, std::string_view url) override {
    const std::vector<uint64_t> blocks = BlockHashes(ctx.prompt_text);
    if (blocks.empty()) return;
    std::lock_guard lock(mu_);
    Tree& tree = trees_[std::string(url)];
    ++tree.tick;
    for (uint64_t h : blocks) tree.blocks[h] = tree.tick;
    if (tree.blocks.size() > options_.max_blocks_per_backend) EvictOldestHalfLocked(tree);
  }

  void OnBackendRemoved(std::string_view url) override {
    std::lock_guard lock(mu_);
    trees_.erase(std::string(url));
  }

 private:
  struct Tree {
    std::unordered_map<uint64_t, uint64_t> blocks;  // chained block hash -> last use tick
    uint64_t tick = 0;
  };

  std::vector<uint64_t> BlockHashes(std::string_view text) const {
    std::vector<uint64_t> out;
    const size_t n = text.size() / options_.block_bytes;
    out.reserve(n);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; ++i) {
      h = HashBytes(text.substr(i * options_.block_bytes, options_.block_bytes), h);
      out.push_back(h);
    }
    return out;
  }

  size_t MatchedBlocksLocked(std::string_view url, const std::vector<uint64_t>& blocks) {
    auto it = trees_.find(std::string(url));
    if (it == trees_.end()) return 0;
    // Chained hashes: the longest matched prefix is found by binary search on "block i held".
    size_t lo = 0, hi = blocks.size();
    while (lo < hi) {
      const size_t mid = (lo + hi + 1) / 2;
      if (it->second.blocks.contains(blocks[mid - 1])) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  size_t TreeSizeLocked(std::string_view url) const {
    auto it = trees_.find(std::string(url));
    return it == trees_.end() ? 0 : it->second.blocks.size();
  }

  // Approximate LRU: drop the least recently used half in one pass (amortized O(1) per insert).
  static void EvictOldestHalfLocked(Tree& tree) {
    std::vector<uint64_t> ticks;
    ticks.reserve(tree.blocks.size());
    for (const auto& [h, t] : tree.blocks) ticks.push_back(t);
    auto mid = ticks.begin() + static_cast<std::ptrdiff_t>(ticks.size() / 2);
    std::nth_element(ticks.begin(), mid, ticks.end());
    const uint64_t cutoff = *mid;
    std::erase_if(tree.blocks, [&](const auto& kv) { return kv.second < cutoff; });
  }

  const PrefixOptions options_;
  std::mutex mu_;
  std::unordered_map<std::string, Tree> trees_;  // by backend url; guarded by mu_
};

}  // namespace

std::unique_ptr<Policy> MakePrefixPolicy(PrefixOptions options) {
  return std::make_unique<PrefixPolicy>(options);
}

}  // namespace dte::router
