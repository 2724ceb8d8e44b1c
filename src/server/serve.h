#pragma once
// `dte serve`: one worker process. Loads the model, starts the engine and the HTTP server,
// and runs until SIGTERM/SIGINT, then drains: stops accepting, answers new requests 503,
// lets in-flight work finish (up to drain_timeout), exits 0.

#include <chrono>
#include <cstdint>
#include <string>

#include "engine/engine.h"
#include "server/api_service.h"

namespace dte::server {

struct ServeOptions {
  std::string model_path;
  std::string model_name;  // default: the file name without extension
  std::string vocab_path;  // default: the one embedded in the file / shipped
  std::string chat_template_path;
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  int io_threads = 1;
  size_t body_limit = 8u << 20;
  std::chrono::seconds drain_timeout{30};
  EngineOptions engine;
  ApiLimits limits;
};

// Returns the process exit code.
int RunServe(const ServeOptions& options);

}  // namespace dte::server
