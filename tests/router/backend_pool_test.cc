// Unit tests of backend URLs, the pool (add, remove, drain) and the routing context.
#include "router/backend_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <thread>

#include "router/proxy.h"

namespace dte::router {
namespace {

TEST(ParseBackendUrl, AcceptsTheUsualFormsAndNormalizes) {
  auto a = ParseBackendUrl("http://127.0.0.1:9001/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->url, "http://127.0.0.1:9001");
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9001);
  auto b = ParseBackendUrl("localhost:8080");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->url, "http://localhost:8080");
  for (const char* bad : {"http://127.0.0.1", "http://h:0", "http://h:70000", "http://h:12x",
                          "http://h:1/path", "https://h:443", ":80"}) {
    EXPECT_FALSE(ParseBackendUrl(bad).ok()) << bad;
  }
}

class BackendPoolTest : public ::testing::Test {
 protected:
  boost::asio::io_context io_;
  BackendPool pool_{io_.get_executor()};
};

TEST_F(BackendPoolTest, AddRejectsDuplicatesAndRemoveUnknown) {
  ASSERT_TRUE(pool_.AddBackend("http://127.0.0.1:9001").ok());
  EXPECT_EQ(pool_.AddBackend("127.0.0.1:9001").code(), StatusCode::kConflict);
  EXPECT_EQ(pool_.RemoveBackend("http://127.0.0.1:9002", true).code(), StatusCode::kNotFound);
  EXPECT_EQ(pool_.AddBackend("nonsense").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(pool_.size(), 1u);
}

TEST_F(BackendPoolTest, SnapshotReportsStateAndCounters) {
  ASSERT_TRUE(pool_.AddBackend("http://127.0.0.1:9001").ok());
  ASSERT_TRUE(pool_.AddBackend("http://127.0.0.1:9002").ok());
  auto b = pool_.Find("http://127.0.0.1:9002");
  ASSERT_TRUE(b);
  b->set_probe_healthy(false);
  {
    InFlight f(pool_, pool_.Find("http://127.0.0.1:9001"));
    auto snap = pool_.Snapshot();
    ASSERT_EQ(snap.size(), 2u);
    EXPECT_EQ(snap[0].outstanding, 1);
    EXPECT_EQ(snap[0].requests, 1u);
    EXPECT_TRUE(snap[0].healthy);
    EXPECT_EQ(snap[0].state, "healthy");
    EXPECT_FALSE(snap[1].healthy);
    EXPECT_EQ(snap[1].state, "unhealthy");
  }
  EXPECT_EQ(pool_.Snapshot()[0].outstanding, 0);
  b->set_probe_healthy(true);
  b->breaker().Trip();
  EXPECT_EQ(pool_.Snapshot()[1].state, "open");
  EXPECT_FALSE(pool_.Snapshot()[1].healthy);
}

TEST_F(BackendPoolTest, DrainingKeepsABusyBackendUntilItsLastRequestEnds) {
  ASSERT_TRUE(pool_.AddBackend("http://127.0.0.1:9001").ok());
  std::vector<std::string> removed;
  pool_.SetRemovalListener([&](const std::string& url) { removed.push_back(url); });
  auto f = std::make_unique<InFlight>(pool_, pool_.Find("http://127.0.0.1:9001"));
  ASSERT_TRUE(pool_.RemoveBackend("http://127.0.0.1:9001", /*drain=*/true).ok());
  ASSERT_EQ(pool_.size(), 1u);
  EXPECT_EQ(pool_.Snapshot()[0].state, "draining");
  EXPECT_FALSE(pool_.Snapshot()[0].healthy) << "a draining backend takes no new requests";
  EXPECT_FALSE(pool_.WaitRemoved("http://127.0.0.1:9001", std::chrono::milliseconds(20)));
  std::thread finisher([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    f.reset();
  });
  EXPECT_TRUE(pool_.WaitRemoved("http://127.0.0.1:9001", std::chrono::seconds(5)));
  finisher.join();
  EXPECT_EQ(pool_.size(), 0u);
  EXPECT_EQ(removed, std::vector<std::string>{"http://127.0.0.1:9001"});
}

TEST_F(BackendPoolTest, RemovingWithoutDrainIsImmediate) {
  ASSERT_TRUE(pool_.AddBackend("http://127.0.0.1:9001").ok());
  InFlight f(pool_, pool_.Find("http://127.0.0.1:9001"));
  ASSERT_TRUE(pool_.RemoveBackend("http://127.0.0.1:9001", /*drain=*/false).ok());
  EXPECT_EQ(pool_.size(), 0u);
  EXPECT_EQ(f.backend().outstanding(), 1) << "the request in flight keeps its backend object";
}

TEST(ExtractRouteContext, FindsKeysAndPromptText) {
  auto a =
      ExtractRouteContext("/v1/completions", R"({"prompt":"hello","session_id":"s1","user":"u"})");
  EXPECT_EQ(a.affinity_key, "s1");
  EXPECT_TRUE(a.is_session_key);
  EXPECT_EQ(a.prompt_text, "hello");
  auto b = ExtractRouteContext(
      "/v1/chat/completions",
      R"({"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"user":"ann"})");
  EXPECT_EQ(b.affinity_key, "ann");
  EXPECT_FALSE(b.is_session_key);
  EXPECT_EQ(b.prompt_text, "system: be brief\nuser: hi\n");
  auto c = ExtractRouteContext("/v1/sessions/abc/turns", "");
  EXPECT_EQ(c.affinity_key, "abc");
  EXPECT_TRUE(c.is_session_key);
  auto d = ExtractRouteContext("/v1/completions", "not json {");
  EXPECT_TRUE(d.affinity_key.empty());
  EXPECT_TRUE(d.prompt_text.empty());
  auto e = ExtractRouteContext("/v1/completions", R"({"prompt":["first","second"]})");
  EXPECT_EQ(e.prompt_text, "first");
}

}  // namespace
}  // namespace dte::router
