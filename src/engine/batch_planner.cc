#include "engine/batch_planner.h"

#include <algorithm>

namespace dte {

void PlanBatch(std::span<const PlanCandidate> candidates, const PlanOptions& options,
               std::vector<int64_t>* takes) {
  takes->assign(candidates.size(), 0);
  int64_t decodes = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (!candidates[i].decoding) continue;
    (*takes)[i] = 1;
    ++decodes;
  }
  int64_t budget = options.token_budget - decodes;
  bool first = true;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const PlanCandidate& c = candidates[i];
    if (c.decoding || c.prompt_left <= 0) continue;
    int64_t allowed = budget;
    if (first) allowed = std::max(allowed, std::min(options.chunk_cap, options.prefill_floor));
    first = false;
    if (allowed <= 0) break;
    const int64_t take = std::min({c.prompt_left, options.chunk_cap, allowed});
    (*takes)[i] = take;
    budget = allowed - take;
  }
}

}  // namespace dte
