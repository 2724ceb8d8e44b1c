// Logit error of the reduced-precision paths on the real tiny models, measured through the
// `dte` binary (the kernel precision is chosen once per process, from the environment):
//   * the BF16 GEMM (DTE_KERNELS_BF16=all) against float kernels (=off), on a 200-token prompt
//     so every projection runs as a batched MatMul of >= kBf16MinInputs rows;
//   * Q8_0 weights (`dte convert --type q8_0` of the FP32 file) against the reference logits.
// The measured values are printed (docs/performance.md quotes them); the bounds are generous
// multiples of what was measured, so a broken kernel fails while rounding noise does not.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "golden/golden_test_util.h"
#include "kernels/cpu_features.h"
#include "system/run_command.h"

namespace dte::testing {
namespace {

const char* const kStems[] = {"4v0-660K", "5v1-730K", "5v2-730K", "6v0-1m", "7v0-834K"};

std::string TokenList(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

// The first 200 bytes of the tiny models' README: byte-level token ids.
std::vector<int> LongPrompt() {
  std::ifstream in(TinyDir() + "README.md", std::ios::binary);
  std::vector<int> ids;
  for (char c; ids.size() < 200 && in.get(c);) ids.push_back(static_cast<unsigned char>(c));
  return ids;
}

std::vector<float> Eval(const std::string& model, const std::string& tokens) {
  CommandResult r = RunDte({"eval", "--model", model, "--tokens", tokens});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return {};
  return nlohmann::json::parse(r.out)["logits"].get<std::vector<float>>();
}

size_t ArgMax(const std::vector<float>& v) {
  return static_cast<size_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) { setenv(name, value, 1); }
  ~ScopedEnv() { unsetenv(name_); }

 private:
  const char* name_;
};

TEST(PrecisionTest, Bf16GemmLogitErrorOnTinyModels) {
  if (!Bf16Supported()) GTEST_SKIP() << "no AVX512_BF16 on this CPU";
  const std::string tokens = TokenList(LongPrompt());
  ASSERT_EQ(LongPrompt().size(), 200u);
  for (const char* stem : kStems) {
    for (const char* type : {"FP32", "FP16"}) {
      const std::string model = TinyModel(stem, type);
      std::vector<float> exact, bf16;
      {
        ScopedEnv env("DTE_KERNELS_BF16", "off");
        exact = Eval(model, tokens);
      }
      {
        ScopedEnv env("DTE_KERNELS_BF16", "all");
        bf16 = Eval(model, tokens);
      }
      ASSERT_EQ(exact.size(), 256u);
      const float err = MaxAbsDiff(exact, bf16);
      std::printf("bf16 GEMM %s %s: max |logit error| %.4g over 200 tokens\n", stem, type, err);
      EXPECT_LE(err, 0.25f) << stem << " " << type;
      EXPECT_GT(err, 0.0f) << "the bf16 path did not run for " << stem;  // it must differ a little
      EXPECT_EQ(ArgMax(exact), ArgMax(bf16)) << stem << " " << type;
    }
  }
}

TEST(PrecisionTest, Q8_0LogitErrorOnTinyModels) {
  const std::string dir = "/tmp/dte_precision_test." + std::to_string(getpid());
  ASSERT_EQ(std::system(("mkdir -p " + dir).c_str()), 0);
  for (const char* stem : kStems) {
    const std::string q8 = dir + "/" + stem + "-Q8_0.bin";
    CommandResult c = RunDte({"convert", "--type", "q8_0", TinyModel(stem, "FP32"), q8});
    ASSERT_EQ(c.exit_code, 0) << c.err;
    const std::vector<float> logits = Eval(q8, "34,105,110");
    const std::vector<float> expected = ExpectedLogits(stem);
    ASSERT_EQ(logits.size(), 256u);
    const float err = MaxAbsDiff(logits, expected);
    std::printf("q8_0 %s: max |logit error| %.4g vs the reference\n", stem, err);
    EXPECT_LE(err, 0.5f) << stem;
    EXPECT_EQ(ArgMax(logits), ArgMax(expected)) << stem;
  }
  std::system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace dte::testing
