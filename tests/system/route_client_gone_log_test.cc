// System test of the router's request log for a client that hangs up before its response ends:
// it is the client's doing, not a server error, so `dte route` logs it as status 499 ("client
// closed request") at warning level with the error "the client left", never at error level. A
// completed request stays an info line. Real `dte serve` and `dte route` processes.

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "system/child_process.h"
#include "system/server_process.h"

namespace dte {
namespace {

using json = nlohmann::json;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";

// The router's request lines (JSON objects with "msg":"request") on its stderr so far.
std::vector<json> RequestLines(const std::string& stderr_text) {
  std::vector<json> out;
  std::istringstream in(stderr_text);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "request") out.push_back(j);
  }
  return out;
}

// Sends a long generation and closes the connection early: a stream after its first bytes, a
// whole-response request after `wait` (the 4000 tokens take far longer to generate).
void SendAndHangUp(int port, bool stream, std::chrono::milliseconds wait) {
  const std::string body = json{{"model", "demo"},
                                {"prompt", "Once upon a time"},
                                {"max_tokens", 4000},
                                {"ignore_eos", true},
                                {"stream", stream}}
                               .dump();
  int fd = testing::Connect(port);
  ASSERT_GE(fd, 0);
  testing::SendAll(fd,
                   "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                   "application/json\r\nContent-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n" + body);
  if (stream) {
    char buf[512];
    EXPECT_GT(recv(fd, buf, sizeof(buf), 0), 0) << "the stream sent nothing";
  } else {
    std::this_thread::sleep_for(wait);
  }
  shutdown(fd, SHUT_RDWR);
  close(fd);
}

TEST(RouteClientGoneLogTest, ClientThatLeftIsAWarningWith499NotAnError) {
  testing::ServerProcess worker(kModel);
  ASSERT_GT(worker.port(), 0);
  testing::ChildProcess router(
      {"route", "--listen", "127.0.0.1:0", "--backends",
       "http://127.0.0.1:" + std::to_string(worker.port()), "--log-level", "info"},
      "/tmp/dte_route_client_gone." + std::to_string(getpid()));
  const int port = router.WaitForPort();
  ASSERT_GT(port, 0) << router.err();
  const auto ready_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (testing::RawRequest(port, "GET", "/ready", "").status != 200 &&
         std::chrono::steady_clock::now() < ready_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));

  const json ok_body = {{"model", "demo"}, {"prompt", "Hello"}, {"max_tokens", 2}};
  ASSERT_EQ(testing::RawRequest(port, "POST", "/v1/completions", ok_body.dump()).status, 200);
  SendAndHangUp(port, /*stream=*/true, std::chrono::milliseconds(0));
  SendAndHangUp(port, /*stream=*/false, std::chrono::milliseconds(30));

  // The router writes a request's line when it has finished with it; the hang-ups are noticed
  // within the backend's next write (streams) or at once (the router watches the client socket).
  std::vector<json> lines;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    lines = RequestLines(router.err());
    int gone = 0;
    for (const json& l : lines) gone += l.value("status", 0) == 499 ? 1 : 0;
    if (gone >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int ok = 0, gone = 0;
  for (const json& l : lines) {
    EXPECT_NE(l.value("level", ""), "error") << l.dump();
    if (l.value("route", "") != "/v1/completions") continue;
    if (l.value("status", 0) == 200) {
      ++ok;
      EXPECT_EQ(l["level"], "info") << l.dump();
    } else {
      ++gone;
      EXPECT_EQ(l["status"], 499) << l.dump();
      EXPECT_EQ(l["level"], "warning") << l.dump();
      EXPECT_EQ(l["error"], "the client left") << l.dump();
    }
  }
  EXPECT_EQ(ok, 1) << router.err();
  EXPECT_EQ(gone, 2) << router.err();
  // The metrics keep their own label for it.
  EXPECT_NE(testing::RawRequest(port, "GET", "/metrics", "").body.find("code=\"client_gone\""),
            std::string::npos);
  EXPECT_EQ(router.Terminate(std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace dte
