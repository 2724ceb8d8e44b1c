// dte inspect: what a model file holds, as JSON on stdout.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/cli_util.h"
#include "cli/command.h"
#include "model/gguf.h"
#include "model/model_file.h"

namespace dte::cli {
namespace {

// A float32 as the shortest double that prints like it (1e-05, not 9.999999747378752e-06).
double Short(double f) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.7g", f);
  return std::strtod(buf, nullptr);
}

nlohmann::ordered_json GgufValueJson(const GgufValue& v) {
  switch (v.type) {
    case GgufType::kString:
      return v.str;
    case GgufType::kBool:
      return v.u != 0;
    case GgufType::kF32:
      return Short(v.f);
    case GgufType::kF64:
      return v.f;
    case GgufType::kArray: {
      nlohmann::ordered_json a = {{"type", std::string(GgufTypeName(v.elem_type))},
                                  {"count", v.array.size()}};
      return a;
    }
    default:
      if (std::optional<int64_t> i = v.AsInt()) return *i;
      return v.u;
  }
}

// The container's own view of a GGUF file (useful even when it is not a model we run).
nlohmann::ordered_json GgufSection(const GgufFile& g, bool with_tensors) {
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  for (const GgufKeyValue& kv : g.metadata()) meta[kv.key] = GgufValueJson(kv.value);
  nlohmann::ordered_json out = {{"version", g.version()},
                                {"alignment", g.alignment()},
                                {"data_offset", g.data_offset()},
                                {"tensor_count", g.tensors().size()},
                                {"metadata", meta}};
  if (with_tensors) {
    nlohmann::ordered_json ts = nlohmann::ordered_json::array();
    for (const GgufTensorInfo& t : g.tensors()) {
      std::optional<GgmlTypeTraits> tr = GgmlTypeTraitsOf(t.ggml_type);
      ts.push_back({{"name", t.name},
                    {"type", tr ? std::string(tr->name) : "?"},
                    {"shape", t.shape},
                    {"offset", t.offset},
                    {"bytes", t.bytes}});
    }
    out["tensors"] = ts;
  }
  return out;
}

nlohmann::ordered_json ModelJson(const ModelFile& f, bool with_tensors) {
  const ModelConfig& c = f.config;
  std::map<std::string, int> types;
  for (const Tensor& t : f.tensors.tensors()) ++types[std::string(DTypeName(t.type))];
  nlohmann::ordered_json out = {
      {"file", f.path},
      {"format", std::string(FileFormatName(f.format))},
      {"arch", "rwkv" + std::string(RwkvVersionName(c.version))},
      {"version", std::string(RwkvVersionName(c.version))},
      {"n_vocab", c.n_vocab},
      {"n_embd", c.n_embd},
      {"n_layer", c.n_layer},
      {"head_size", c.head_size},
      {"n_head", c.n_head},
      {"ffn_dim", c.ffn_dim},
  };
  if (c.version == RwkvVersion::kV7) {
    out["lora_ranks"] = {{"decay", c.lora_decay},
                         {"iclr", c.lora_iclr},
                         {"value", c.lora_value},
                         {"gate", c.lora_gate}};
  } else if (c.version == RwkvVersion::kV6) {
    out["lora_ranks"] = {{"mix", c.lora_mix}, {"decay", c.lora_decay}};
  }
  out["layer_norm_eps"] = Short(c.layer_norm_eps);
  out["group_norm_eps"] = Short(c.group_norm_eps);
  out["tensor_count"] = f.tensors.tensors().size();
  out["bytes"] = f.tensors.total_bytes();
  out["tensor_types"] = types;
  out["vocab_size"] =
      f.vocab ? nlohmann::ordered_json(f.vocab->size()) : nlohmann::ordered_json(nullptr);
  if (with_tensors) {
    nlohmann::ordered_json ts = nlohmann::ordered_json::array();
    for (const Tensor& t : f.tensors.tensors())
      ts.push_back({{"name", t.name},
                    {"type", std::string(DTypeName(t.type))},
                    {"shape", t.shape},
                    {"bytes", t.bytes}});
    out["tensors"] = ts;
  }
  return out;
}

int RunInspect(int argc, char** argv) {
  CLI::App app("Describe a model file (rwkv.cpp .bin, GGUF, safetensors) as JSON", "dte inspect");
  std::string path;
  bool tensors = false;
  app.add_option("file", path, "model file")->required();
  app.add_flag("--tensors", tensors,
               "list every tensor (canonical names; for GGUF also the file's own)");
  CLI11_PARSE(app, argc, argv);

  Result<ModelFile> file = ReadModelFile(path);
  nlohmann::ordered_json out;
  if (file.ok()) {
    out = ModelJson(*file, tensors);
  } else {
    out = {{"file", path}, {"error", file.status().ToString()}};
  }
  if (!file.ok() || file->format == FileFormat::kGguf) {
    Result<GgufFile> g = GgufFile::Open(path);
    if (g.ok()) out["gguf"] = GgufSection(*g, tensors);
  }
  std::printf("%s\n", out.dump(2).c_str());
  if (!file.ok()) return Fail("dte inspect", file.status());
  return 0;
}

const RegisterCommand kRegister("inspect", "describe a model file as JSON", RunInspect);

}  // namespace
}  // namespace dte::cli
