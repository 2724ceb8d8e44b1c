// Session affinity: consistent hashing with bounded load. See policy.h.
#include <algorithm>
#include <cmath>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "router/hashing.h"
#include "router/policy.h"

namespace dte::router {
namespace {

class SessionAffinityPolicy final : public Policy {
 public:
  explicit SessionAffinityPolicy(AffinityOptions o) : options_(o) {}
  std::string_view name() const override { return "session_affinity"; }

  size_t Pick(const RouteContext& ctx, std::span<const Candidate> c) override {
    if (ctx.affinity_key.empty()) return LeastOutstanding(c, HashBytes(ctx.prompt_text) % c.size());
    std::lock_guard lock(mu_);
    for (const Candidate& cand : c) EnsureOnRingLocked(cand.url);
    return WalkRingLocked(HashBytes(ctx.affinity_key), c);
  }

  void OnBackendRemoved(std::string_view url) override {
    std::lock_guard lock(mu_);
    std::erase_if(ring_, [&](const Point& p) { return p.url == url; });
    on_ring_.erase(std::string(url));
  }

 private:
  struct Point {
    uint64_t hash;
    std::string url;
    bool operator<(const Point& o) const { return hash < o.hash; }
  };

  void EnsureOnRingLocked(std::string_view url) {
    if (!on_ring_.emplace(url).second) return;
    for (int v = 0; v < options_.virtual_nodes; ++v) {
      const std::string label = std::string(url) + "#" + std::to_string(v);
      ring_.push_back({HashBytes(label), std::string(url)});
    }
    std::sort(ring_.begin(), ring_.end());
  }

  // The first backend clockwise from `h` that is a candidate and under the load bound.
  size_t WalkRingLocked(uint64_t h, std::span<const Candidate> c) const {
    int64_t total = 0;
    for (const Candidate& cand : c) total += cand.outstanding;
    const auto bound = static_cast<int64_t>(std::ceil(
        options_.load_factor * static_cast<double>(total + 1) / static_cast<double>(c.size())));
    std::vector<bool> seen(c.size(), false);
    size_t left = c.size();
    auto it = std::lower_bound(ring_.begin(), ring_.end(), Point{h, {}});
    for (size_t step = 0; step < ring_.size() && left > 0; ++step, ++it) {
      if (it == ring_.end()) it = ring_.begin();
      for (size_t i = 0; i < c.size(); ++i) {
        if (seen[i] || c[i].url != it->url) continue;
        if (c[i].outstanding < bound) return i;
        seen[i] = true;
        --left;
      }
    }
    return LeastOutstanding(c);
  }

  const AffinityOptions options_;
  std::mutex mu_;
  std::vector<Point> ring_;  // sorted by hash; guarded by mu_
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  std::unordered_set<std::string, StringHash, std::equal_to<>> on_ring_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<Policy> MakeSessionAffinityPolicy(AffinityOptions options) {
  return std::make_unique<SessionAffinityPolicy>(options);
}

}  // namespace dte::router
