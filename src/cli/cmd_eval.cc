// dte eval: the logits after a list of token ids, as JSON (for cross-checks against references).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/cli_util.h"
#include "cli/command.h"

namespace dte::cli {
namespace {

int RunEval(int argc, char** argv) {
  CLI::App app("Print the logits after feeding token ids from a fresh state", "dte eval");
  std::string model_path, tokens_text, mode = "sequence";
  int threads = 1;
  app.add_option("--model", model_path, "model file (.bin, .gguf, .safetensors)")->required();
  app.add_option("--tokens", tokens_text, "comma-separated token ids, e.g. 34,105,110")->required();
  app.add_option("--mode", mode, "serial (one token at a time) or sequence (one chunk)")
      ->check(CLI::IsMember({"serial", "sequence"}));
  app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 256));
  CLI11_PARSE(app, argc, argv);

  auto tokens = ParseTokenList(tokens_text);
  if (!tokens.ok()) return Fail("dte eval", tokens.status());
  auto model = Model::Load(model_path);
  if (!model.ok()) return Fail("dte eval", model.status());
  const int64_t n_vocab = (*model)->config().n_vocab;
  if (Status s = CheckTokenIds(*tokens, n_vocab); !s.ok()) return Fail("dte eval", s);

  ThreadPool pool(threads);
  Scratch scratch;
  State state = (*model)->NewState();
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  if (mode == "serial") {
    (*model)->ForwardSerial(*tokens, state, logits.data(), scratch, &pool);
  } else {
    (*model)->ForwardSequence(*tokens, state, logits.data(), scratch, &pool);
  }
  std::string out = "{\"logits\":[";
  for (size_t i = 0; i < logits.size(); ++i) {
    if (i) out += ',';
    out += ExactFloat(logits[i]);
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

const RegisterCommand kRegister("eval", "print the logits after a list of token ids (JSON)", RunEval);

}  // namespace
}  // namespace dte::cli
