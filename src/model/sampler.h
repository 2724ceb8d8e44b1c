#pragma once
// Token sampling: turns one step's logits into the next token id.
//
// Pipeline per token (each stage optional):
//   logit_bias -> repetition penalties (RWKV style) -> temperature -> top-k -> top-p -> min-p
//   -> draw from the renormalized distribution with a seeded PRNG.
// temperature == 0 means greedy: argmax after bias and penalties.
//
// A Sampler belongs to one sequence and is used by one thread at a time. Every buffer it needs is
// allocated in the constructor (about 19 bytes per vocabulary entry: 1.2 MiB for RWKV World's
// 65536 tokens), so Sample/Accept never allocate. Sample costs O(n_vocab): top-k and top-p find
// their cut with a histogram of log-probabilities and sort only the tokens of the one bucket the
// cut falls in (top-p after top-k adds an O(k) selection).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "base/status.h"

namespace dte {

struct SamplingParams {
  float temperature = 1.0f;  // 0 = greedy; otherwise p ~ exp(logit / temperature)
  float top_p = 1.0f;        // nucleus mass in (0, 1]; 1 = off
  int top_k = 0;             // keep the k most likely tokens; 0 = off
  float min_p = 0.0f;        // drop tokens with p < min_p * p_max; 0 = off
  // RWKV penalties (as ChatRWKV): logit[t] -= presence_penalty + count[t] * frequency_penalty
  // for every token t generated so far, where count[t] is multiplied by penalty_decay at each
  // generated token before the new one adds 1. Presence stays even when the count has decayed.
  float presence_penalty = 0.0f;
  float frequency_penalty = 0.0f;
  float penalty_decay = 0.996f;  // in [0, 1]; 1 = no decay
  // Added to the logit of the token (before penalties). -inf bans a token; +inf is rejected.
  std::vector<std::pair<int32_t, float>> logit_bias;
  std::optional<uint64_t> seed;  // same seed + same logits = same tokens; none = random

  // InvalidArgument (naming the parameter) for values a request must not carry.
  Status Validate(int64_t n_vocab) const;
};

class Sampler {
 public:
  // `params` must be valid for `n_vocab` (CHECKed: call params.Validate first on user input).
  Sampler(const SamplingParams& params, int64_t n_vocab);

  // Picks the next token. `logits` must hold n_vocab values; they are modified in place: on
  // return they hold the logits after bias and penalties (before temperature), which callers
  // may use for log-probabilities. NaN logits are treated as -inf. If no token has a finite
  // logit, returns the argmax (the first +inf, or token 0 when all are -inf/NaN).
  int32_t Sample(std::span<float> logits);

  // Everything Sample does except the draw: modifies `logits` the same way and returns the
  // tokens Sample could pick (unordered; just the argmax when greedy). Valid until the next call.
  // For tests and diagnostics; it does not advance the PRNG.
  std::span<const int32_t> Candidates(std::span<float> logits);

  // Records a generated token for the penalties: decays every count by penalty_decay, then adds
  // 1 to the token's count. Call it for generated tokens only, never for prompt tokens.
  void Accept(int32_t token);

  // Forgets all generated tokens (the PRNG stream continues).
  void ResetPenalties();

  // Applies logit_bias and penalties in place (the first stage of Sample).
  void ApplyBiasAndPenalties(std::span<float> logits) const;

  // The decayed count of `token` (0 if never generated).
  float Count(int32_t token) const;

  const SamplingParams& params() const { return params_; }
  int64_t n_vocab() const { return n_vocab_; }
  // The seed in use: params.seed, or the one drawn from std::random_device.
  uint64_t seed() const { return seed_; }

 private:
  // xoshiro256** seeded through splitmix64: small, fast, and identical on every platform.
  class Rng {
   public:
    explicit Rng(uint64_t seed);
    uint64_t Next();
    double Uniform();  // [0, 1) with 53 random bits
   private:
    uint64_t s_[4];
  };

  static int32_t Argmax(std::span<const float> logits);
  static constexpr size_t kDense = ~size_t{0};
  // The shared part of Sample and Candidates. Returns a token when no draw is needed (greedy,
  // no finite logit); otherwise -1 and sets *n to the number of candidates in index_, or to
  // kDense when every token with weight > 0 is one (no filter active; index_ not filled).
  int32_t Prepare(std::span<float> logits, size_t* n);
  // probs_[i] = exp((logit - max) / T), 0 for -inf/NaN logits and weights below ~1e-38. With
  // `buckets`, also bucket_[i]: |logit - max| / T in 1/16 nats (monotone in the logit), or
  // kZeroBucket for weight 0.
  void ComputeWeights(std::span<const float> logits, float max_logit, bool buckets);
  // Fills index_ with the tokens that survive top-k, top-p and min-p; returns how many.
  size_t Filter(std::span<const float> logits);
  void BuildHistogram();
  // Moves to index_ the tokens of buckets < `bucket` with weight >= min_weight (front, count
  // returned) and those of bucket `bucket` (back: index_[n_vocab - *n_boundary, n_vocab)).
  size_t Partition(int bucket, float min_weight, size_t* n_boundary);
  size_t FilterTopK(std::span<const float> logits);
  size_t FilterTopP(std::span<const float> logits);
  size_t ApplyMinP(size_t n);
  size_t ApplyTopP(std::span<const float> logits, size_t n, double top_k_mass);
  double Mass(size_t n) const;
  // Draws from index_[0, n) by weight.
  int32_t DrawCandidate(size_t n);
  // Draws from all tokens by weight (no filter active), walking block sums.
  int32_t DrawDense();

  static constexpr int kBucketsPerNat = 16;
  static constexpr int kZeroBucket = 88 * kBucketsPerNat;  // after all weights >= e^-87
  static constexpr size_t kBlock = 64;                     // tokens per block of DrawDense

  SamplingParams params_;
  int64_t n_vocab_;
  float inv_temperature_;  // 1 / temperature, capped; unused when greedy
  uint64_t seed_;
  Rng rng_;

  // Penalty counts: the decayed count of t is raw_counts_[t] * count_scale_. Decaying all counts
  // is then one multiply of count_scale_; raw counts are folded back when the scale gets tiny.
  std::vector<float> raw_counts_;
  double count_scale_ = 1.0;
  std::vector<int32_t> generated_;  // distinct tokens generated so far (capacity n_vocab)
  std::vector<uint8_t> seen_;       // seen_[t] == 1 iff t is in generated_

  // Scratch for Sample.
  std::vector<float> probs_;            // [n_vocab] unnormalized probabilities, max 1
  std::vector<int32_t> index_;          // [n_vocab] candidate tokens
  std::vector<double> block_mass_;      // [n_vocab / kBlock] for DrawDense
  std::vector<uint16_t> bucket_;        // [n_vocab] see ComputeWeights
  std::vector<uint32_t> bucket_count_;  // [kZeroBucket + 1]
  std::vector<double> bucket_mass_;     // [kZeroBucket + 1]
};

}  // namespace dte
