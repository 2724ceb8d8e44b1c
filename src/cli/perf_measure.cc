#include "cli/perf_measure.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <span>
#include <sstream>

#include "base/clock.h"
#include "base/thread_pool.h"

namespace dte::cli {
namespace {

// splitmix64: the same ids on every platform and standard library for a given seed.
std::vector<int32_t> SeededTokenIds(int64_t count, int64_t n_vocab, uint64_t seed) {
  std::vector<int32_t> ids(static_cast<size_t>(count));
  uint64_t s = seed;
  for (int32_t& id : ids) {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    id = static_cast<int32_t>(z % static_cast<uint64_t>(n_vocab));
  }
  return ids;
}

double Rate(int64_t tokens, double seconds) {
  return static_cast<double>(tokens) / std::max(seconds, 1e-12);
}

}  // namespace

WeightTraffic MeasureWeightTraffic(const Model& model) {
  WeightTraffic t;
  const TensorStore& ts = model.file().tensors;
  t.weight_bytes = ts.total_bytes();
  t.bytes_per_token = t.weight_bytes;
  for (const Tensor& tensor : ts.tensors()) t.weights_per_token += tensor.elements();
  if (const Tensor* emb = ts.Find("emb.weight"); emb != nullptr && model.config().n_vocab > 0) {
    t.bytes_per_token -= emb->bytes;
    t.bytes_per_token += emb->bytes / static_cast<size_t>(model.config().n_vocab);
    t.weights_per_token -= emb->elements() - emb->elements() / model.config().n_vocab;
  }
  std::map<std::string, size_t> by_type;
  for (const Tensor& tensor : ts.tensors())
    by_type[std::string(DTypeName(tensor.type))] += tensor.bytes;
  auto largest = std::max_element(by_type.begin(), by_type.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
  if (largest != by_type.end()) t.weight_type = largest->first;
  return t;
}

PerfResult MeasurePerf(const Model& model, const PerfOptions& options,
                       const std::function<void(int rep, const PerfRun&)>& progress) {
  const int64_t n_vocab = model.config().n_vocab;
  const std::vector<int32_t> prompt = SeededTokenIds(options.prompt_tokens, n_vocab, options.seed);
  const std::vector<int32_t> gen = SeededTokenIds(options.gen_tokens, n_vocab, options.seed + 1);
  ThreadPool pool(options.threads);
  Scratch scratch;
  std::vector<float> logits(static_cast<size_t>(n_vocab));

  {  // Warm-up, untimed: touches every weight page and grows Scratch to its final size.
    State state = model.NewState();
    model.ForwardSequence(prompt, state, logits.data(), scratch, &pool);
    model.ForwardSequence(std::span<const int32_t>(gen.data(), 1), state, logits.data(), scratch,
                          &pool);
  }

  PerfResult result;
  std::vector<double> prefill_rates, decode_rates;
  for (int rep = 0; rep < options.repeat; ++rep) {
    PerfRun run;
    State state = model.NewState();
    auto t0 = SteadyClock::now();
    model.ForwardSequence(prompt, state, logits.data(), scratch, &pool);
    run.prefill_s = SecondsSince(t0);

    state = model.NewState();
    auto t1 = SteadyClock::now();
    for (int32_t id : gen)
      model.ForwardSequence(std::span<const int32_t>(&id, 1), state, logits.data(), scratch, &pool);
    run.decode_s = SecondsSince(t1);

    prefill_rates.push_back(Rate(options.prompt_tokens, run.prefill_s));
    decode_rates.push_back(Rate(options.gen_tokens, run.decode_s));
    result.runs.push_back(run);
    if (progress) progress(rep, run);
  }
  result.prefill_tok_s = Median(prefill_rates);
  result.decode_tok_s = Median(decode_rates);
  result.decode_ms_per_token = 1e3 / std::max(result.decode_tok_s, 1e-12);
  return result;
}

std::vector<BatchDecodeResult> MeasureBatchDecode(
    const Model& model, const PerfOptions& options, const std::vector<int>& batch_sizes,
    const std::function<void(const BatchDecodeResult&)>& progress) {
  const int64_t n_vocab = model.config().n_vocab;
  ThreadPool pool(options.threads);
  Scratch scratch;
  std::vector<BatchDecodeResult> results;
  for (int batch : batch_sizes) {
    const size_t b = static_cast<size_t>(batch);
    // ids[step * b + i]: the token sequence i is fed at `step`.
    const std::vector<int32_t> ids =
        SeededTokenIds(options.gen_tokens * batch, n_vocab, options.seed + 2);
    std::vector<float> logits(b * static_cast<size_t>(n_vocab));
    std::vector<State> states;
    for (size_t i = 0; i < b; ++i) states.push_back(model.NewState());
    std::vector<SequenceChunk> chunks(b);
    auto fresh_states = [&] {
      for (State& state : states) state.Reset();
    };
    auto step = [&](int64_t s) {
      for (size_t i = 0; i < b; ++i)
        chunks[i] = SequenceChunk{std::span<const int32_t>(&ids[static_cast<size_t>(s) * b + i], 1),
                                  &states[i], logits.data() + i * static_cast<size_t>(n_vocab)};
      model.ForwardBatch(chunks, scratch, &pool);
    };
    fresh_states();
    step(0);  // warm-up: grows Scratch for this batch size

    BatchDecodeResult r;
    r.batch = batch;
    std::vector<double> rates;
    for (int rep = 0; rep < options.repeat; ++rep) {
      fresh_states();
      auto t0 = SteadyClock::now();
      for (int64_t s = 0; s < options.gen_tokens; ++s) step(s);
      r.runs_s.push_back(SecondsSince(t0));
      rates.push_back(Rate(options.gen_tokens * batch, r.runs_s.back()));
    }
    r.decode_tok_s = Median(rates);
    r.per_sequence_tok_s = r.decode_tok_s / batch;
    r.step_ms = 1e3 * batch / std::max(r.decode_tok_s, 1e-12);
    if (progress) progress(r);
    results.push_back(std::move(r));
  }
  return results;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

int64_t PeakRssBytes() {
  // VmHWM is exact in kB; ru_maxrss is the same number on Linux, kept as a fallback.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      int64_t kb = 0;
      if (fields >> kb) return kb * 1024;
    }
  }
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return static_cast<int64_t>(usage.ru_maxrss) * 1024;
  return 0;
}

}  // namespace dte::cli
