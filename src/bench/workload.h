#pragma once
// Workload: what each simulated user asks for. Builds the JSON bodies of completion, chat and
// session requests for an OpenAI-compatible server, with synthesized prompts.
//
// Prompts are drawn from a fixed list of common English words by a seeded generator, so runs
// are reproducible, while different requests get different prompts (a server's prefix cache
// cannot turn the benchmark into a cache benchmark by accident), unless a shared-prefix
// workload asks for exactly that: `prefixes` system prompts of `prefix_words` words, one of
// which (chosen by the request's seed) starts every prompt.
//
// A raw workload (`raw_path` set) sends a bodiless `raw_method` request to that path (e.g.
// GET /health) and only times it: for measuring the client itself against a trivial endpoint.
// Stateless functions.

#include <cstdint>
#include <optional>
#include <string>

namespace dte::bench {

struct WorkloadOptions {
  std::string model;  // sent as "model"
  bool chat = false;  // /chat/completions instead of /completions
  bool stream = true;
  int prompt_words = 100;
  int max_tokens = 64;
  bool ignore_eos = true;  // llama-server's "ignore_eos": every request generates max_tokens
  std::optional<double> temperature;
  int session_turns = 0;  // > 0: each user runs sessions of this many chat turns
  uint64_t seed = 1;
  int prefixes = 0;      // > 0: shared-prefix workload with this many distinct prefixes
  int prefix_words = 0;  // words in each shared prefix
  std::string raw_path;  // non-empty: a raw workload (path below the server root, not /v1)
  std::string raw_method = "GET";
};

// The prompt of one request of a workload: a shared prefix (if any) and `prompt_words`
// words of its own, deterministic in `seed`.
std::string PromptFor(const WorkloadOptions& w, uint64_t seed);

// About `words` words separated by spaces, ending in a period; deterministic in `seed`.
std::string SynthesizePrompt(int words, uint64_t seed);

// The body of POST {root}/completions or {root}/chat/completions (chat puts the prompt in one
// user message). `session_id`, chat only, continues a `dte serve` session.
// `max_tokens` overrides the workload's (trace replay asks for each request's own).
std::string RequestBody(const WorkloadOptions& w, const std::string& prompt,
                        const std::optional<std::string>& session_id = std::nullopt,
                        std::optional<int> max_tokens = std::nullopt);

// "/completions" or "/chat/completions".
std::string RequestPath(const WorkloadOptions& w);

// The body of POST {root}/sessions.
std::string SessionBody(const std::string& system_prompt);

// The first model id of a GET {root}/models answer, if any.
std::optional<std::string> FirstModelId(const std::string& models_json);

// The "id" of a POST {root}/sessions answer, if any.
std::optional<std::string> SessionId(const std::string& session_json);

}  // namespace dte::bench
