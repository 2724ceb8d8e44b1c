// Writes the seed corpora of the fuzz targets: tiny but valid model files (every RWKV version
// in rwkv.cpp .bin, v6/v7 in GGUF and safetensors, float and quantized) and World vocabulary
// snippets. Each model file is read back, bound and run before it is kept, so a seed that
// stops being valid (a reader or writer changed) fails here instead of silently shrinking
// what the fuzzers explore.
//
// Usage: dte_fuzz_seeds OUT_DIR [WORLD_VOCAB_FILE]
//   OUT_DIR/{rwkvcpp,gguf,safetensors,world_vocab}/ are created and filled.

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernels/dtype.h"
#include "model/config.h"
#include "model/gguf_rwkv.h"
#include "model/model.h"
#include "model/model_file.h"
#include "model/model_writer.h"
#include "model/safetensors.h"

namespace dte {
namespace {

namespace fs = std::filesystem;
using Shape = std::vector<int64_t>;

struct TensorSpec {
  std::string name;
  Shape shape;  // ggml order (canonical)
};

// Small deterministic values: LayerNorm weights 1, biases 0, the rest in (-0.5, 0.5).
float ValueOf(const std::string& name, int64_t i) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  h ^= static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 31)) * 0xbf58476d1ce4e5b9ull;
  h ^= h >> 29;
  const bool norm = name.find("ln") != std::string::npos;
  if (norm && name.ends_with(".weight")) return 1.0f;
  if (norm && name.ends_with(".bias")) return 0.0f;
  return static_cast<float>(static_cast<double>(h >> 11) * 0x1.0p-53 - 0.5);
}

ModelConfig Config(RwkvVersion v, int64_t c, int64_t layers, int64_t vocab, int64_t ffn,
                   int64_t head_size) {
  ModelConfig cfg;
  cfg.version = v;
  cfg.n_embd = c;
  cfg.n_layer = layers;
  cfg.n_vocab = vocab;
  cfg.ffn_dim = ffn;
  cfg.head_size = v == RwkvVersion::kV4 ? 0 : head_size;
  cfg.n_head = v == RwkvVersion::kV4 ? 0 : c / head_size;
  cfg.lora_mix = v == RwkvVersion::kV6 ? 4 : 0;
  cfg.lora_decay = 8;
  cfg.lora_iclr = 8;
  cfg.lora_value = 8;
  cfg.lora_gate = 8;
  return cfg;
}

// The canonical tensors of a model (rwkv.cpp's names and shapes).
std::vector<TensorSpec> TensorsOf(const ModelConfig& cfg) {
  std::vector<TensorSpec> out;
  if (cfg.version == RwkvVersion::kV6 || cfg.version == RwkvVersion::kV7) {
    // The GGUF table lists every canonical tensor of v6/v7 with its shape.
    const std::vector<GgufTensorMapping> mappings = RwkvGgufMappings(cfg).value();
    for (const GgufTensorMapping& m : mappings) {
      if (m.write_only) continue;
      for (const std::string& name : m.canonical) out.push_back({name, m.canonical_shape});
    }
    return out;
  }
  const int64_t C = cfg.n_embd, V = cfg.n_vocab, F = cfg.ffn_dim, N = cfg.head_size, H = cfg.n_head;
  out.push_back({"emb.weight", {C, V}});
  out.push_back({"blocks.0.ln0.weight", {C}});
  out.push_back({"blocks.0.ln0.bias", {C}});
  for (int64_t l = 0; l < cfg.n_layer; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    for (const char* n : {"ln1.weight", "ln1.bias", "ln2.weight", "ln2.bias"})
      out.push_back({b + n, {C}});
    const std::string a = b + "att.";
    std::vector<std::string> matrices = {"key", "value", "receptance", "output"};
    switch (cfg.version) {
      case RwkvVersion::kV4:
        out.push_back({a + "time_decay", {C}});
        out.push_back({a + "time_first", {C}});
        break;
      case RwkvVersion::kV5_1:
        out.push_back({a + "time_decay", {1, 1, H}});
        out.push_back({a + "time_first", {1, 1, H}});
        break;
      default:  // 5.2
        out.push_back({a + "time_decay", {1, N, H}});
        out.push_back({a + "time_faaaa", {1, N, H}});
        out.push_back({a + "time_mix_g", {C}});
        matrices.push_back("gate");
        break;
    }
    for (const char* m : {"time_mix_k", "time_mix_v", "time_mix_r"}) out.push_back({a + m, {C}});
    if (cfg.version != RwkvVersion::kV4) {
      out.push_back({a + "ln_x.weight", {C}});
      out.push_back({a + "ln_x.bias", {C}});
    }
    for (const std::string& m : matrices) out.push_back({a + m + ".weight", {C, C}});
    const std::string f = b + "ffn.";
    out.push_back({f + "time_mix_k", {C}});
    out.push_back({f + "time_mix_r", {C}});
    out.push_back({f + "key.weight", {C, F}});
    out.push_back({f + "value.weight", {F, C}});
    out.push_back({f + "receptance.weight", {C, C}});
  }
  out.push_back({"ln_out.weight", {C}});
  out.push_back({"ln_out.bias", {C}});
  out.push_back({"head.weight", {C, V}});
  return out;
}

int64_t Elements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

std::vector<float> Values(const TensorSpec& t) {
  std::vector<float> v(static_cast<size_t>(Elements(t.shape)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = ValueOf(t.name, static_cast<int64_t>(i));
  // v4 stores time_decay as -exp(w): keep it negative so the WKV stays finite.
  if (t.name.ends_with("att.time_decay"))
    for (float& x : v) x = -std::exp(x);
  return v;
}

ModelSource SourceFor(const ModelConfig& cfg) {
  ModelSource src;
  src.config = cfg;
  for (const TensorSpec& spec : TensorsOf(cfg)) {
    SourceTensor t;
    t.name = spec.name;
    t.type = DType::kF32;
    t.shape = spec.shape;
    t.generate = [spec](std::vector<uint8_t>* out) {
      std::vector<float> v = Values(spec);
      out->resize(v.size() * sizeof(float));
      std::memcpy(out->data(), v.data(), out->size());
      return Status::Ok();
    };
    src.Add(std::move(t));
  }
  if (cfg.n_vocab != 256) {
    std::vector<std::string> vocab(static_cast<size_t>(cfg.n_vocab));
    for (size_t i = 1; i < vocab.size(); ++i)
      vocab[i] = std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i);
    src.vocab = vocab;
  }
  return src;
}

std::vector<uint8_t> FloatBytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// The BlinkDL checkpoint (PyTorch names, shapes and layouts) that ReadSafetensorsModelFile
// turns back into the canonical tensors of `cfg` (see safetensors_rwkv.cc). Values need not
// round-trip: the seeds only have to be valid.
std::vector<SafetensorsOutTensor> BlinkDlTensors(const ModelConfig& cfg) {
  const bool v7 = cfg.version == RwkvVersion::kV7;
  const int64_t C = cfg.n_embd, N = cfg.head_size, H = cfg.n_head;
  const std::vector<std::string> transposed =
      v7 ? std::vector<std::string>{"att.w1", "att.w2", "att.a1", "att.a2",
                                    "att.v1", "att.v2", "att.g1", "att.g2"}
         : std::vector<std::string>{"att.time_maa_w1", "att.time_maa_w2", "att.time_decay_w1",
                                    "att.time_decay_w2"};
  std::vector<SafetensorsOutTensor> out;
  auto add = [&](const std::string& name, Shape shape) {
    TensorSpec spec{name, shape};
    out.push_back({name, "F32", shape, FloatBytes(Values(spec))});
  };
  for (const TensorSpec& t : TensorsOf(cfg)) {
    const size_t dot = t.name.find('.', 7);
    const std::string suffix = t.name.starts_with("blocks.") ? t.name.substr(dot + 1) : "";
    if (v7 && suffix == "att.x_rwkvag") {
      const std::string prefix = t.name.substr(0, t.name.size() - std::string("x_rwkvag").size());
      for (char x : std::string("rwkvag")) add(prefix + "x_" + x, {1, 1, C});
      continue;
    }
    bool is_transposed = false;
    for (const std::string& s : transposed) is_transposed |= suffix == s;
    if (is_transposed) {
      // The reader keeps a transposed matrix's PyTorch shape as its ggml shape; 3-D
      // time_maa_w2 (ggml [D, C, 5]) is PyTorch [5, D, C].
      add(t.name, t.shape.size() == 3 ? Shape{t.shape[2], t.shape[0], t.shape[1]} : t.shape);
      continue;
    }
    if (!v7 && suffix == "att.time_faaaa") {
      add(t.name, {H, N});
      continue;
    }
    if (!v7 && (suffix == "att.time_decay" || suffix.find("time_maa_") != std::string::npos)) {
      add(t.name, {1, 1, C});
      continue;
    }
    add(t.name, Shape(t.shape.rbegin(), t.shape.rend()));
  }
  return out;
}

// Reads a written seed back, binds it and runs a token; false (with a message) if not.
bool Verify(const std::string& path) {
  Result<ModelFile> file = ReadModelFile(path);
  if (!file.ok()) {
    std::fprintf(stderr, "fuzz seeds: %s does not read back: %s\n", path.c_str(),
                 file.status().ToString().c_str());
    return false;
  }
  const int64_t n_vocab = file->config.n_vocab;
  Result<std::shared_ptr<const Model>> model = Model::FromFile(std::move(file).value());
  if (!model.ok()) {
    std::fprintf(stderr, "fuzz seeds: %s does not bind: %s\n", path.c_str(),
                 model.status().ToString().c_str());
    return false;
  }
  State state = (*model)->NewState();
  std::vector<float> logits(static_cast<size_t>(n_vocab));
  Scratch scratch;
  const int32_t token = 1;
  (*model)->ForwardSequence({&token, 1}, state, logits.data(), scratch, nullptr);
  return true;
}

bool Check(const Status& s, const std::string& path) {
  if (s.ok()) return Verify(path);
  std::fprintf(stderr, "fuzz seeds: cannot write %s: %s\n", path.c_str(), s.ToString().c_str());
  return false;
}

struct ModelSeed {
  std::string name;
  ModelConfig config;
};

std::vector<ModelSeed> ModelSeeds() {
  using V = RwkvVersion;
  // Two layers at width 8 (v7's block 1 differs from block 0); one layer at width 32, the
  // smallest width whose rows quantize (32-weight blocks). Every file stays under the
  // targets' -max_len (64 KiB).
  return {
      {"v4_c8", Config(V::kV4, 8, 2, 16, 16, 0)},
      {"v4_c32", Config(V::kV4, 32, 1, 16, 32, 0)},
      {"v5_1_c8", Config(V::kV5_1, 8, 2, 16, 16, 4)},
      {"v5_1_c32", Config(V::kV5_1, 32, 1, 16, 32, 16)},
      {"v5_2_c8", Config(V::kV5_2, 8, 2, 16, 16, 4)},
      {"v5_2_c32", Config(V::kV5_2, 32, 1, 16, 32, 16)},
      {"v6_c8", Config(V::kV6, 8, 2, 16, 16, 4)},
      {"v6_c32", Config(V::kV6, 32, 1, 16, 32, 16)},
      {"v7_c8", Config(V::kV7, 8, 2, 16, 16, 8)},
      {"v7_c32", Config(V::kV7, 32, 1, 16, 32, 16)},
  };
}

bool WriteModelSeeds(const fs::path& out) {
  bool ok = true;
  const fs::path bin = out / "rwkvcpp", gguf = out / "gguf", st = out / "safetensors";
  for (const fs::path& d : {bin, gguf, st}) fs::create_directories(d);
  for (const ModelSeed& seed : ModelSeeds()) {
    const ModelSource src = SourceFor(seed.config);
    const bool wide = seed.config.n_embd % 32 == 0;
    std::vector<std::optional<DType>> types = {std::nullopt};
    if (wide) types = {std::nullopt, DType::kF16, DType::kQ8_0, DType::kQ5_1, DType::kQ4_0};
    for (const std::optional<DType>& type : types) {
      const std::string suffix = type ? std::string(DTypeName(*type)) : "f32";
      WriteOptions options;
      options.type = type;
      const std::string path = (bin / (seed.name + "_" + suffix + ".bin")).string();
      ok &= Check(WriteRwkvCppModel(src, options, path), path);
      const bool gguf_version =
          seed.config.version == RwkvVersion::kV6 || seed.config.version == RwkvVersion::kV7;
      if (gguf_version && (!type || *type == DType::kF16 || *type == DType::kQ8_0)) {
        const std::string gpath = (gguf / (seed.name + "_" + suffix + ".gguf")).string();
        ok &= Check(WriteGgufModel(src, options, gpath), gpath);
      }
    }
    if (seed.config.version == RwkvVersion::kV6 || seed.config.version == RwkvVersion::kV7) {
      const std::string path = (st / (seed.name + ".safetensors")).string();
      ok &= Check(WriteSafetensors(path, BlinkDlTensors(seed.config), {{"format", "pt"}}), path);
    }
  }
  // A byte-level model (n_vocab 256) so the GGUF target reaches the token-list tokenizer.
  ModelConfig bytes = Config(RwkvVersion::kV7, 8, 1, 256, 16, 8);
  const std::string path = (gguf / "v7_c8_bytes_vocab.gguf").string();
  ok &= Check(WriteGgufModel(SourceFor(bytes), WriteOptions{}, path), path);
  return ok;
}

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Vocabulary seeds: the 256 one-byte tokens (the trie tokenizer needs them all) plus a few
// multi-byte str and bytes literals; and the head of the real World vocabulary if given.
void WriteVocabSeeds(const fs::path& out, const std::string& world_vocab) {
  const fs::path dir = out / "world_vocab";
  fs::create_directories(dir);
  std::string bytes;
  for (int b = 0; b < 256; ++b) {
    char line[32];
    std::snprintf(line, sizeof(line), "%d b'\\x%02x' 1\n", b + 1, b);
    bytes += line;
  }
  WriteText(dir / "bytes.txt", bytes);
  WriteText(dir / "mixed.txt", bytes +
                                   "257 '\\n\\n' 2\n"
                                   "258 ' the' 4\n"
                                   "259 b'\\xe4\\xb8' 2\n"
                                   "260 \"'s\" 2\n"
                                   "262 '\\u4e2d' 3\r\n"
                                   "\n"
                                   "263 '\\t\\\\x' 3");
  WriteText(dir / "small.txt", "1 'a' 1\n2 b'\\x80' 1\n3 '\\x00' 1\n");
  if (world_vocab.empty()) return;
  std::ifstream in(world_vocab, std::ios::binary);
  std::string line, head;
  for (int i = 0; i < 600 && std::getline(in, line); ++i) head += line + "\n";
  if (!head.empty()) WriteText(dir / "world_head.txt", head);
}

}  // namespace
}  // namespace dte

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [WORLD_VOCAB_FILE]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const bool ok = dte::WriteModelSeeds(out);
  dte::WriteVocabSeeds(out, argc > 2 ? argv[2] : "");
  return ok ? 0 : 1;
}
