#pragma once
// Test plumbing: an io_context on its own thread to run coroutines from a test body.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

namespace dte::autoscale::testing {

class Loop {
 public:
  Loop() : work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
  ~Loop() {
    work_.reset();
    ioc_.stop();
    thread_.join();
  }
  boost::asio::io_context& ioc() { return ioc_; }
  // Runs a coroutine factory's awaitable to completion and returns its value.
  template <class Fn>
  auto Run(Fn fn) {
    return boost::asio::co_spawn(ioc_, std::move(fn), boost::asio::use_future).get();
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace dte::autoscale::testing
