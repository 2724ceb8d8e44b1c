#include "model/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace dte {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<float> RandomLogits(int n, uint64_t seed, float scale = 3.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> logits(n);
  for (float& l : logits) l = dist(rng);
  return logits;
}

int32_t ArgmaxOf(const std::vector<float>& v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

std::vector<double> Softmax(const std::vector<float>& logits, double temperature) {
  const double max = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double sum = 0;
  for (size_t i = 0; i < logits.size(); ++i)
    sum += p[i] = std::exp((logits[i] - max) / temperature);
  for (double& x : p) x /= sum;
  return p;
}

// Draws `n` tokens from fresh copies of `logits` and counts them.
std::vector<int> Histogram(Sampler& sampler, const std::vector<float>& logits, int n) {
  std::vector<int> counts(logits.size(), 0);
  std::vector<float> work(logits.size());
  for (int i = 0; i < n; ++i) {
    work = logits;
    ++counts[sampler.Sample(work)];
  }
  return counts;
}

// Pearson chi-square statistic of observed counts against expected probabilities (cells with
// zero expected probability must be empty).
double ChiSquare(const std::vector<int>& counts, const std::vector<double>& p, int n) {
  double chi2 = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "token " << i << " should be impossible";
      continue;
    }
    const double expected = p[i] * n;
    chi2 += (counts[i] - expected) * (counts[i] - expected) / expected;
  }
  return chi2;
}

SamplingParams Seeded(uint64_t seed = 42) {
  SamplingParams p;
  p.seed = seed;
  return p;
}

TEST(SamplerTest, GreedyIsArgmax) {
  SamplingParams params = Seeded();
  params.temperature = 0;
  Sampler sampler(params, 1000);
  for (uint64_t trial = 0; trial < 20; ++trial) {
    std::vector<float> logits = RandomLogits(1000, trial);
    const int32_t expected = ArgmaxOf(logits);
    EXPECT_EQ(sampler.Sample(logits), expected);
  }
}

TEST(SamplerTest, GreedyTieTakesFirstAndSkipsNaN) {
  SamplingParams params = Seeded();
  params.temperature = 0;
  Sampler sampler(params, 5);
  std::vector<float> logits = {std::nanf(""), 1.0f, 3.0f, 3.0f, 2.0f};
  EXPECT_EQ(sampler.Sample(logits), 2);
}

TEST(SamplerTest, PositiveBiasForcesToken) {
  SamplingParams params = Seeded();
  params.logit_bias = {{7, 100.0f}};
  Sampler sampler(params, 50);
  for (int i = 0; i < 200; ++i) {
    std::vector<float> logits = RandomLogits(50, i);
    EXPECT_EQ(sampler.Sample(logits), 7);
  }
}

TEST(SamplerTest, NegativeInfinityBiasBansToken) {
  SamplingParams params = Seeded();
  params.logit_bias = {{0, -kInf}};
  Sampler sampler(params, 3);
  for (int i = 0; i < 500; ++i) {
    std::vector<float> logits = {5.0f, 0.0f, 0.0f};
    EXPECT_NE(sampler.Sample(logits), 0);
  }
  params.temperature = 0;
  Sampler greedy(params, 3);
  std::vector<float> logits = {5.0f, 1.0f, 2.0f};
  EXPECT_EQ(greedy.Sample(logits), 2);
}

TEST(SamplerTest, AllTokensBannedFallsBackToArgmax) {
  SamplingParams params = Seeded();
  params.logit_bias = {{0, -kInf}, {1, -kInf}};
  Sampler sampler(params, 2);
  std::vector<float> logits = {1.0f, 2.0f};
  EXPECT_EQ(sampler.Sample(logits), 0);  // no finite logit left: first token
}

TEST(SamplerTest, SampleLeavesBiasedPenalizedLogits) {
  SamplingParams params = Seeded();
  params.logit_bias = {{1, 2.5f}};
  params.presence_penalty = 1.0f;
  Sampler sampler(params, 4);
  sampler.Accept(3);
  std::vector<float> logits = {0.0f, 1.0f, 2.0f, 3.0f};
  sampler.Sample(logits);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 3.5f, 2.0f, 2.0f}));
}

// Hand computation with exactly representable numbers (decay 0.5):
//   Accept(1): c1 = 1
//   Accept(1): c1 = 1 * 0.5 + 1 = 1.5
//   Accept(2): c1 = 0.75, c2 = 1
//   logit1 -= 0.25 + 0.75 * 1.0 = 1.0; logit2 -= 0.25 + 1 * 1.0 = 1.25; others untouched.
TEST(SamplerTest, PenaltiesMatchHandComputation) {
  SamplingParams params = Seeded();
  params.presence_penalty = 0.25f;
  params.frequency_penalty = 1.0f;
  params.penalty_decay = 0.5f;
  Sampler sampler(params, 4);
  sampler.Accept(1);
  EXPECT_EQ(sampler.Count(1), 1.0f);
  sampler.Accept(1);
  EXPECT_EQ(sampler.Count(1), 1.5f);
  sampler.Accept(2);
  EXPECT_EQ(sampler.Count(1), 0.75f);
  EXPECT_EQ(sampler.Count(2), 1.0f);
  EXPECT_EQ(sampler.Count(0), 0.0f);

  std::vector<float> logits = {0.0f, 0.0f, 0.0f, 0.0f};
  sampler.ApplyBiasAndPenalties(logits);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, -1.0f, -1.25f, 0.0f}));
}

// The default decay over a longer sequence, against a straightforward double-precision model of
// the RWKV reference loop (decay every count, then add 1 to the new token).
TEST(SamplerTest, PenaltiesWithDecayOverManySteps) {
  SamplingParams params = Seeded();
  params.presence_penalty = 0.4f;
  params.frequency_penalty = 0.7f;
  const int n_vocab = 16;
  Sampler sampler(params, n_vocab);
  const double decay = params.penalty_decay;  // the float value, widened
  std::vector<double> counts(n_vocab, 0.0);
  std::vector<bool> seen(n_vocab, false);
  std::mt19937 rng(7);
  for (int step = 0; step < 300; ++step) {
    const int32_t token = static_cast<int32_t>(rng() % 5) + 3;  // tokens 3..7
    for (double& c : counts) c *= decay;
    counts[token] += 1;
    seen[token] = true;
    sampler.Accept(token);
  }
  std::vector<float> logits(n_vocab, 1.0f);
  sampler.ApplyBiasAndPenalties(logits);
  for (int t = 0; t < n_vocab; ++t) {
    const double expected = seen[t] ? 1.0 - (0.4f + counts[t] * 0.7f) : 1.0;
    EXPECT_NEAR(sampler.Count(t), counts[t], 1e-4 * std::max(1.0, counts[t])) << t;
    EXPECT_NEAR(logits[t], expected, 1e-4 * std::max(1.0, std::abs(expected))) << t;
  }
}

// Many steps with a fast decay drive the lazy scale factor through several renormalizations.
TEST(SamplerTest, DecayScaleRenormalizes) {
  SamplingParams params = Seeded();
  params.frequency_penalty = 1.0f;
  params.penalty_decay = 0.5f;
  Sampler sampler(params, 8);
  sampler.Accept(4);
  for (int i = 0; i < 1000; ++i) sampler.Accept(3);
  EXPECT_NEAR(sampler.Count(3), 2.0f, 1e-5);  // 1 + 1/2 + 1/4 + ... -> 2
  EXPECT_NEAR(sampler.Count(4), 0.0f, 1e-30);
  EXPECT_TRUE(std::isfinite(sampler.Count(3)));
}

TEST(SamplerTest, ZeroDecayKeepsOnlyLastTokenCountButPresenceStays) {
  SamplingParams params = Seeded();
  params.presence_penalty = 1.0f;
  params.frequency_penalty = 10.0f;
  params.penalty_decay = 0.0f;
  Sampler sampler(params, 4);
  sampler.Accept(1);
  sampler.Accept(2);
  EXPECT_EQ(sampler.Count(1), 0.0f);
  EXPECT_EQ(sampler.Count(2), 1.0f);
  std::vector<float> logits(4, 0.0f);
  sampler.ApplyBiasAndPenalties(logits);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, -1.0f, -11.0f, 0.0f}));
}

TEST(SamplerTest, ResetPenaltiesForgetsTokens) {
  SamplingParams params = Seeded();
  params.presence_penalty = 1.0f;
  Sampler sampler(params, 4);
  sampler.Accept(1);
  sampler.ResetPenalties();
  EXPECT_EQ(sampler.Count(1), 0.0f);
  std::vector<float> logits(4, 0.0f);
  sampler.ApplyBiasAndPenalties(logits);
  EXPECT_EQ(logits, std::vector<float>(4, 0.0f));
}

TEST(SamplerTest, SameSeedSameTokens) {
  const std::vector<float> logits = RandomLogits(500, 1, 1.0f);
  Sampler a(Seeded(123), 500), b(Seeded(123), 500);
  EXPECT_EQ(a.seed(), 123u);
  for (int i = 0; i < 300; ++i) {
    std::vector<float> la = logits, lb = logits;
    ASSERT_EQ(a.Sample(la), b.Sample(lb)) << "draw " << i;
  }
}

TEST(SamplerTest, DifferentSeedsDiffer) {
  const std::vector<float> logits = RandomLogits(500, 1, 1.0f);
  Sampler a(Seeded(1), 500), b(Seeded(2), 500);
  int same = 0;
  for (int i = 0; i < 300; ++i) {
    std::vector<float> la = logits, lb = logits;
    same += a.Sample(la) == b.Sample(lb);
  }
  EXPECT_LT(same, 100);
}

TEST(SamplerTest, UnseededSamplersPickRandomSeeds) {
  Sampler a(SamplingParams{}, 10), b(SamplingParams{}, 10);
  EXPECT_NE(a.seed(), b.seed());
}

TEST(SamplerTest, TopKOneIsGreedy) {
  SamplingParams params = Seeded();
  params.top_k = 1;
  params.temperature = 1.5f;
  Sampler sampler(params, 300);
  for (uint64_t trial = 0; trial < 100; ++trial) {
    std::vector<float> logits = RandomLogits(300, trial, 0.5f);
    const int32_t expected = ArgmaxOf(logits);
    EXPECT_EQ(sampler.Sample(logits), expected);
  }
}

TEST(SamplerTest, TinyTopPKeepsOnlyTheHead) {
  SamplingParams params = Seeded();
  params.top_p = 0.001f;  // below 1 / n_vocab <= p_max
  Sampler sampler(params, 300);
  for (uint64_t trial = 0; trial < 100; ++trial) {
    std::vector<float> logits = RandomLogits(300, trial, 0.5f);
    const int32_t expected = ArgmaxOf(logits);
    EXPECT_EQ(sampler.Sample(logits), expected);
  }
}

std::set<int32_t> CandidateSet(const SamplingParams& params, std::vector<float> logits) {
  Sampler sampler(params, logits.size());
  const std::span<const int32_t> c = sampler.Candidates(logits);
  return {c.begin(), c.end()};
}

TEST(SamplerTest, CandidatesTopKBreaksTiesByTokenId) {
  const std::vector<float> logits = {1.0f, 3.0f, 3.0f, 2.0f, 3.0f, -kInf};
  SamplingParams params = Seeded();
  EXPECT_EQ(CandidateSet(params, logits), (std::set<int32_t>{0, 1, 2, 3, 4}));
  params.top_k = 1;
  EXPECT_EQ(CandidateSet(params, logits), (std::set<int32_t>{1}));
  params.top_k = 2;
  EXPECT_EQ(CandidateSet(params, logits), (std::set<int32_t>{1, 2}));
  params.top_k = 4;
  EXPECT_EQ(CandidateSet(params, logits), (std::set<int32_t>{1, 2, 3, 4}));
  params.top_k = 6;  // more than the tokens with weight: -inf stays out
  EXPECT_EQ(CandidateSet(params, logits), (std::set<int32_t>{0, 1, 2, 3, 4}));
  params.temperature = 0;
  EXPECT_EQ(CandidateSet(params, logits), (std::set<int32_t>{1}));
}

TEST(SamplerTest, CandidatesDoNotAdvanceTheRandomStream) {
  const std::vector<float> logits = RandomLogits(100, 3, 1.0f);
  Sampler a(Seeded(8), 100), b(Seeded(8), 100);
  for (int i = 0; i < 50; ++i) {
    std::vector<float> la = logits, lb = logits, lc = logits;
    b.Candidates(lc);
    ASSERT_EQ(a.Sample(la), b.Sample(lb));
  }
}

// p = {0.5, 0.3, 0.2}: top_p 0.7 keeps {0, 1}, renormalized to {0.625, 0.375}.
TEST(SamplerTest, TopPKeepsTheNucleusRenormalized) {
  SamplingParams params = Seeded(5);
  params.top_p = 0.7f;
  Sampler sampler(params, 3);
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  const int n = 20000;
  const std::vector<int> counts = Histogram(sampler, logits, n);
  EXPECT_LT(ChiSquare(counts, {0.625, 0.375, 0.0}, n), 10.83);  // 1 dof, p = 0.001
}

// A nucleus much larger than the first partial-sort chunk, checked against a full sort.
TEST(SamplerTest, LargeNucleusMatchesFullSort) {
  const int n_vocab = 4000;
  const std::vector<float> logits = RandomLogits(n_vocab, 99, 0.3f);
  const std::vector<double> p = Softmax(logits, 1.0);
  std::vector<int32_t> order(n_vocab);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
  std::set<int32_t> nucleus;
  double cumulative = 0;
  for (int32_t t : order) {
    nucleus.insert(t);
    cumulative += p[t];
    if (cumulative >= 0.8) break;
  }
  ASSERT_GT(nucleus.size(), 1000u);

  SamplingParams params = Seeded();
  params.top_p = 0.8f;
  Sampler sampler(params, n_vocab);
  std::vector<float> work = logits;
  const std::span<const int32_t> candidates = sampler.Candidates(work);
  const std::set<int32_t> got(candidates.begin(), candidates.end());
  int differ = 0;
  for (int t = 0; t < n_vocab; ++t) differ += got.count(t) != nucleus.count(t);
  EXPECT_LE(differ, 2);  // rounding may move the boundary by a token
  const std::vector<int> counts = Histogram(sampler, logits, 5000);
  int outside = 0;
  for (int t = 0; t < n_vocab; ++t) {
    if (!nucleus.count(t)) outside += counts[t];
  }
  // Rounding may move the boundary by a token or two; nothing beyond that.
  EXPECT_LE(outside, 5);
}

// Random filter settings against a reference built with a full sort: every drawn token must be
// in the reference's allowed set. Trials whose top-p boundary is within rounding are skipped.
TEST(SamplerTest, FiltersMatchFullSortReference) {
  std::mt19937 rng(31);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    const int n_vocab = 50 + rng() % 400;
    const float spread = 0.2f + (rng() % 30) / 10.0f;
    const std::vector<float> logits = RandomLogits(n_vocab, 1000 + trial, spread);
    SamplingParams params = Seeded(trial);
    params.temperature = 0.3f + (rng() % 20) / 10.0f;
    params.top_k = (rng() % 3 == 0) ? 0 : 1 + rng() % n_vocab;
    params.top_p = (rng() % 4 == 0) ? 1.0f : 0.05f + (rng() % 95) / 100.0f;
    params.min_p = (rng() % 3 == 0) ? 0.0f : (rng() % 50) / 100.0f;

    const std::vector<double> p = Softmax(logits, params.temperature);
    std::vector<int32_t> order(n_vocab);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
    size_t keep = params.top_k > 0 ? std::min<size_t>(params.top_k, n_vocab) : n_vocab;
    double top_k_mass = 0;
    for (size_t i = 0; i < keep; ++i) top_k_mass += p[order[i]];
    bool ambiguous = false;
    if (params.top_p < 1) {
      double cumulative = 0;
      for (size_t i = 0; i < keep; ++i) {
        cumulative += p[order[i]];
        const double target = static_cast<double>(params.top_p) * top_k_mass;
        if (std::abs(cumulative - target) < 1e-5 * top_k_mass) ambiguous = true;
        if (cumulative >= target) {
          keep = i + 1;
          break;
        }
      }
    }
    std::set<int32_t> allowed;
    for (size_t i = 0; i < keep; ++i) {
      const double ratio = p[order[i]] / p[order[0]];
      if (std::abs(ratio - params.min_p) < 1e-5) ambiguous = true;
      if (ratio >= params.min_p) allowed.insert(order[i]);
    }
    if (ambiguous) continue;
    ++checked;

    Sampler sampler(params, n_vocab);
    std::vector<float> work = logits;
    const std::span<const int32_t> candidates = sampler.Candidates(work);
    EXPECT_EQ(std::set<int32_t>(candidates.begin(), candidates.end()), allowed)
        << "trial " << trial << " top_k " << params.top_k << " top_p " << params.top_p << " min_p "
        << params.min_p;
    const std::vector<int> counts = Histogram(sampler, logits, 300);
    for (int t = 0; t < n_vocab; ++t) {
      if (counts[t] > 0) {
        EXPECT_TRUE(allowed.count(t)) << "trial " << trial << " token " << t;
      }
    }
  }
  EXPECT_GT(checked, 50);
}

// p = {0.5, 0.3, 0.15, 0.05}: min_p 0.2 drops p < 0.1, i.e. token 3.
TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  SamplingParams params = Seeded(9);
  params.min_p = 0.2f;
  Sampler sampler(params, 4);
  const std::vector<float> logits = {std::log(0.5f), std::log(0.3f), std::log(0.15f),
                                     std::log(0.05f)};
  const int n = 20000;
  const std::vector<int> counts = Histogram(sampler, logits, n);
  EXPECT_LT(ChiSquare(counts, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0.0}, n), 16.27);  // 3 dof
}

// top-p is computed on the top-k set (before min-p): p = {0.4, 0.3, 0.2, 0.1}; top_k 3 gives
// {0.44, 0.33, 0.22}; top_p 0.7 keeps {0, 1}; min_p 0.8 then keeps only token 0 (0.3 < 0.32).
TEST(SamplerTest, FiltersCompose) {
  SamplingParams params = Seeded();
  params.top_k = 3;
  params.top_p = 0.7f;
  const std::vector<float> logits = {std::log(0.4f), std::log(0.3f), std::log(0.2f),
                                     std::log(0.1f)};
  {
    Sampler sampler(params, 4);
    const std::vector<int> counts = Histogram(sampler, logits, 5000);
    EXPECT_EQ(counts[2] + counts[3], 0);
    EXPECT_GT(counts[0], 0);
    EXPECT_GT(counts[1], 0);
  }
  params.min_p = 0.8f;
  Sampler sampler(params, 4);
  const std::vector<int> counts = Histogram(sampler, logits, 1000);
  EXPECT_EQ(counts[0], 1000);
}

TEST(SamplerTest, EmpiricalDistributionMatchesSoftmax) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 0.25f, 1.5f};
  const int n = 100000;
  Sampler sampler(Seeded(2024), logits.size());
  const std::vector<int> counts = Histogram(sampler, logits, n);
  EXPECT_LT(ChiSquare(counts, Softmax(logits, 1.0), n), 24.32);  // 7 dof, p = 0.001
}

TEST(SamplerTest, TemperatureSharpensDistribution) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 0.25f, 1.5f};
  const int n = 100000;
  SamplingParams params = Seeded(77);
  params.temperature = 0.5f;
  Sampler sampler(params, logits.size());
  const std::vector<int> counts = Histogram(sampler, logits, n);
  EXPECT_LT(ChiSquare(counts, Softmax(logits, 0.5), n), 24.32);
}

TEST(SamplerTest, TopKRenormalizes) {
  const std::vector<float> logits = {1.0f, 0.5f, 0.0f, -0.5f, 2.0f, -1.0f, 0.25f, 1.5f};
  SamplingParams params = Seeded(3);
  params.top_k = 3;  // tokens 4, 7, 0
  Sampler sampler(params, logits.size());
  const int n = 50000;
  const std::vector<int> counts = Histogram(sampler, logits, n);
  std::vector<double> p = Softmax(logits, 1.0);
  const double kept = p[4] + p[7] + p[0];
  for (int t = 0; t < 8; ++t) p[t] = (t == 4 || t == 7 || t == 0) ? p[t] / kept : 0.0;
  EXPECT_LT(ChiSquare(counts, p, n), 13.82);  // 2 dof
}

TEST(SamplerTest, NaNLogitIsNeverDrawn) {
  Sampler sampler(Seeded(), 3);
  for (int i = 0; i < 1000; ++i) {
    std::vector<float> logits = {0.0f, std::nanf(""), 0.0f};
    EXPECT_NE(sampler.Sample(logits), 1);
  }
}

TEST(SamplerTest, TinyTemperatureIsStable) {
  SamplingParams params = Seeded();
  params.temperature = 1e-38f;
  Sampler sampler(params, 100);
  std::vector<float> logits = RandomLogits(100, 5);
  const int32_t expected = ArgmaxOf(logits);
  EXPECT_EQ(sampler.Sample(logits), expected);
}

void ExpectInvalid(const SamplingParams& params, int64_t n_vocab, const std::string& name) {
  const Status status = params.Validate(n_vocab);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << name;
  EXPECT_NE(status.message().find(name), std::string::npos) << status.message();
}

TEST(SamplingParamsTest, DefaultsAreValid) { EXPECT_TRUE(SamplingParams{}.Validate(10).ok()); }

TEST(SamplingParamsTest, RejectsInvalidValues) {
  const float nan = std::nanf("");
  auto with = [](auto change) {
    SamplingParams p;
    change(p);
    return p;
  };
  ExpectInvalid(with([&](SamplingParams& p) { p.temperature = nan; }), 10, "temperature");
  ExpectInvalid(with([](SamplingParams& p) { p.temperature = -0.1f; }), 10, "temperature");
  ExpectInvalid(with([](SamplingParams& p) { p.temperature = kInf; }), 10, "temperature");
  ExpectInvalid(with([](SamplingParams& p) { p.top_p = 0.0f; }), 10, "top_p");
  ExpectInvalid(with([](SamplingParams& p) { p.top_p = 1.01f; }), 10, "top_p");
  ExpectInvalid(with([&](SamplingParams& p) { p.top_p = nan; }), 10, "top_p");
  ExpectInvalid(with([](SamplingParams& p) { p.top_k = -1; }), 10, "top_k");
  ExpectInvalid(with([](SamplingParams& p) { p.min_p = -0.1f; }), 10, "min_p");
  ExpectInvalid(with([](SamplingParams& p) { p.min_p = 1.5f; }), 10, "min_p");
  ExpectInvalid(with([&](SamplingParams& p) { p.min_p = nan; }), 10, "min_p");
  ExpectInvalid(with([&](SamplingParams& p) { p.presence_penalty = nan; }), 10, "presence_penalty");
  ExpectInvalid(with([&](SamplingParams& p) { p.frequency_penalty = kInf; }), 10,
                "frequency_penalty");
  ExpectInvalid(with([](SamplingParams& p) { p.penalty_decay = 1.5f; }), 10, "penalty_decay");
  ExpectInvalid(with([](SamplingParams& p) { p.logit_bias = {{10, 1.0f}}; }), 10, "logit_bias");
  ExpectInvalid(with([](SamplingParams& p) { p.logit_bias = {{-1, 1.0f}}; }), 10, "logit_bias");
  ExpectInvalid(with([&](SamplingParams& p) { p.logit_bias = {{3, nan}}; }), 10, "logit_bias");
  ExpectInvalid(with([](SamplingParams& p) { p.logit_bias = {{3, kInf}}; }), 10, "logit_bias");
}

TEST(SamplingParamsTest, AcceptsEdgeValues) {
  SamplingParams p;
  p.temperature = 0;
  p.top_p = 1.0f;
  p.min_p = 1.0f;
  p.penalty_decay = 0.0f;
  p.presence_penalty = -1.0f;  // negative penalties encourage repetition; allowed
  p.logit_bias = {{0, -kInf}, {9, 5.0f}};
  EXPECT_TRUE(p.Validate(10).ok());
}

}  // namespace
}  // namespace dte
