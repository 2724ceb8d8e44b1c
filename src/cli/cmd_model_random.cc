// dte model random: write a model with deterministic random weights in a real model's shapes
// (for load tests and benchmarks without shipping a trained model).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "base/clock.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/convert_util.h"
#include "model/gguf_vocab.h"
#include "model/model_tokenizer.h"
#include "model/random_model.h"

namespace dte::cli {
namespace {

// 65536 ids: the World vocabulary; otherwise the 256 byte tokens (ids past 255 unused).
Result<std::vector<std::string>> VocabFor(int64_t n_vocab, const std::string& vocab_path) {
  if (n_vocab == 65536 || !vocab_path.empty())
    return LoadWorldVocab(FindWorldVocab(vocab_path), n_vocab);
  if (n_vocab < 256) {
    return Status::InvalidArgument("--vocab " + std::to_string(n_vocab) +
                                   ": use 256 (bytes), 65536 (World) or more than 256");
  }
  std::vector<std::string> vocab = ByteVocab();
  vocab.resize(static_cast<size_t>(n_vocab));
  return vocab;
}

int RunRandom(const std::string& arch, const RandomModelSpec& base, const std::string& type_name,
              const std::string& vocab_path, const std::string& out_path) {
  RandomModelSpec spec = base;
  if (arch == "rwkv7") {
    spec.version = RwkvVersion::kV7;
  } else if (arch == "rwkv6") {
    spec.version = RwkvVersion::kV6;
  } else {
    return Fail("dte model random", Status::InvalidArgument("--arch must be rwkv7 or rwkv6"));
  }
  std::optional<DType> type = DTypeFromName(type_name);
  if (!type)
    return Fail("dte model random", Status::InvalidArgument("unknown --type '" + type_name + "'"));
  const auto t0 = SteadyClock::now();
  Result<ModelSource> model = MakeRandomModel(spec);
  if (!model.ok()) return Fail("dte model random", model.status());
  Result<std::vector<std::string>> vocab = VocabFor(spec.n_vocab, vocab_path);
  if (!vocab.ok()) return Fail("dte model random", vocab.status());
  model->vocab = std::move(*vocab);
  WriteOptions options;
  options.type = type;
  options.name = "random-" + arch + "-L" + std::to_string(spec.n_layer) + "-D" +
                 std::to_string(spec.n_embd) + "-seed" + std::to_string(spec.seed);
  if (Status s = WriteModel(*model, options, out_path, StderrProgress()); !s.ok())
    return Fail("dte model random", s);
  std::fprintf(stderr, "dte model random: wrote %s (%s, %s) in %.2f s\n", out_path.c_str(),
               model->config.ToString().c_str(), type_name.c_str(), SecondsSince(t0));
  return 0;
}

int RunModel(int argc, char** argv) {
  CLI::App app("Model tools", "dte model");
  app.require_subcommand(1);
  CLI::App* random =
      app.add_subcommand("random", "write a model with deterministic random weights");
  std::string arch = "rwkv7", type_name = "f16", vocab_path, out_path;
  RandomModelSpec spec;
  random->add_option("--arch", arch, "rwkv7 or rwkv6")->capture_default_str();
  random->add_option("--layers", spec.n_layer, "number of blocks")
      ->required()
      ->check(CLI::Range(1, 256));
  random->add_option("--embd", spec.n_embd, "embedding width C (multiple of 64)")->required();
  random->add_option("--vocab", spec.n_vocab, "vocabulary size (65536 = World)")
      ->capture_default_str();
  random->add_option("--head-size", spec.head_size, "WKV head size")->capture_default_str();
  random
      ->add_option("--type", type_name, "weight type: f32, f16, bf16, q8_0, q5_0, q5_1, q4_0, q4_1")
      ->capture_default_str();
  random->add_option("--seed", spec.seed, "random seed")->capture_default_str();
  random->add_option("--vocab-file", vocab_path,
                     "World vocabulary file (default: the shipped one)");
  random->add_option("--out", out_path, "output file (.gguf or .bin)")->required();
  CLI11_PARSE(app, argc, argv);
  return RunRandom(arch, spec, type_name, vocab_path, out_path);
}

const RegisterCommand kRegister("model", "model tools: `dte model random` writes random weights",
                                RunModel);

}  // namespace
}  // namespace dte::cli
