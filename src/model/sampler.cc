#include "model/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <string>

namespace dte {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
// Below this the raw counts are folded into real counts (count_scale_ back to 1). Raw counts grow
// like 1/scale, so this keeps them far from float overflow (3.4e38).
constexpr double kMinCountScale = 1e-20;
// Caps 1/temperature so that (logit - max) * inv_t is never 0 * inf.
constexpr float kMaxInvTemperature = 1e30f;
// Top-p sorts ranges this small instead of splitting them further.
constexpr size_t kTopPSortBelow = 64;
// Weights of tokens with (logit - max) / T below -kMinExponent are taken as 0 (e^-87 ~ 1.6e-38,
// the smallest normal float).
constexpr float kMinExponent = 87.0f;

// exp(x) for x in [-87, 0] (and somewhat beyond), relative error < 3e-7. Branch-free so that the
// weights loop vectorizes (std::exp does not): x = k ln2 + r, |r| <= ln2 / 2, exp(r) by its
// degree-6 Taylor polynomial, 2^k built in the exponent bits.
inline float ExpNonPositive(float x) {
  constexpr float kRoundShift = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float k = (x * 1.44269504f + kRoundShift) - kRoundShift;
  const float r = (x - k * 0.693145752f) - k * 1.42860677e-6f;  // ln2 split in two parts
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  return p * std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
}

// The candidate order of every filter: higher logit first, lower token id on ties (as Argmax).
struct Better {
  std::span<const float> logits;
  bool operator()(int32_t a, int32_t b) const {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  }
};

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

Status Invalid(const char* name, const std::string& rule, double got) {
  return Status::InvalidArgument(std::string(name) + " must be " + rule + ", got " + Num(got));
}

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Sampler's constructor checks its params before sizing anything by n_vocab.
const SamplingParams& CheckValid(const SamplingParams& params, int64_t n_vocab) {
  const Status status = params.Validate(n_vocab);
  DTE_CHECK(status.ok(), "Sampler given invalid params: " + status.message());
  return params;
}

uint64_t RandomSeed() {
  std::random_device rd;
  const uint64_t high = rd();
  return (high << 32) ^ rd();
}

}  // namespace

Status SamplingParams::Validate(int64_t n_vocab) const {
  if (n_vocab <= 0) return Status::InvalidArgument("n_vocab must be positive, got " + Num(n_vocab));
  if (!std::isfinite(temperature) || temperature < 0) {
    return Invalid("temperature", "a finite number >= 0", temperature);
  }
  if (!(top_p > 0 && top_p <= 1)) return Invalid("top_p", "in (0, 1]", top_p);
  if (top_k < 0) return Invalid("top_k", ">= 0", top_k);
  if (!(min_p >= 0 && min_p <= 1)) return Invalid("min_p", "in [0, 1]", min_p);
  if (!std::isfinite(presence_penalty)) {
    return Invalid("presence_penalty", "a finite number", presence_penalty);
  }
  if (!std::isfinite(frequency_penalty)) {
    return Invalid("frequency_penalty", "a finite number", frequency_penalty);
  }
  if (!(penalty_decay >= 0 && penalty_decay <= 1)) {
    return Invalid("penalty_decay", "in [0, 1]", penalty_decay);
  }
  for (const auto& [token, bias] : logit_bias) {
    if (token < 0 || token >= n_vocab) {
      return Status::InvalidArgument("logit_bias token id " + std::to_string(token) +
                                     " is outside the vocabulary [0, " + std::to_string(n_vocab) +
                                     ")");
    }
    if (std::isnan(bias) || bias == kInf) {
      return Status::InvalidArgument("logit_bias for token " + std::to_string(token) +
                                     " must be a number or -inf, got " + Num(bias));
    }
  }
  return Status::Ok();
}

Sampler::Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = SplitMix64(seed);
}

uint64_t Sampler::Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Sampler::Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& params, int64_t n_vocab)
    : params_(CheckValid(params, n_vocab)),
      n_vocab_(n_vocab),
      inv_temperature_(
          params.temperature > 0 ? std::min(1.0f / params.temperature, kMaxInvTemperature) : 0.0f),
      seed_(params.seed ? *params.seed : RandomSeed()),
      rng_(seed_),
      raw_counts_(n_vocab, 0.0f),
      seen_(n_vocab, 0),
      probs_(n_vocab),
      index_(n_vocab),
      block_mass_((n_vocab + kBlock - 1) / kBlock),
      bucket_(n_vocab),
      bucket_count_(kZeroBucket + 1),
      bucket_mass_(kZeroBucket + 1) {
  generated_.reserve(n_vocab);
}

void Sampler::Accept(int32_t token) {
  DTE_CHECK(token >= 0 && token < n_vocab_, "Sampler::Accept: token out of range");
  const double scale = count_scale_ * params_.penalty_decay;
  if (scale < kMinCountScale) {
    // Fold the scale into the counts (O(distinct tokens), rare; every step when decay == 0).
    for (int32_t t : generated_) raw_counts_[t] = static_cast<float>(raw_counts_[t] * scale);
    count_scale_ = 1.0;
  } else {
    count_scale_ = scale;
  }
  raw_counts_[token] += static_cast<float>(1.0 / count_scale_);
  if (!seen_[token]) {
    seen_[token] = 1;
    generated_.push_back(token);  // never reallocates: capacity is n_vocab
  }
}

void Sampler::ResetPenalties() {
  for (int32_t t : generated_) {
    raw_counts_[t] = 0.0f;
    seen_[t] = 0;
  }
  generated_.clear();
  count_scale_ = 1.0;
}

float Sampler::Count(int32_t token) const {
  DTE_CHECK(token >= 0 && token < n_vocab_, "Sampler::Count: token out of range");
  return static_cast<float>(raw_counts_[token] * count_scale_);
}

void Sampler::ApplyBiasAndPenalties(std::span<float> logits) const {
  DTE_CHECK(static_cast<int64_t>(logits.size()) == n_vocab_, "logits size != n_vocab");
  for (const auto& [token, bias] : params_.logit_bias) logits[token] += bias;
  if (params_.presence_penalty == 0 && params_.frequency_penalty == 0) return;
  for (int32_t t : generated_) {
    const double count = raw_counts_[t] * count_scale_;
    logits[t] -= static_cast<float>(params_.presence_penalty + count * params_.frequency_penalty);
  }
}

int32_t Sampler::Argmax(std::span<const float> logits) {
  int32_t best = 0;
  float best_logit = -kInf;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > best_logit) {  // false for NaN; first index wins ties
      best_logit = logits[i];
      best = static_cast<int32_t>(i);
    }
  }
  return best;
}

void Sampler::ComputeWeights(std::span<const float> logits, float max_logit, bool buckets) {
  // Integer masks instead of float compares: GCC will not if-convert float compares (they may
  // trap), and this loop is most of the cost of a sampled token.
  constexpr uint32_t kLimitBits = std::bit_cast<uint32_t>(kMinExponent);
  const float* __restrict in = logits.data();
  float* __restrict out = probs_.data();
  uint16_t* __restrict bucket = bucket_.data();
  const float inv_t = inv_temperature_;
  for (size_t i = 0; i < logits.size(); ++i) {
    const uint32_t x = std::bit_cast<uint32_t>((in[i] - max_logit) * inv_t);  // <= 0 or NaN
    const uint32_t keep = 0u - static_cast<uint32_t>((x & 0x7fffffffu) <= kLimitBits);
    const float w = ExpNonPositive(std::bit_cast<float>(x & keep));  // exp(0) if dropped
    out[i] = std::bit_cast<float>(std::bit_cast<uint32_t>(w) & keep);
    if (buckets) {
      const float distance = std::bit_cast<float>(x & keep & 0x7fffffffu);  // |x| <= 87
      const uint32_t b = static_cast<uint32_t>(distance * kBucketsPerNat);
      bucket[i] = static_cast<uint16_t>((b & keep) | (kZeroBucket & ~keep));
    }
  }
}

void Sampler::BuildHistogram() {
  std::fill(bucket_count_.begin(), bucket_count_.end(), 0u);
  std::fill(bucket_mass_.begin(), bucket_mass_.end(), 0.0);
  for (size_t i = 0; i < probs_.size(); ++i) {
    ++bucket_count_[bucket_[i]];
    bucket_mass_[bucket_[i]] += probs_[i];
  }
}

size_t Sampler::Partition(int bucket, float min_weight, size_t* n_boundary) {
  const size_t n = probs_.size();
  size_t front = 0, back = 0;
  for (size_t i = 0; i < n; ++i) {
    // Branch-free for the front (the common case). front + back <= i, so the slot written here
    // is never one of the back's; the back write below may reuse it when the token goes there.
    index_[front] = static_cast<int32_t>(i);
    front += (bucket_[i] < bucket) & (probs_[i] >= min_weight);
    if (bucket_[i] == bucket) index_[n - 1 - back++] = static_cast<int32_t>(i);
  }
  *n_boundary = back;
  return front;
}

// Filters on the whole vocabulary would need sorting it. Instead the histogram of log-weight
// buckets tells which bucket the cut falls in: every token of the buckets before it survives,
// and only the tokens of that one bucket are sorted (buckets are monotone in the logit).
size_t Sampler::Filter(std::span<const float> logits) {
  const size_t k = static_cast<size_t>(std::max(params_.top_k, 0));
  if (k > 0 || params_.top_p < 1) {
    BuildHistogram();
    if (k > 0 && k < probs_.size() - bucket_count_[kZeroBucket]) return FilterTopK(logits);
    if (params_.top_p < 1) return FilterTopP(logits);
  }
  // Only min-p (or a top-k that keeps every token).
  const float min_weight = std::max(params_.min_p, std::numeric_limits<float>::min());
  size_t n = 0;
  for (size_t i = 0; i < probs_.size(); ++i) {
    index_[n] = static_cast<int32_t>(i);
    n += probs_[i] >= min_weight;
  }
  return n;
}

size_t Sampler::FilterTopK(std::span<const float> logits) {
  const size_t k = static_cast<size_t>(params_.top_k);
  int cut = 0;
  size_t before = 0;  // tokens in buckets < cut
  while (before + bucket_count_[cut] < k) before += bucket_count_[cut++];
  size_t n_boundary = 0;
  size_t n = Partition(cut, 0.0f, &n_boundary);
  // The best (k - before) of the cut bucket complete the top k. Order by logit (not weight) so
  // that top_k = 1 picks exactly what Argmax picks.
  const auto boundary = index_.end() - static_cast<ptrdiff_t>(n_boundary);
  const size_t take = k - before;
  if (take < n_boundary) std::nth_element(boundary, boundary + take, index_.end(), Better{logits});
  if (index_.begin() + n != boundary) std::copy(boundary, boundary + take, index_.begin() + n);
  n += take;
  const double top_k_mass = params_.top_p < 1 ? Mass(n) : 0.0;
  n = ApplyMinP(n);
  return ApplyTopP(logits, n, top_k_mass);
}

size_t Sampler::FilterTopP(std::span<const float> logits) {
  double total = 0;
  for (int b = 0; b < kZeroBucket; ++b) total += bucket_mass_[b];
  const double target = params_.top_p * total;
  int cut = 0;
  double before = 0;  // mass of buckets < cut; < target
  while (cut + 1 < kZeroBucket && before + bucket_mass_[cut] < target)
    before += bucket_mass_[cut++];
  size_t n_boundary = 0;
  size_t n = Partition(cut, params_.min_p, &n_boundary);
  const auto boundary = index_.end() - static_cast<ptrdiff_t>(n_boundary);
  std::sort(boundary, index_.end(), Better{logits});
  double cumulative = before;
  for (auto it = boundary; it != index_.end(); ++it) {
    const float w = probs_[*it];
    if (w >= params_.min_p) index_[n++] = *it;  // n <= its position: nothing is overwritten
    cumulative += w;
    if (cumulative >= target) break;
  }
  return n;
}

size_t Sampler::ApplyMinP(size_t n) {
  // The top token has weight exactly 1, so the threshold min_p * p_max is just min_p.
  if (params_.min_p <= 0) return n;
  size_t kept = 0;
  for (size_t i = 0; i < n; ++i) {
    if (probs_[index_[i]] >= params_.min_p) index_[kept++] = index_[i];
  }
  return kept;
}

// The nucleus is the shortest prefix (by descending probability) of the top-k set whose mass is
// >= top_p * top_k_mass. The candidates here are already min-p filtered; min-p also keeps a
// prefix, so stopping at whichever prefix is shorter gives top-p-then-min-p exactly.
//
// Only the set matters, not its order, so this is a quickselect on mass (expected O(n)): split
// the range at its median; if the better half holds enough mass the nucleus ends inside it,
// otherwise all of it is in and the rest is needed from the worse half.
size_t Sampler::ApplyTopP(std::span<const float> logits, size_t n, double top_k_mass) {
  if (params_.top_p >= 1) return n;
  const Better better{logits};
  double needed = params_.top_p * top_k_mass;
  size_t lo = 0, hi = n;  // [0, lo) is in the nucleus; it ends in (lo, hi]
  while (hi - lo > kTopPSortBelow) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(index_.begin() + lo, index_.begin() + mid, index_.begin() + hi, better);
    double mass = 0;
    for (size_t i = lo; i < mid; ++i) mass += probs_[index_[i]];
    if (mass >= needed) {
      hi = mid;
    } else {
      needed -= mass;
      lo = mid;
    }
  }
  std::sort(index_.begin() + lo, index_.begin() + hi, better);
  double cumulative = 0;
  for (size_t i = lo; i < hi; ++i) {
    cumulative += probs_[index_[i]];
    if (cumulative >= needed) return i + 1;
  }
  return hi;  // rounding: the sums above said [lo, hi) was enough
}

double Sampler::Mass(size_t n) const {
  double mass = 0;
  for (size_t i = 0; i < n; ++i) mass += probs_[index_[i]];
  return mass;
}

int32_t Sampler::DrawCandidate(size_t n) {
  const double u = rng_.Uniform() * Mass(n);
  double cumulative = 0;
  for (size_t i = 0; i < n; ++i) {
    cumulative += probs_[index_[i]];
    if (u < cumulative) return index_[i];
  }
  return index_[n - 1];  // u rounded up to the full mass
}

int32_t Sampler::DrawDense() {
  const size_t n = probs_.size();
  double total = 0;
  for (size_t b = 0; b < block_mass_.size(); ++b) {
    const size_t end = std::min(n, (b + 1) * kBlock);
    double s0 = 0, s1 = 0;  // two chains: half the add latency
    size_t i = b * kBlock;
    for (; i + 1 < end; i += 2) {
      s0 += probs_[i];
      s1 += probs_[i + 1];
    }
    if (i < end) s0 += probs_[i];
    block_mass_[b] = s0 + s1;
    total += block_mass_[b];
  }
  // Find the block, then the token, where the running mass passes u. If rounding lets u slip
  // past the end of a sum, take the last token with weight (the max has weight 1, so one exists).
  double u = rng_.Uniform() * total;
  size_t block = 0;
  while (block + 1 < block_mass_.size() && u >= block_mass_[block]) u -= block_mass_[block++];
  const size_t begin = block * kBlock, end = std::min(n, begin + kBlock);
  double cumulative = 0;
  int32_t last = -1;
  for (size_t i = begin; i < end; ++i) {
    if (probs_[i] <= 0) continue;
    cumulative += probs_[i];
    last = static_cast<int32_t>(i);
    if (u < cumulative) return last;
  }
  if (last >= 0) return last;
  for (size_t i = n; i-- > 0;) {
    if (probs_[i] > 0) return static_cast<int32_t>(i);
  }
  return 0;  // unreachable: the argmax has weight 1
}

int32_t Sampler::Prepare(std::span<float> logits, size_t* n) {
  ApplyBiasAndPenalties(logits);
  const int32_t best = Argmax(logits);
  if (params_.temperature == 0) return best;
  const float max_logit = logits[best];
  if (!std::isfinite(max_logit)) return best;  // all -inf/NaN, or a +inf dominates

  const bool filtered = params_.top_k > 0 || params_.top_p < 1 || params_.min_p > 0;
  ComputeWeights(logits, max_logit, /*buckets=*/params_.top_k > 0 || params_.top_p < 1);
  *n = filtered ? Filter(logits) : kDense;  // >= 1 token: the argmax always survives
  return -1;
}

int32_t Sampler::Sample(std::span<float> logits) {
  size_t n = 0;
  const int32_t token = Prepare(logits, &n);
  if (token >= 0) return token;
  return n == kDense ? DrawDense() : DrawCandidate(n);
}

std::span<const int32_t> Sampler::Candidates(std::span<float> logits) {
  size_t n = 0;
  const int32_t token = Prepare(logits, &n);
  if (token >= 0) {
    index_[0] = token;
    n = 1;
  } else if (n == kDense) {
    n = 0;
    for (size_t i = 0; i < probs_.size(); ++i) {
      if (probs_[i] > 0) index_[n++] = static_cast<int32_t>(i);
    }
  }
  return {index_.data(), n};
}

}  // namespace dte
