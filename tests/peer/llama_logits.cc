// llama_logits: loads a GGUF with llama.cpp (the prebuilt library from the npm package
// @node-llama-cpp/linux-x64) and prints the logits after a list of tokens, as JSON:
//   {"n_vocab": 256, "logits": [...]}
// With --compare FILE (256·4-byte raw float32 .bin, or JSON with a "logits" array, e.g. the
// output of `dte eval`) it also prints the max |Δ| to stderr and exits 1 above --tolerance.
// With --save OUT.gguf it writes the loaded model back out through llama.cpp's own GGUF saver
// (a llama.cpp-written file for our reader to load).
//
// Not part of the CMake build: scripts/llama_peer.sh compiles it against the headers of the
// llama.cpp source bundled in the same npm package.
//
//   llama_logits --bins DIR --model M.gguf [--tokens 34,105,110] [--mode batch|serial]
//                [--compare FILE] [--tolerance 1e-4] [--save OUT.gguf]

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ggml-backend.h"
#include "llama.h"

namespace {

struct Args {
  std::string bins, model, tokens = "34,105,110", mode = "batch", compare, save;
  double tolerance = 1e-4;
};

bool Parse(int argc, char** argv, Args* a) {
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) return false;
    std::string v = argv[++i];
    if (k == "--bins")
      a->bins = v;
    else if (k == "--model")
      a->model = v;
    else if (k == "--tokens")
      a->tokens = v;
    else if (k == "--mode")
      a->mode = v;
    else if (k == "--compare")
      a->compare = v;
    else if (k == "--save")
      a->save = v;
    else if (k == "--tolerance")
      a->tolerance = std::atof(v.c_str());
    else
      return false;
  }
  return !a->bins.empty() && !a->model.empty() && (a->mode == "batch" || a->mode == "serial");
}

std::vector<llama_token> ParseTokens(const std::string& s) {
  std::vector<llama_token> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    out.push_back(static_cast<llama_token>(std::atoi(item.c_str())));
  return out;
}

// Raw float32 .bin, or any text holding `"logits": [numbers]`.
std::vector<float> ReadReference(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), {});
  std::vector<float> out;
  const size_t key = data.find("\"logits\"");
  if (key == std::string::npos) {
    out.resize(data.size() / 4);
    std::memcpy(out.data(), data.data(), out.size() * 4);
    return out;
  }
  const char* p = data.c_str() + data.find('[', key) + 1;
  while (*p && *p != ']') {
    char* end;
    const float v = std::strtof(p, &end);
    if (end == p) break;
    out.push_back(v);
    p = end;
    while (*p == ',' || *p == ' ' || *p == '\n') ++p;
  }
  return out;
}

void Quiet(ggml_log_level level, const char* text, void*) {
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!Parse(argc, argv, &a)) {
    std::fprintf(
        stderr,
        "usage: llama_logits --bins DIR --model M.gguf [--tokens 34,105,110] [--mode batch|serial] "
        "[--compare FILE] [--tolerance 1e-4] [--save OUT.gguf]\n");
    return 2;
  }
  llama_log_set(Quiet, nullptr);
  ggml_backend_load_all_from_path(a.bins.c_str());
  llama_backend_init();

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  llama_model* model = llama_model_load_from_file(a.model.c_str(), mp);
  if (model == nullptr) {
    std::fprintf(stderr, "llama_logits: llama.cpp could not load %s\n", a.model.c_str());
    return 1;
  }
  const int32_t n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
  if (!a.save.empty()) llama_model_save_to_file(model, a.save.c_str());
  std::vector<llama_token> tokens = ParseTokens(a.tokens);

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = 512;
  cp.n_batch = 512;
  cp.n_ubatch = 512;
  cp.n_seq_max = 1;
  cp.n_threads = 2;
  cp.n_threads_batch = 2;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (ctx == nullptr) {
    std::fprintf(stderr, "llama_logits: cannot create a context\n");
    return 1;
  }
  if (a.mode == "batch") {
    if (llama_decode(
            ctx, llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()))) != 0) {
      std::fprintf(stderr, "llama_logits: llama_decode failed\n");
      return 1;
    }
  } else {
    for (llama_token& t : tokens) {
      if (llama_decode(ctx, llama_batch_get_one(&t, 1)) != 0) {
        std::fprintf(stderr, "llama_logits: llama_decode failed\n");
        return 1;
      }
    }
  }
  const float* logits = llama_get_logits_ith(ctx, -1);
  std::string out = "{\"n_vocab\": " + std::to_string(n_vocab) + ", \"logits\": [";
  char buf[32];
  for (int32_t i = 0; i < n_vocab; ++i) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", i ? "," : "", logits[i]);
    out += buf;
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);

  int rc = 0;
  if (!a.compare.empty()) {
    std::vector<float> ref = ReadReference(a.compare);
    if (static_cast<int32_t>(ref.size()) != n_vocab) {
      std::fprintf(stderr, "llama_logits: %s has %zu logits, the model %d\n", a.compare.c_str(),
                   ref.size(), n_vocab);
      rc = 1;
    } else {
      double max_diff = 0;
      for (int32_t i = 0; i < n_vocab; ++i)
        max_diff = std::max(max_diff, std::fabs(double(logits[i]) - ref[i]));
      const bool ok = std::isfinite(max_diff) && max_diff <= a.tolerance;
      std::fprintf(stderr, "llama_logits: %s vs %s: max |diff| = %.3g (tolerance %.3g) %s\n",
                   a.model.c_str(), a.compare.c_str(), max_diff, a.tolerance, ok ? "OK" : "FAIL");
      rc = ok ? 0 : 1;
    }
  }
  llama_free(ctx);
  llama_model_free(model);
  llama_backend_free();
  return rc;
}
