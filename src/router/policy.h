#pragma once
// Balancing policies: given the backends a request may go to now (healthy, not draining, breaker
// allowing), pick one. Policies are pluggable (MakePolicy by name) and keep only their own
// routing memory (a hash ring, the prompts each backend served); load figures come
// in with the candidates. Pick() and the On*() hooks may be called from any thread at once:
// each policy synchronizes itself.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace dte::router {

// What the proxy knows about one request, for routing.
struct RouteContext {
  std::string affinity_key;     // session_id, else `user`, else empty
  bool is_session_key = false;  // affinity_key is a session id (see SessionPins)
  std::string prompt_text;      // the prompt (completions) or the rendered messages (chat)
};

// One backend a request may go to.
struct Candidate {
  std::string_view url;
  int64_t outstanding = 0;  // requests in flight to it through this router
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  // `candidates` is not empty. Returns an index into it.
  virtual size_t Pick(const RouteContext& ctx, std::span<const Candidate> candidates) = 0;
  // The request was sent to `url` (after Pick, possibly on a retry).
  virtual void OnRouted(const RouteContext& ctx, std::string_view url) {}
  // The backend left the pool: forget what was learned about it.
  virtual void OnBackendRemoved(std::string_view url) {}
};

// Index of the candidate with the fewest requests in flight; ties go to the lowest index
// at or after `start` (so callers can rotate ties).
size_t LeastOutstanding(std::span<const Candidate> candidates, size_t start = 0);

std::unique_ptr<Policy> MakeRoundRobinPolicy();
std::unique_ptr<Policy> MakeLeastOutstandingPolicy();
std::unique_ptr<Policy> MakePowerOfTwoPolicy(uint64_t seed = 0x9e3779b97f4a7c15ull);

struct AffinityOptions {
  int virtual_nodes = 160;  // points per backend on the ring
  // Bounded load (Mirrokni et al.): a backend takes a hashed key only while its load is at most
  // ceil(load_factor * (total + 1) / n); otherwise the key walks on along the ring.
  double load_factor = 1.25;
};
// Session affinity; requests without a key go to the least loaded backend. (Sessions whose
// worker is known are pinned before any policy runs: see SessionPins.)
std::unique_ptr<Policy> MakeSessionAffinityPolicy(AffinityOptions options = {});

struct PrefixOptions {
  size_t block_bytes = 64;                   // prompt text is hashed in blocks of this many bytes
  size_t max_blocks_per_backend = 1u << 18;  // approximate tree size per backend (LRU)
  double min_match_ratio = 0.3;              // below this, the prefix is not worth following
  // Load fall-back (as SGLang's router): when max - min outstanding > abs_threshold and
  // max > rel_threshold * min, go to the least loaded backend instead.
  int64_t balance_abs_threshold = 8;
  double balance_rel_threshold = 1.5;
};
std::unique_ptr<Policy> MakePrefixPolicy(PrefixOptions options = {});

// The default: session affinity when the request has a key, else prefix-aware with the load
// fall-back.
std::unique_ptr<Policy> MakeAutoPolicy(AffinityOptions affinity = {}, PrefixOptions prefix = {});

// "round_robin", "least_outstanding", "p2c", "session_affinity", "prefix", "auto".
Result<std::unique_ptr<Policy>> MakePolicy(std::string_view name, AffinityOptions affinity = {},
                                           PrefixOptions prefix = {});
std::vector<std::string> PolicyNames();

}  // namespace dte::router
