#pragma once
// Speed of a loaded model, measured the way llama-bench and llama-batched-bench measure it, so
// the two can be put side by side (see docs/performance.md and bench/compare_llama.sh):
//
//   prefill: one ForwardSequence over `prompt_tokens` seeded random ids from a fresh state,
//            logits for the last token only (llama-bench "pp<N>");
//   decode:  `gen_tokens` ForwardSequence calls of one token each from a fresh state, logits
//            for every token, ids seeded random rather than sampled so sampling cost stays out
//            (llama-bench "tg<N>").
//
// One untimed warm-up (a full prefill and one decode step) runs first, so page faults on the
// mapped weights and Scratch growth are not charged to the first repetition.
//
// Batched decode (llama-batched-bench "S_TG"): B fresh states advance together, one
// Model::ForwardBatch call per step with one token and logits for each, so each weight is read
// once per step for all B sequences; aggregate tokens/s = B * gen_tokens / time.
//
// Thread-safety: the Measure functions are plain functions; each uses its own Scratch and pool.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"

namespace dte::cli {

struct PerfOptions {
  int64_t prompt_tokens = 512;
  int64_t gen_tokens = 128;
  int threads = 2;
  int repeat = 3;
  uint64_t seed = 42;
};

// What a model reads per token: every weight once, except the embedding table, of which a
// decode step reads one row.
struct WeightTraffic {
  size_t weight_bytes = 0;     // all tensors as stored in the file
  size_t bytes_per_token = 0;  // weight_bytes - embedding table + one embedding row
  int64_t weights_per_token = 0;  // the same count in weights (one multiply-add each per token)
  std::string weight_type;     // the dtype holding most of the bytes, e.g. "F16"
};
WeightTraffic MeasureWeightTraffic(const Model& model);

struct PerfRun {
  double prefill_s = 0;  // one prefill of prompt_tokens
  double decode_s = 0;   // gen_tokens single-token steps
};

struct PerfResult {
  std::vector<PerfRun> runs;  // one per repetition, in order
  double prefill_tok_s = 0;   // median over runs
  double decode_tok_s = 0;    // median over runs
  double decode_ms_per_token = 0;
};

// Runs options.repeat repetitions; `progress` (may be empty) is told after each one.
PerfResult MeasurePerf(const Model& model, const PerfOptions& options,
                       const std::function<void(int rep, const PerfRun&)>& progress);

struct BatchDecodeResult {
  int batch = 0;
  std::vector<double> runs_s;     // gen_tokens steps, one entry per repetition
  double decode_tok_s = 0;        // aggregate over the batch, median over runs
  double per_sequence_tok_s = 0;  // decode_tok_s / batch
  double step_ms = 0;             // one step of the whole batch
};

// For each batch size (each >= 1): one untimed warm-up step, then options.repeat repetitions
// of options.gen_tokens steps from fresh states. `progress` (may be empty) is told after each size.
std::vector<BatchDecodeResult> MeasureBatchDecode(
    const Model& model, const PerfOptions& options, const std::vector<int>& batch_sizes,
    const std::function<void(const BatchDecodeResult&)>& progress);

// Median of a list (mean of the middle two for even sizes; 0 for an empty list).
double Median(std::vector<double> values);

// Peak resident set size of this process so far, in bytes (VmHWM; falls back to getrusage).
int64_t PeakRssBytes();

}  // namespace dte::cli
