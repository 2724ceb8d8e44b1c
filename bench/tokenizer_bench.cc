// World tokenizer throughput: Encode and Decode over a few KB of mixed-script text
// (English prose, Chinese, Japanese, Cyrillic, emoji, code). Reports bytes/s of input text.
//   build-*/bench/dte_bench_micro --benchmark_filter=Tokenizer

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "base/check.h"
#include "tokenizer/tokenizer.h"

namespace dte {
namespace {

constexpr const char* kMixedText =
    "RWKV is a recurrent neural network with transformer-level performance. Its state has a "
    "fixed size, so a conversation can be paused, stored and resumed in O(1).\n\n"
    "User: What is the capital of France?\n\nAssistant: The capital of France is Paris.\n\n"
    "循环神经网络的状态大小是固定的，因此对话可以随时暂停、保存，然后再继续。人工智能正在改变世界。"
    "\n"
    "吾輩は猫である。名前はまだ無い。東京は日本の首都です。カタカナとひらがな。\n"
    "Привет, мир! Съешь же ещё этих мягких французских булок, да выпей чаю.\n"
    "Emoji: 😀 🤖 🚀🔥 👍🏽 🇯🇵 ❤️\n"
    "def encode(vocab, data):\n"
    "    ids, pos = [], 0\n"
    "    while pos < len(data):\n"
    "        for n in range(min(128, len(data) - pos), 0, -1):\n"
    "            if (tid := vocab.get(data[pos:pos + n])) is not None:\n"
    "                ids.append(tid); pos += n; break\n"
    "    return ids\n"
    "{\"model\": \"rwkv7\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi!\"}]}\n";

// $DTE_WORLD_VOCAB, else the bundled copy: DTE_SOURCE_DIR when the build defines it, else found
// from this file's path (CMake compiles sources by absolute path).
std::string VocabPath() {
  if (const char* env = std::getenv("DTE_WORLD_VOCAB")) return env;
#ifdef DTE_SOURCE_DIR
  std::string root = DTE_SOURCE_DIR;
#else
  std::string root = __FILE__;
  root = root.substr(0, root.rfind("/bench/"));
#endif
  return root + "/models/rwkv_vocab_v20230424.txt";
}

const Tokenizer& World() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    const std::string path = VocabPath();
    Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer(path);
    DTE_CHECK(t.ok(), t.status().ToString());
    return std::move(t).value();
  }();
  return *tokenizer;
}

// About 8 KB: the mixed paragraph repeated.
std::string MixedText() {
  std::string text;
  while (text.size() < 8192) text += kMixedText;
  return text;
}

void BM_TokenizerWorldEncode(benchmark::State& state) {
  const Tokenizer& t = World();
  const std::string text = MixedText();
  size_t tokens = 0;
  for (auto _ : state) {
    std::vector<int32_t> ids = t.Encode(text);
    tokens = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(tokens);
  state.counters["bytes_per_token"] = static_cast<double>(text.size()) / tokens;
}
BENCHMARK(BM_TokenizerWorldEncode);

void BM_TokenizerWorldDecode(benchmark::State& state) {
  const Tokenizer& t = World();
  const std::string text = MixedText();
  const std::vector<int32_t> ids = t.Encode(text);
  for (auto _ : state) {
    std::string out = t.Decode(ids);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_TokenizerWorldDecode);

void BM_TokenizerWorldLoad(benchmark::State& state) {
  const std::string path = VocabPath();
  for (auto _ : state) {
    Result<std::unique_ptr<Tokenizer>> t = LoadWorldTokenizer(path);
    DTE_CHECK(t.ok(), t.status().ToString());
    benchmark::DoNotOptimize(t.value().get());
  }
}
BENCHMARK(BM_TokenizerWorldLoad)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace dte
