#pragma once
// Internal to src/http: the state a Server shares with its connection sessions (the "shared
// state" of the listener / session / shared-state split). Options and router are read-only
// once the server runs; counters are atomics; the registry of live connections and the
// condition variable that Stop() and WaitDrained() sleep on sit under `mu`.

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/router.h"
#include "http/server.h"

namespace dte::http::internal {

class Connection;

struct ServerState {
  ServerState(ServerOptions o, Router r) : options(std::move(o)), router(std::move(r)) {}

  const ServerOptions options;
  const Router router;

  std::atomic<bool> draining{false};
  std::atomic<size_t> open_connections{0};
  std::atomic<size_t> in_flight{0};
  std::atomic<uint64_t> requests_total{0};

  std::mutex mu;
  std::condition_variable cv;       // notified when in_flight or open_connections drops
  uint64_t next_connection_id = 1;  // guarded by mu
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mu

  ErrorBody MakeErrorBody(int status, std::string_view message, std::string_view code) const {
    if (options.error_body) return options.error_body(status, message, code);
    return {"text/plain; charset=utf-8", std::string(message) + "\n"};
  }
  void LogRequest(const RequestLogEntry& entry) const {
    if (options.request_log) options.request_log(entry);
  }
  void RequestStarted() {
    in_flight.fetch_add(1);
    requests_total.fetch_add(1);
  }
  void RequestDone() {
    {
      std::lock_guard lock(mu);
      in_flight.fetch_sub(1);
    }
    cv.notify_all();
  }
};

// Spawns the session coroutine of an accepted connection on the socket's executor (a strand).
void StartConnection(ServerState& state, boost::asio::ip::tcp::socket socket);
// Posts a close to every live connection; their in-flight requests are cancelled.
void CloseAllConnections(ServerState& state);

}  // namespace dte::http::internal
