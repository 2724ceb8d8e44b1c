// dte serve: one worker with the OpenAI-compatible API (see server/serve.h).
#include <CLI/CLI.hpp>

#include "base/log.h"
#include "cache/eviction_policy.h"
#include "cli/command.h"
#include "server/serve.h"

namespace dte::cli {
namespace {

int RunServeCommand(int argc, char** argv) {
  CLI::App app("Serve a model over an OpenAI-compatible HTTP API", "dte serve");
  server::ServeOptions o;
  int64_t drain_s = o.drain_timeout.count(), idle_ttl_s = o.engine.sessions.idle_ttl.count();
  std::string log_level = "info";
  app.add_option("--model", o.model_path, "model file (.bin, .gguf, .safetensors)")->required();
  app.add_option("--model-name", o.model_name, "name clients use (default: the file name)");
  app.add_option("--host", o.host, "address to listen on");
  app.add_option("--port", o.port, "port to listen on (0: any free port)");
  app.add_option("--vocab", o.vocab_path, "World vocabulary file");
  app.add_option("--chat-template", o.chat_template_path, "JSON file replacing the chat template");
  app.add_option("--threads", o.engine.threads, "forward-pass threads (0: all cores)")->check(CLI::Range(0, 256));
  app.add_option("--io-threads", o.io_threads, "HTTP threads")->check(CLI::Range(1, 64));
  app.add_option("--max-batch", o.engine.max_batch,
                 "sequences running at once (0: by model size, 64 for 0.1B-class models up to 1024 "
                 "for tiny ones)")
      ->check(CLI::Range(0, 4096));
  app.add_option("--max-queue", o.engine.max_queue, "requests waiting; more get 429")->check(CLI::Range(0, 1 << 20));
  app.add_option("--prefill-chunk", o.engine.prefill_chunk, "prompt tokens of one request per step")
      ->check(CLI::Range(1, 1 << 16));
  double step_ms = o.engine.step_seconds * 1000;
  app.add_option("--step-ms", step_ms,
                 "longest scheduler step: prompt tokens per step are limited to what the "
                 "measured step cost allows in this time (0: --step-min-tokens)")
      ->check(CLI::Range(0.0, 60000.0));
  app.add_option("--step-min-tokens", o.engine.step_min_tokens,
                 "prompt tokens every step may run, whatever the decode load")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--max-sessions", o.engine.sessions.max_sessions, "sessions kept")->check(CLI::Range(1, 1 << 24));
  app.add_option("--session-ttl", idle_ttl_s, "seconds an idle session is kept")->check(CLI::Range(1, 1 << 30));
  app.add_option("--max-tokens-limit", o.limits.max_tokens_limit, "largest max_tokens accepted")->check(CLI::Range(1, 1 << 24));
  app.add_option("--body-limit", o.body_limit, "largest request body in bytes");
  app.add_option("--drain-timeout", drain_s, "seconds to finish in-flight work on SIGTERM")->check(CLI::Range(0, 3600));
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}));
  app.add_option("--otlp-endpoint", o.tracing.otlp_endpoint,
                 "OTLP/HTTP JSON trace endpoint, e.g. http://127.0.0.1:4318/v1/traces "
                 "(default: traces kept in memory only, GET /v1/traces)");
  app.add_option("--trace-sample-ratio", o.tracing.sample_ratio,
                 "share of new traces recorded (a caller's traceparent decides for its trace)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--trace-store-spans", o.tracing.store_spans,
                 "finished spans kept in memory for GET /v1/traces")
      ->check(CLI::Range(1, 10'000'000));
  bool no_cache = false;
  app.add_flag("--no-cache", no_cache,
               "run without the state cache (prefix checkpoints, sessions on disk)");
  app.add_option("--cache-ram-mb", o.cache.ram_mb, "state cache L1 budget (decoded states), MiB")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("--cache-compressed-mb", o.cache.compressed_mb,
                 "state cache L2 budget (compressed), MiB; 0: no L2")
      ->check(CLI::Range(0, 1 << 24));
  app.add_option("--cache-dir", o.cache.dir,
                 "directory of the on-disk state cache (L3; survives restarts)");
  app.add_option("--cache-disk-mb", o.cache.disk_mb, "state cache L3 budget, MiB")
      ->check(CLI::Range(1, 1 << 26));
  app.add_option(
         "--checkpoint-interval", o.cache.checkpoint_interval,
         "prefix checkpoint every N prompt tokens (besides prompt ends and chat turns); 0: none")
      ->check(CLI::Range(0, 1 << 24));
  std::string eviction(EvictionPolicyName(o.cache.eviction));
  app.add_option("--cache-eviction", eviction,
                 "eviction policy of L1 and L2: wtinylfu, s3fifo, sieve or lru (docs/state_cache.md)")
      ->check([](const std::string& name) {
        return ParseEvictionPolicy(name) ? std::string()
                                         : "unknown eviction policy '" + name +
                                               "' (wtinylfu, s3fifo, sieve or lru)";
      });
  app.add_option("--redis", o.cache.redis_url,
                 "shared state cache tier, redis://[:password@]host[:port][/db]");
  int64_t ram_ttl_s = 0, compressed_ttl_s = 0, disk_ttl_s = 0, redis_ttl_s = -1;
  app.add_option("--cache-ram-ttl", ram_ttl_s,
                 "seconds a prefix checkpoint may stay in L1 after it was cached (not sessions); 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option("--cache-compressed-ttl", compressed_ttl_s,
                 "seconds a prefix checkpoint may stay in L2 after it was cached (not sessions); 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option("--cache-disk-ttl", disk_ttl_s,
                 "seconds an L3 entry (sessions too) lives after it was written to disk; 0: no limit")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option("--redis-prefix", o.cache.redis_prefix,
                 "key namespace in Redis; all workers of a deployment must agree (default dte:cache:)");
  app.add_option("--redis-ttl", redis_ttl_s,
                 "seconds a Redis key lives after it was written; 0: none (Redis' maxmemory evicts) "
                 "(default 86400)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 30));
  app.add_option(
      "--admin-token", o.admin_token,
      "bearer token for admin endpoints (POST /v1/cache/clear); default: loopback clients only");
  CLI11_PARSE(app, argc, argv);
  o.cache.enabled = !no_cache;
  o.cache.eviction = *ParseEvictionPolicy(eviction);
  o.engine.step_seconds = step_ms / 1000;
  o.drain_timeout = std::chrono::seconds(drain_s);
  o.engine.sessions.idle_ttl = std::chrono::seconds(idle_ttl_s);
  o.cache.ram_ttl = std::chrono::seconds(ram_ttl_s);
  o.cache.compressed_ttl = std::chrono::seconds(compressed_ttl_s);
  o.cache.disk_ttl = std::chrono::seconds(disk_ttl_s);
  if (redis_ttl_s >= 0) o.cache.redis_ttl = std::chrono::seconds(redis_ttl_s);
  SetLogLevel(log_level == "debug" ? LogLevel::kDebug : log_level == "warning" ? LogLevel::kWarning
              : log_level == "error" ? LogLevel::kError : LogLevel::kInfo);
  return server::RunServe(o);
}

const RegisterCommand kRegister("serve", "serve a model over an OpenAI-compatible HTTP API", RunServeCommand);

}  // namespace
}  // namespace dte::cli
