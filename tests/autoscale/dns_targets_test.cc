// DnsTargets / ResolveWorkerUrls with names every machine resolves (no cluster DNS here).

#include "autoscale/dns_targets.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace dte::autoscale {
namespace {

using namespace std::chrono_literals;

TEST(DnsTargetsTest, ResolvesLocalhostToUrls) {
  Result<std::vector<std::string>> urls = ResolveWorkerUrls("localhost", 9001);
  ASSERT_TRUE(urls.ok()) << urls.status().ToString();
  ASSERT_FALSE(urls->empty());
  const bool v4 = std::find(urls->begin(), urls->end(), "http://127.0.0.1:9001") != urls->end();
  const bool v6 = std::find(urls->begin(), urls->end(), "http://[::1]:9001") != urls->end();
  EXPECT_TRUE(v4 || v6);
  EXPECT_TRUE(std::is_sorted(urls->begin(), urls->end()));
}

TEST(DnsTargetsTest, NumericHostAndFailures) {
  Result<std::vector<std::string>> one = ResolveWorkerUrls("10.1.2.3", 80);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, std::vector<std::string>{"http://10.1.2.3:80"});
  EXPECT_FALSE(ResolveWorkerUrls("no-such-host.invalid", 80).ok());
}

TEST(DnsTargetsTest, KeepsTheListAndRefreshes) {
  Result<std::unique_ptr<DnsTargets>> t = DnsTargets::Create("http://127.0.0.1:9001", 10ms);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->List(), std::vector<std::string>{"http://127.0.0.1:9001"});
  EXPECT_TRUE((*t)->last_error().ok());
  Result<std::unique_ptr<DnsTargets>> bad =
      DnsTargets::Create("http://no-such-host.invalid:1", 10ms);
  ASSERT_TRUE(bad.ok());  // created; resolution errors are kept, not fatal
  EXPECT_TRUE((*bad)->List().empty());
  EXPECT_FALSE((*bad)->last_error().ok());
  EXPECT_FALSE(DnsTargets::Create("https://x:1", 10ms).ok());
}

}  // namespace
}  // namespace dte::autoscale
