#include "bench/workload.h"

#include <array>
#include <nlohmann/json.hpp>
#include <random>
#include <string_view>

namespace dte::bench {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 64> kWords = {
    "the",      "of",     "and",    "to",      "in",      "a",       "is",     "that",
    "for",      "it",     "as",     "was",     "with",    "be",      "by",     "on",
    "not",      "he",     "this",   "are",     "or",      "his",     "from",   "at",
    "which",    "but",    "have",   "an",      "had",     "they",    "you",    "were",
    "their",    "one",    "all",    "we",      "can",     "her",     "has",    "there",
    "been",     "if",     "more",   "when",    "will",    "would",   "who",    "so",
    "river",    "garden", "music",  "window",  "winter",  "letter",  "market", "island",
    "mountain", "story",  "family", "morning", "kitchen", "journey", "forest", "question"};

}  // namespace

std::string SynthesizePrompt(int words, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out;
  for (int i = 0; i < words; ++i) {
    if (i > 0) out.push_back(' ');
    out.append(kWords[rng() % kWords.size()]);
  }
  out.push_back('.');
  return out;
}

std::string PromptFor(const WorkloadOptions& w, uint64_t seed) {
  if (w.prefixes <= 0 || w.prefix_words <= 0) return SynthesizePrompt(w.prompt_words, seed);
  // splitmix64's finalizer: every bit of the seed reaches the low bits used here (a bare multiply
  // only carries low bits upward, so the user bits of a closed-loop seed were lost).
  uint64_t z = seed + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  const uint64_t which = z % static_cast<uint64_t>(w.prefixes);
  return SynthesizePrompt(w.prefix_words, 0x5EED0000ull + which) + " " +
         SynthesizePrompt(w.prompt_words, seed);
}

std::string RequestPath(const WorkloadOptions& w) {
  return w.chat ? "/chat/completions" : "/completions";
}

std::string RequestBody(const WorkloadOptions& w, const std::string& prompt,
                        const std::optional<std::string>& session_id,
                        std::optional<int> max_tokens) {
  json j;
  j["model"] = w.model;
  if (w.chat) {
    j["messages"] = json::array({json{{"role", "user"}, {"content", prompt}}});
    if (session_id) j["session_id"] = *session_id;
  } else {
    j["prompt"] = prompt;
  }
  j["max_tokens"] = max_tokens.value_or(w.max_tokens);
  j["stream"] = w.stream;
  if (w.stream) j["stream_options"] = json{{"include_usage", true}};
  if (w.ignore_eos) j["ignore_eos"] = true;
  if (w.temperature) j["temperature"] = *w.temperature;
  return j.dump();
}

std::string SessionBody(const std::string& system_prompt) {
  json j = json::object();
  if (!system_prompt.empty()) j["system"] = system_prompt;
  return j.dump();
}

std::optional<std::string> FirstModelId(const std::string& models_json) {
  json j = json::parse(models_json, nullptr, false);
  if (!j.is_object() || !j.contains("data") || !j["data"].is_array() || j["data"].empty())
    return std::nullopt;
  const json& first = j["data"][0];
  if (!first.is_object() || !first.contains("id") || !first["id"].is_string()) return std::nullopt;
  return first["id"].get<std::string>();
}

std::optional<std::string> SessionId(const std::string& session_json) {
  json j = json::parse(session_json, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string()) return std::nullopt;
  return j["id"].get<std::string>();
}

}  // namespace dte::bench
