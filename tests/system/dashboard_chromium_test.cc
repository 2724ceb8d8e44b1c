// web/dashboard in headless Chromium: tests/system/dashboard_cdp_test.js serves the page and a
// fake /v1/dashboard/summary from a loopback server, drives Chromium over the DevTools pipe and
// checks that the page loads without console errors and that its charts and tables update when
// the data changes. This test runs it and reports its verdict.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace dte {
namespace {

struct Output {
  int code = -1;
  std::string text;
};

Output Shell(const std::string& command) {
  Output out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.text.append(buf.data(), n);
  int status = pclose(p);
  out.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

TEST(DashboardChromiumTest, LoadsWithoutErrorsAndChartsFollowTheData) {
  if (Shell("command -v node").code != 0) GTEST_SKIP() << "node not installed (scripts/deps.sh)";
  Output chromium =
      Shell("command -v chromium || command -v chromium-browser || command -v google-chrome");
  if (chromium.code != 0) GTEST_SKIP() << "chromium not installed (scripts/deps.sh)";
  std::string browser = chromium.text.substr(0, chromium.text.find('\n'));
  const std::string root = DTE_SOURCE_DIR;
  Output r = Shell("timeout 120 node '" + root + "/tests/system/dashboard_cdp_test.js' '" + root +
                   "' '" + browser + "'");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("dashboard ok"), std::string::npos) << r.text;
}

}  // namespace
}  // namespace dte
