// Target URLs and the loopback-only rule.
#include "bench/target.h"

#include <gtest/gtest.h>

namespace dte::bench {
namespace {

TEST(TargetTest, ParsesHostPortAndApiRoot) {
  Result<Target> t = ParseTarget("http://127.0.0.1:8080");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->host, "127.0.0.1");
  EXPECT_EQ(t->port, 8080);
  EXPECT_EQ(t->api_root, "/v1");
  EXPECT_EQ(t->Url(), "http://127.0.0.1:8080/v1");
  EXPECT_EQ(ParseTarget("http://localhost:9/v1/")->api_root, "/v1");
  EXPECT_EQ(ParseTarget("http://localhost:9/proxy")->api_root, "/proxy/v1");
  EXPECT_EQ(ParseTarget("http://localhost")->port, 80);
  Result<Target> v6 = ParseTarget("http://[::1]:81");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Url(), "http://[::1]:81/v1");
}

TEST(TargetTest, RejectsWhatItCannotUse) {
  for (const char* bad : {"https://localhost:1", "localhost:80", "http://:80", "http://h:0",
                          "http://h:70000", "http://h:8x", "http://[::1", "http://h:1/?q=1"}) {
    EXPECT_FALSE(ParseTarget(bad).ok()) << bad;
  }
}

TEST(TargetTest, LoopbackOnlyUnlessAllowed) {
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
  EXPECT_FALSE(ResolveTarget("http://10.0.0.1:80", false).ok());
  EXPECT_TRUE(ResolveTarget("http://10.0.0.1:80", true).ok());
  EXPECT_TRUE(ResolveTarget("http://127.0.0.1:80", false).ok());
}

}  // namespace
}  // namespace dte::bench
