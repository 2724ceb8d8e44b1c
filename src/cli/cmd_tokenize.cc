// dte tokenize: text -> token ids (JSON array), or --decode ids -> text.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "base/mapped_file.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "model/model_tokenizer.h"

namespace dte::cli {
namespace {

int RunTokenize(int argc, char** argv) {
  CLI::App app("Tokenize text with a model's tokenizer or a vocabulary file", "dte tokenize");
  std::string model_path, vocab_path, text, file, decode;
  auto* source = app.add_option_group("tokenizer");
  source->add_option("--model", model_path, "use this model's tokenizer");
  source->add_option("--vocab", vocab_path, "an RWKV World vocabulary file");
  source->require_option(1);
  auto* input = app.add_option_group("input");
  input->add_option("--text", text, "text to tokenize");
  input->add_option("--file", file, "file whose bytes to tokenize");
  input->add_option("--decode", decode, "comma-separated ids to turn back into text");
  input->require_option(1);
  CLI11_PARSE(app, argc, argv);

  Result<std::unique_ptr<Tokenizer>> tokenizer = Status::Internal("unset");
  if (!model_path.empty()) {
    auto model_file = ReadModelFile(model_path);
    if (!model_file.ok()) return Fail("dte tokenize", model_file.status());
    tokenizer = TokenizerForModel(*model_file);
  } else {
    tokenizer = LoadWorldTokenizer(vocab_path);
  }
  if (!tokenizer.ok()) return Fail("dte tokenize", tokenizer.status());

  if (!decode.empty()) {
    auto ids = ParseTokenList(decode);
    if (!ids.ok()) return Fail("dte tokenize", ids.status());
    if (Status s = CheckTokenIds(*ids, (*tokenizer)->vocab_size()); !s.ok()) return Fail("dte tokenize", s);
    std::string out = (*tokenizer)->Decode(*ids);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  }
  if (!file.empty()) {
    auto contents = ReadFileToString(file);
    if (!contents.ok()) return Fail("dte tokenize", contents.status());
    text = std::move(*contents);
  }
  std::string out = "[";
  std::vector<int32_t> ids = (*tokenizer)->Encode(text);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += "]\n";
  std::fputs(out.c_str(), stdout);
  return 0;
}

const RegisterCommand kRegister("tokenize", "text to token ids (JSON), or --decode ids to text", RunTokenize);

}  // namespace
}  // namespace dte::cli
