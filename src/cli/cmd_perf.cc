// dte perf: prefill, batch-1 decode and (with --batch) batched decode speed of one model,
// measured llama-bench style (see perf_measure.h). Progress and a summary on stderr; the result
// as a table on stdout, or as JSON with --json.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/clock.h"
#include "cli/cli_util.h"
#include "cli/command.h"
#include "cli/perf_measure.h"
#include "kernels/cpu_features.h"
#include "kernels/roofline.h"

namespace dte::cli {
namespace {

nlohmann::json ResultJson(const std::string& model_path, const Model& model,
                          const WeightTraffic& traffic, const PerfOptions& options,
                          const PerfResult& result, double load_s) {
  const ModelConfig& c = model.config();
  nlohmann::json runs = nlohmann::json::array();
  for (const PerfRun& r : result.runs)
    runs.push_back({{"prefill_s", r.prefill_s}, {"decode_s", r.decode_s}});
  const double decode_gb_s =
      static_cast<double>(traffic.bytes_per_token) * result.decode_tok_s / 1e9;
  return {
      {"prefill_tok_s", result.prefill_tok_s},
      {"decode_tok_s", result.decode_tok_s},
      {"peak_rss_bytes", PeakRssBytes()},
      {"decode_ms_per_token", result.decode_ms_per_token},
      {"decode_gb_s", decode_gb_s},
      {"model", model_path},
      {"format", std::string(FileFormatName(model.file().format))},
      {"rwkv_version", std::string(RwkvVersionName(c.version))},
      {"n_embd", c.n_embd},
      {"n_layer", c.n_layer},
      {"n_vocab", c.n_vocab},
      {"weight_type", traffic.weight_type},
      {"weight_bytes", traffic.weight_bytes},
      {"weight_bytes_per_token", traffic.bytes_per_token},
      {"weights_per_token", traffic.weights_per_token},
      {"threads", options.threads},
      {"prompt_tokens", options.prompt_tokens},
      {"gen_tokens", options.gen_tokens},
      {"repeat", options.repeat},
      {"seed", options.seed},
      {"kernel_isa", std::string(KernelIsaName(ActiveIsa()))},
      {"cpu_features", CpuFeaturesString()},
      {"load_s", load_s},
      {"runs", runs},
  };
}

nlohmann::json RooflineJson(const Roofline& r) {
  nlohmann::json j = {{"threads", r.threads},
                      {"kernel_isa", r.isa},
                      {"triad_gb_s", r.triad_gb_s},
                      {"read_gb_s", r.read_gb_s},
                      {"fp32_fma_gflops", r.fp32_fma_gflops},
                      {"amx", r.amx}};
  j["bf16_dot_gflops"] = r.bf16_dot_gflops ? nlohmann::json(*r.bf16_dot_gflops) : nlohmann::json();
  return j;
}

void PrintRoofline(const nlohmann::json& r) {
  std::printf("| limit (%d threads, %s) | measured |\n|---|---:|\n", r["threads"].get<int>(),
              r["kernel_isa"].get<std::string>().c_str());
  std::printf("| memory bandwidth (triad) | %.2f GB/s |\n", r["triad_gb_s"].get<double>());
  std::printf("| memory bandwidth (read only) | %.2f GB/s |\n", r["read_gb_s"].get<double>());
  std::printf("| FP32 FMA peak | %.1f GFLOP/s |\n", r["fp32_fma_gflops"].get<double>());
  if (r["bf16_dot_gflops"].is_null()) {
    std::printf("| BF16 dot-product peak | not supported |\n");
  } else {
    std::printf("| BF16 dot-product peak | %.1f GFLOP/s |\n", r["bf16_dot_gflops"].get<double>());
  }
  std::printf("| AMX | %s |\n", r["amx"].get<std::string>().c_str());
}

// Shares of the roofline: batch-1 decode against the read bandwidth (weights read per token), and
// each batched decode against the best compute peak (2 flops per weight per sequence).
void AddRooflineShares(nlohmann::json& j) {
  const nlohmann::json& r = j["roofline"];
  j["decode_bandwidth_share"] = j["decode_gb_s"].get<double>() / r["read_gb_s"].get<double>();
  if (!j.contains("batch_decode")) return;
  const double peak = r["bf16_dot_gflops"].is_null()
                          ? r["fp32_fma_gflops"].get<double>()
                          : std::max(r["fp32_fma_gflops"].get<double>(),
                                     r["bf16_dot_gflops"].get<double>());
  const double flops_per_token = 2.0 * j["weights_per_token"].get<double>();
  for (auto& b : j["batch_decode"]) {
    b["gflops"] = b["decode_tok_s"].get<double>() * flops_per_token / 1e9;
    b["compute_share"] = b["gflops"].get<double>() / peak;
  }
}

nlohmann::json BatchJson(const WeightTraffic& traffic,
                         const std::vector<BatchDecodeResult>& results) {
  nlohmann::json out = nlohmann::json::array();
  for (const BatchDecodeResult& r : results) {
    // A step reads the weights once for the whole batch (plus one embedding row per sequence,
    // left out here).
    const double weight_gb_s =
        static_cast<double>(traffic.bytes_per_token) / (r.step_ms * 1e-3) / 1e9;
    out.push_back({{"batch", r.batch},
                   {"decode_tok_s", r.decode_tok_s},
                   {"per_sequence_tok_s", r.per_sequence_tok_s},
                   {"step_ms", r.step_ms},
                   {"weight_gb_s", weight_gb_s},
                   {"runs_s", r.runs_s}});
  }
  return out;
}

void PrintTable(const nlohmann::json& j) {
  std::printf("| model | type | threads | test | tokens/s |\n|---|---|---:|---|---:|\n");
  const std::string model = j["model"].get<std::string>(),
                    type = j["weight_type"].get<std::string>();
  const int threads = j["threads"].get<int>();
  std::printf("| %s | %s | %d | pp%lld | %.2f |\n", model.c_str(), type.c_str(), threads,
              static_cast<long long>(j["prompt_tokens"].get<int64_t>()),
              j["prefill_tok_s"].get<double>());
  std::printf("| %s | %s | %d | tg%lld | %.2f |\n", model.c_str(), type.c_str(), threads,
              static_cast<long long>(j["gen_tokens"].get<int64_t>()),
              j["decode_tok_s"].get<double>());
  if (j.contains("batch_decode")) {
    std::printf(
        "\n| batch | aggregate decode tok/s | per sequence tok/s | step ms | weights GB/s |\n"
        "|---:|---:|---:|---:|---:|\n");
    for (const auto& b : j["batch_decode"]) {
      std::printf("| %d | %.2f | %.2f | %.2f | %.2f |\n", b["batch"].get<int>(),
                  b["decode_tok_s"].get<double>(), b["per_sequence_tok_s"].get<double>(),
                  b["step_ms"].get<double>(), b["weight_gb_s"].get<double>());
    }
  }
  std::printf(
      "\ndecode reads %.1f MB of weights per token: %.2f GB/s; peak RSS %.1f MiB; kernels %s\n",
      j["weight_bytes_per_token"].get<double>() / 1e6, j["decode_gb_s"].get<double>(),
      j["peak_rss_bytes"].get<double>() / (1 << 20), j["kernel_isa"].get<std::string>().c_str());
}

int RunPerf(int argc, char** argv) {
  CLI::App app(
      "Measure prefill and batch-1 decode tokens/s (medians over --repeat runs) and peak RSS.\n"
      "Token ids are seeded random; decode does not sample. --batch also measures aggregate\n"
      "decode with B sequences advanced together (one batched forward call per step).",
      "dte perf");
  std::string model_path;
  PerfOptions options;
  std::vector<int> batch_sizes;
  bool json = false;
  bool roofline = false;
  app.add_option("--model", model_path, "model file (.bin, .gguf, .safetensors)");
  app.add_flag("--roofline", roofline,
               "measure this machine's limits (memory bandwidth, FP32 FMA and BF16 peaks) on "
               "--threads threads; with --model, also each number's share of them");
  app.add_option("--prompt-tokens", options.prompt_tokens, "prefill length")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--gen-tokens", options.gen_tokens, "decode steps")->check(CLI::Range(1, 1 << 20));
  app.add_option("--threads", options.threads, "worker threads")->check(CLI::Range(1, 256));
  app.add_option("--repeat", options.repeat, "repetitions (the median is reported)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--seed", options.seed, "seed of the token ids");
  app.add_option("--batch", batch_sizes,
                 "also measure batched decode at these batch sizes, e.g. 1,8,32,64")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  app.add_flag("--json", json, "print JSON on stdout instead of a table");
  CLI11_PARSE(app, argc, argv);
  if (model_path.empty() && !roofline) {
    std::fprintf(stderr, "dte perf: --model is required (or --roofline alone)\n");
    return 2;
  }

  std::optional<nlohmann::json> limits;
  if (roofline) {
    std::fprintf(stderr, "dte perf: measuring the roofline on %d threads\n", options.threads);
    ThreadPool pool(options.threads);
    limits = RooflineJson(MeasureRoofline(pool));
    std::fprintf(stderr, "dte perf: triad %.2f GB/s, FP32 FMA %.1f GFLOP/s\n",
                 (*limits)["triad_gb_s"].get<double>(),
                 (*limits)["fp32_fma_gflops"].get<double>());
    if (model_path.empty()) {
      if (json) {
        std::printf("%s\n", nlohmann::json{{"roofline", *limits}}.dump(2).c_str());
      } else {
        PrintRoofline(*limits);
      }
      return 0;
    }
  }

  std::fprintf(stderr, "dte perf: loading %s\n", model_path.c_str());
  auto t0 = SteadyClock::now();
  auto model = Model::Load(model_path);
  if (!model.ok()) return Fail("dte perf", model.status());
  const double load_s = SecondsSince(t0);
  const WeightTraffic traffic = MeasureWeightTraffic(**model);
  const ModelConfig& c = (*model)->config();
  std::fprintf(
      stderr,
      "dte perf: RWKV-%s %lld layers x %lld, %s, %.1f MB, kernels %s, %d threads; warm-up\n",
      std::string(RwkvVersionName(c.version)).c_str(), static_cast<long long>(c.n_layer),
      static_cast<long long>(c.n_embd), traffic.weight_type.c_str(), traffic.weight_bytes / 1e6,
      std::string(KernelIsaName(ActiveIsa())).c_str(), options.threads);

  PerfResult result = MeasurePerf(**model, options, [&](int rep, const PerfRun& r) {
    std::fprintf(stderr,
                 "dte perf: run %d/%d: prefill %lld tokens in %.3f s (%.1f tok/s), decode %lld "
                 "tokens in %.3f s (%.1f tok/s)\n",
                 rep + 1, options.repeat, static_cast<long long>(options.prompt_tokens),
                 r.prefill_s, options.prompt_tokens / std::max(r.prefill_s, 1e-12),
                 static_cast<long long>(options.gen_tokens), r.decode_s,
                 options.gen_tokens / std::max(r.decode_s, 1e-12));
  });
  const std::vector<BatchDecodeResult> batched =
      MeasureBatchDecode(**model, options, batch_sizes, [](const BatchDecodeResult& r) {
        std::fprintf(stderr,
                     "dte perf: batch %d: %.1f tok/s aggregate (%.2f per sequence, %.2f ms per "
                     "step)\n",
                     r.batch, r.decode_tok_s, r.per_sequence_tok_s, r.step_ms);
      });
  nlohmann::json j = ResultJson(model_path, **model, traffic, options, result, load_s);
  if (!batched.empty()) {
    j["batch_decode"] = BatchJson(traffic, batched);
    nlohmann::json by_size = nlohmann::json::object();
    for (const BatchDecodeResult& r : batched) by_size[std::to_string(r.batch)] = r.decode_tok_s;
    j["batch_decode_tok_s"] = by_size;
  }
  if (limits) {
    j["roofline"] = *limits;
    AddRooflineShares(j);
  }
  std::fprintf(stderr,
               "dte perf: median prefill %.2f tok/s, decode %.2f tok/s (%.2f GB/s of weights), "
               "peak RSS %.1f MiB\n",
               result.prefill_tok_s, result.decode_tok_s, j["decode_gb_s"].get<double>(),
               j["peak_rss_bytes"].get<double>() / (1 << 20));
  if (json) {
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    PrintTable(j);
    if (limits) {
      std::printf("\n");
      PrintRoofline(*limits);
      std::printf("\nbatch-1 decode reads weights at %.0f %% of the read bandwidth\n",
                  100 * j["decode_bandwidth_share"].get<double>());
      if (j.contains("batch_decode")) {
        for (const auto& b : j["batch_decode"]) {
          std::printf("batch %d: %.1f GFLOP/s, %.0f %% of the compute peak\n",
                      b["batch"].get<int>(), b["gflops"].get<double>(),
                      100 * b["compute_share"].get<double>());
        }
      }
    }
  }
  return 0;
}

const RegisterCommand kRegister("perf", "prefill and decode tokens/s and peak memory of a model",
                                RunPerf);

}  // namespace
}  // namespace dte::cli
