// dte generate: stream a continuation of a prompt to stdout, then one summary line to stderr.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "base/clock.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "model/model_tokenizer.h"
#include "model/sampler.h"
#include "model/stop_matcher.h"

namespace dte::cli {
namespace {

void Emit(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

int RunGenerate(int argc, char** argv) {
  CLI::App app("Generate a continuation of a prompt", "dte generate");
  std::string model_path, prompt, vocab;
  int max_tokens = 100, threads = 2;
  SamplingParams params;
  params.temperature = 1.0f;
  params.top_p = 0.85f;
  uint64_t seed = 0;
  std::vector<std::string> stops;
  app.add_option("--model", model_path, "model file (.bin, .gguf, .safetensors)")->required();
  app.add_option("--prompt", prompt, "prompt text")->required();
  app.add_option("--max-tokens", max_tokens, "tokens to generate")->check(CLI::Range(0, 1 << 20));
  app.add_option("--temperature", params.temperature, "0 = greedy")->check(CLI::Range(0.0, 100.0));
  app.add_option("--top-p", params.top_p, "nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  app.add_option("--top-k", params.top_k, "keep the k likeliest tokens (0 = off)")->check(CLI::NonNegativeNumber);
  app.add_option("--min-p", params.min_p, "drop tokens below min_p * p_max")->check(CLI::Range(0.0, 1.0));
  app.add_option("--presence-penalty", params.presence_penalty, "RWKV presence penalty");
  app.add_option("--frequency-penalty", params.frequency_penalty, "RWKV frequency penalty");
  auto* seed_opt = app.add_option("--seed", seed, "make sampling reproducible");
  app.add_option("--stop", stops, "stop string (repeatable)");
  app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 256));
  app.add_option("--vocab", vocab, "World vocabulary file (default: the shipped one)");
  CLI11_PARSE(app, argc, argv);
  if (seed_opt->count() > 0) params.seed = seed;

  auto file = ReadModelFile(model_path);
  if (!file.ok()) return Fail("dte generate", file.status());
  auto tokenizer = TokenizerForModel(*file, vocab);
  if (!tokenizer.ok()) return Fail("dte generate", tokenizer.status());
  auto model = Model::FromFile(std::move(*file));
  if (!model.ok()) return Fail("dte generate", model.status());
  const int64_t n_vocab = (*model)->config().n_vocab;
  if (Status s = params.Validate(n_vocab); !s.ok()) return Fail("dte generate", s);
  if (Status s = StopMatcher::Validate(stops); !s.ok()) return Fail("dte generate", s);
  std::vector<int32_t> tokens = (*tokenizer)->Encode(prompt);
  if (tokens.empty()) return Fail("dte generate", Status::InvalidArgument("the prompt is empty"));

  ThreadPool pool(threads);
  Scratch scratch;
  State state = (*model)->NewState();
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  Sampler sampler(params, n_vocab);
  StopMatcher stop({}, stops);

  auto t0 = SteadyClock::now();
  (*model)->ForwardSequence(tokens, state, logits.data(), scratch, &pool);
  const double prefill_s = SecondsSince(t0);

  auto t1 = SteadyClock::now();
  int generated = 0;
  for (; generated < max_tokens; ++generated) {
    int32_t next = sampler.Sample(logits);
    sampler.Accept(next);
    StopStep step = stop.Feed(next, (*tokenizer)->Decode(std::span<const int32_t>(&next, 1)));
    Emit(step.text);
    if (step.stopped) {
      ++generated;
      break;
    }
    if (generated + 1 < max_tokens)
      (*model)->ForwardSequence(std::span<const int32_t>(&next, 1), state, logits.data(), scratch, &pool);
  }
  if (!stop.stopped()) Emit(stop.Finish().text);
  const double decode_s = SecondsSince(t1);
  Emit("\n");
  std::fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tok/s); decode: %d tokens in %.3f s (%.1f tok/s)\n",
               tokens.size(), prefill_s, static_cast<double>(tokens.size()) / std::max(prefill_s, 1e-9),
               generated, decode_s, generated / std::max(decode_s, 1e-9));
  return 0;
}

const RegisterCommand kRegister("generate", "stream a continuation of a prompt", RunGenerate);

}  // namespace
}  // namespace dte::cli
