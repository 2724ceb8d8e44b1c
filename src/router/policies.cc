// The load-only policies (round-robin, least outstanding, power of two choices), the default
// combination and the factory. Session affinity and prefix-aware routing have their own files.
#include <atomic>

#include "router/policy.h"

namespace dte::router {
namespace {

class RoundRobinPolicy final : public Policy {
 public:
  std::string_view name() const override { return "round_robin"; }
  size_t Pick(const RouteContext&, std::span<const Candidate> c) override {
    return next_.fetch_add(1, std::memory_order_relaxed) % c.size();
  }

 private:
  std::atomic<uint64_t> next_{0};
};

class LeastOutstandingPolicy final : public Policy {
 public:
  std::string_view name() const override { return "least_outstanding"; }
  size_t Pick(const RouteContext&, std::span<const Candidate> c) override {
    // Rotating the tie-break start spreads an idle pool's requests instead of piling them on
    // the first backend.
    return LeastOutstanding(c, next_.fetch_add(1, std::memory_order_relaxed) % c.size());
  }

 private:
  std::atomic<uint64_t> next_{0};
};

// splitmix64: a tiny, good-enough generator; the state is one atomic so Pick is lock-free.
uint64_t SplitMix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

class PowerOfTwoPolicy final : public Policy {
 public:
  explicit PowerOfTwoPolicy(uint64_t seed) : state_(seed) {}
  std::string_view name() const override { return "p2c"; }
  size_t Pick(const RouteContext&, std::span<const Candidate> c) override {
    if (c.size() == 1) return 0;
    const uint64_t r = SplitMix(state_.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed));
    const size_t a = r % c.size();
    size_t b = (r >> 32) % (c.size() - 1);
    if (b >= a) ++b;  // two distinct choices
    if (c[a].outstanding != c[b].outstanding) return c[a].outstanding < c[b].outstanding ? a : b;
    return (r >> 63) ? a : b;
  }

 private:
  std::atomic<uint64_t> state_;
};

class AutoPolicy final : public Policy {
 public:
  AutoPolicy(AffinityOptions affinity, PrefixOptions prefix)
      : affinity_(MakeSessionAffinityPolicy(affinity)), prefix_(MakePrefixPolicy(prefix)) {}
  std::string_view name() const override { return "auto"; }
  size_t Pick(const RouteContext& ctx, std::span<const Candidate> c) override {
    return ctx.affinity_key.empty() ? prefix_->Pick(ctx, c) : affinity_->Pick(ctx, c);
  }
  void OnRouted(const RouteContext& ctx, std::string_view url) override {
    // The prefix memory learns from every request, keyed or not: a session's worker does hold
    // the state of the prompts it served.
    prefix_->OnRouted(ctx, url);
  }
  void OnBackendRemoved(std::string_view url) override {
    affinity_->OnBackendRemoved(url);
    prefix_->OnBackendRemoved(url);
  }

 private:
  std::unique_ptr<Policy> affinity_, prefix_;
};

}  // namespace

size_t LeastOutstanding(std::span<const Candidate> c, size_t start) {
  size_t best = start % c.size();
  for (size_t k = 1; k < c.size(); ++k) {
    const size_t i = (start + k) % c.size();
    if (c[i].outstanding < c[best].outstanding) best = i;
  }
  return best;
}

std::unique_ptr<Policy> MakeRoundRobinPolicy() { return std::make_unique<RoundRobinPolicy>(); }
std::unique_ptr<Policy> MakeLeastOutstandingPolicy() {
  return std::make_unique<LeastOutstandingPolicy>();
}
std::unique_ptr<Policy> MakePowerOfTwoPolicy(uint64_t seed) {
  return std::make_unique<PowerOfTwoPolicy>(seed);
}
std::unique_ptr<Policy> MakeAutoPolicy(AffinityOptions affinity, PrefixOptions prefix) {
  return std::make_unique<AutoPolicy>(affinity, prefix);
}

std::vector<std::string> PolicyNames() {
  return {"auto", "round_robin", "least_outstanding", "p2c", "session_affinity", "prefix"};
}

Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, AffinityOptions affinity,
                                           PrefixOptions prefix) {
  if (name == "auto") return MakeAutoPolicy(affinity, prefix);
  if (name == "round_robin") return MakeRoundRobinPolicy();
  if (name == "least_outstanding") return MakeLeastOutstandingPolicy();
  if (name == "p2c") return MakePowerOfTwoPolicy();
  if (name == "session_affinity") return MakeSessionAffinityPolicy(affinity);
  if (name == "prefix") return MakePrefixPolicy(prefix);
  return Status::InvalidArgument("unknown policy '" + std::string(name) +
                                 "' (auto, round_robin, least_outstanding, p2c, "
                                 "session_affinity, prefix)");
}

}  // namespace dte::router
