#pragma once
// Test helpers on top of server_process.h: GET a JSON document, poll a condition, and count the
// backends of a router's pool.

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "system/server_process.h"

namespace dte::testing {

// GET `path` as JSON: an empty object when the body is not JSON; the status goes to `status`.
inline nlohmann::json GetJson(int port, const std::string& path, int* status = nullptr) {
  HttpReply r = RawRequest(port, "GET", path, "");
  if (status) *status = r.status;
  nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_discarded() ? nlohmann::json::object() : j;
}

// Polls `cond` every 50 ms until it holds or `timeout` passes; then evaluates it once more.
inline bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// Backends in a router's pool (GET /v1/backends; any state), -1 when it does not answer.
inline int PoolSize(int port) {
  nlohmann::json j = GetJson(port, "/v1/backends");
  return j.contains("data") ? static_cast<int>(j["data"].size()) : -1;
}

// Backends of the pool that take requests (healthy), -1 when it does not answer.
inline int HealthyCount(int port) {
  nlohmann::json j = GetJson(port, "/v1/backends");
  if (!j.contains("data")) return -1;
  int n = 0;
  for (const nlohmann::json& b : j["data"]) n += b["healthy"] == true ? 1 : 0;
  return n;
}

}  // namespace dte::testing
