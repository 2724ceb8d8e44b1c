#pragma once
// PlanBatch: which sequences a scheduler step runs and how many tokens each. Pure (no model,
// no clock), so the rules are tested directly:
//
//   1. Every decoding sequence advances by one token, every step: generation never starves,
//      and sequences that run side by side keep their own pace (no cohorts that stall and
//      then finish together).
//   2. Prompts share the rest of the step's token budget, oldest admitted first, at most
//      `chunk_cap` tokens each; the oldest waiting prompt gets at least
//      min(chunk_cap, prefill_floor) tokens even when the decodes alone fill the budget, so
//      prompts progress under any decode load and a new request's prompt starts within a
//      step or two of admission.
//
// The scheduler derives the budget from its target step time and the measured step cost
// (StepCostModel): under a steady load everything waiting fits and a step is just as long as
// its work; the budget only binds when a burst of prompts arrives, and then spreads the burst
// over several steps while generation goes on.

#include <cstdint>
#include <span>
#include <vector>

namespace dte {

struct PlanCandidate {
  bool decoding = false;    // wants one token (its last sampled one)
  int64_t prompt_left = 0;  // prompt tokens still to run (0 when decoding)
};

struct PlanOptions {
  int64_t token_budget = 256;  // decodes + prompt tokens, soft (see rule 2)
  int64_t chunk_cap = 1024;    // prompt tokens per sequence per step
  int64_t prefill_floor = 256; // the oldest prompt's minimum per step
};

// takes[i] = tokens candidate i runs this step (0: not in the step). Candidates are in
// admission order.
void PlanBatch(std::span<const PlanCandidate> candidates, const PlanOptions& options,
               std::vector<int64_t>* takes);

}  // namespace dte
