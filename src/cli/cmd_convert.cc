// dte convert: one model file format to another (rwkv.cpp .bin, GGUF, safetensors in; GGUF or
// .bin out), optionally changing the weight type. Progress on stderr, then a summary line.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "base/clock.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/convert_util.h"
#include "model/gguf_vocab.h"
#include "model/model_file.h"
#include "model/model_tokenizer.h"
#include "model/model_writer.h"

namespace dte::cli {
namespace {

std::string Describe(const ModelFile& f) {
  std::map<std::string, int> types;
  for (const Tensor& t : f.tensors.tensors()) ++types[std::string(DTypeName(t.type))];
  std::string s = std::string(FileFormatName(f.format)) + ", " + f.config.ToString() + ", " +
                  std::to_string(f.tensors.tensors().size()) + " tensors (";
  bool first = true;
  for (const auto& [name, n] : types) {
    s += (first ? "" : " ") + name + "×" + std::to_string(n);
    first = false;
  }
  char mb[32];
  std::snprintf(mb, sizeof(mb), "%.2f", static_cast<double>(f.tensors.total_bytes()) / 1e6);
  return s + "), " + mb + " MB";
}

int RunConvert(int argc, char** argv) {
  CLI::App app(
      "Convert a model between formats (rwkv.cpp .bin, GGUF, safetensors -> .gguf or .bin)",
      "dte convert");
  std::string in_path, out_path, type_name, vocab_path, name;
  app.add_option("input", in_path, "model file to read (.bin, .gguf, .safetensors)")->required();
  app.add_option("output", out_path,
                 "file to write; the format follows the extension (.gguf or .bin)")
      ->required();
  app.add_option("--type", type_name,
                 "weight type of the big matrices: f32, f16, bf16, q8_0, q5_0, q5_1, q4_0, q4_1 "
                 "(default: keep each tensor's type)");
  app.add_option("--vocab", vocab_path,
                 "World vocabulary for a 65536-token model going to GGUF (default: shipped)");
  app.add_option("--name", name,
                 "model name stored in GGUF general.name (default: output file stem)");
  CLI11_PARSE(app, argc, argv);

  WriteOptions options;
  options.name = name;
  if (!type_name.empty()) {
    std::optional<DType> t = DTypeFromName(type_name);
    if (!t)
      return Fail("dte convert", Status::InvalidArgument("unknown --type '" + type_name + "'"));
    options.type = t;
  }
  Result<OutputFormat> format = OutputFormatForPath(out_path);
  if (!format.ok()) return Fail("dte convert", format.status());

  const auto t0 = SteadyClock::now();
  Result<ModelFile> in = ReadModelFile(in_path);
  if (!in.ok()) return Fail("dte convert", in.status());
  ModelSource source = SourceOf(*in);
  if (*format == OutputFormat::kGguf && !source.vocab && source.config.n_vocab != 256) {
    Result<std::vector<std::string>> vocab =
        LoadWorldVocab(FindWorldVocab(vocab_path), source.config.n_vocab);
    if (!vocab.ok()) return Fail("dte convert", vocab.status());
    source.vocab = std::move(*vocab);
  }
  if (Status s = WriteModel(source, options, out_path, StderrProgress()); !s.ok())
    return Fail("dte convert", s);

  Result<ModelFile> out = ReadModelFile(out_path);  // check what we wrote reads back
  if (!out.ok())
    return Fail("dte convert", out.status().WithPrefix("the written file does not read back"));
  std::fprintf(stderr, "dte convert: %s\n  from %s\n  to   %s (%s)\n  in %.2f s\n", in_path.c_str(),
               Describe(*in).c_str(), out_path.c_str(), Describe(*out).c_str(), SecondsSince(t0));
  return 0;
}

const RegisterCommand kRegister("convert", "convert a model between .bin / GGUF / safetensors",
                                RunConvert);

}  // namespace
}  // namespace dte::cli
