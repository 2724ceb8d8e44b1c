#include "http/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/log.h"
#include "http/server_state.h"

namespace dte::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

// Members are destroyed bottom-up: the threads are joined by then, the acceptor goes before
// the io_context, and the io_context (with any coroutine frames still queued in it) goes
// before the shared state those frames point at.
struct Server::Impl {
  Impl(ServerOptions options, Router router) : state(std::move(options), std::move(router)) {}

  asio::awaitable<void> AcceptLoop();

  internal::ServerState state;
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  std::vector<std::thread> threads;
  std::atomic<uint16_t> port{0};
  std::mutex lifecycle_mu;
  bool started = false;  // guarded by lifecycle_mu
  bool stopped = false;  // guarded by lifecycle_mu
};

namespace {

void LogAcceptLoopExit(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    LogError(std::string("http: accept loop failed: ") + ex.what());
  }
}

Result<tcp::endpoint> ResolveListenAddress(const std::string& address, uint16_t port) {
  error_code ec;
  asio::ip::address ip = asio::ip::make_address(address, ec);
  if (!ec) return tcp::endpoint(ip, port);
  asio::io_context resolve_ctx;
  tcp::resolver resolver(resolve_ctx);
  auto results = resolver.resolve(address, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Status::InvalidArgument("cannot resolve listen address '" + address +
                                   "': " + ec.message());
  }
  return results.begin()->endpoint();
}

}  // namespace

asio::awaitable<void> Server::Impl::AcceptLoop() {
  for (;;) {
    tcp::socket socket(asio::make_strand(ioc));
    auto [ec] = co_await acceptor.async_accept(socket, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (!acceptor.is_open() || ec == asio::error::operation_aborted) co_return;
      // Out of file descriptors or similar: back off so the loop does not spin.
      LogWarning("http: accept failed: " + ec.message());
      asio::steady_timer backoff(acceptor.get_executor(), std::chrono::milliseconds(50));
      co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (state.draining.load()) {
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    internal::StartConnection(state, std::move(socket));
  }
}

Server::Server(ServerOptions options, Router router)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router))) {}

Server::~Server() { Stop(); }

Status Server::Start() {
  std::lock_guard lock(impl_->lifecycle_mu);
  if (impl_->started || impl_->stopped) return Status::Internal("Server::Start called twice");
  const ServerOptions& options = impl_->state.options;
  DTE_ASSIGN_OR_RETURN(tcp::endpoint endpoint, ResolveListenAddress(options.address, options.port));
  tcp::acceptor& acceptor = impl_->acceptor;
  error_code ec;
  auto fail = [&](const char* what) {
    error_code ignored;
    acceptor.close(ignored);
    return Status::IoError(std::string("http: ") + what + " " + options.address + ":" +
                           std::to_string(options.port) + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("cannot open a socket for");
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("cannot set SO_REUSEADDR for");
  acceptor.bind(endpoint, ec);
  if (ec) return fail("cannot bind");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("cannot listen on");
  impl_->port = acceptor.local_endpoint(ec).port();

  asio::co_spawn(acceptor.get_executor(), impl_->AcceptLoop(), LogAcceptLoopExit);
  impl_->work.emplace(impl_->ioc.get_executor());
  int n_threads = std::max(1, options.io_threads);
  for (int i = 0; i < n_threads; ++i) {
    impl_->threads.emplace_back([ioc = &impl_->ioc] { ioc->run(); });
  }
  impl_->started = true;
  return Status::Ok();
}

uint16_t Server::port() const { return impl_->port.load(); }

asio::io_context& Server::io_context() { return impl_->ioc; }

void Server::BeginDrain() {
  if (impl_->state.draining.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    error_code ec;
    impl->acceptor.close(ec);
  });
  impl_->state.cv.notify_all();
}

bool Server::WaitDrained(std::chrono::milliseconds timeout) {
  internal::ServerState& state = impl_->state;
  std::unique_lock lock(state.mu);
  return state.cv.wait_for(lock, timeout, [&] { return state.in_flight.load() == 0; });
}

void Server::Stop() {
  std::lock_guard lifecycle(impl_->lifecycle_mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  if (!impl_->started) return;
  BeginDrain();
  internal::ServerState& state = impl_->state;
  internal::CloseAllConnections(state);
  {
    std::unique_lock lock(state.mu);
    state.cv.wait_for(lock, state.options.stop_grace,
                      [&] { return state.open_connections.load() == 0; });
  }
  impl_->work.reset();
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) t.join();
  impl_->threads.clear();
  // The loop may have stopped before the posted close ran; no thread runs it now.
  error_code ec;
  impl_->acceptor.close(ec);
}

bool Server::draining() const { return impl_->state.draining.load(); }
size_t Server::open_connections() const { return impl_->state.open_connections.load(); }
size_t Server::in_flight_requests() const { return impl_->state.in_flight.load(); }
uint64_t Server::requests_total() const { return impl_->state.requests_total.load(); }

}  // namespace dte::http
