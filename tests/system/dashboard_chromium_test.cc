// web/dashboard in headless Chromium: tests/system/dashboard_cdp_test.js serves the page and a
// fake /v1/dashboard/summary from a loopback server, drives Chromium over the DevTools pipe and
// checks that the page loads without console errors and that its charts and tables update when
// the data changes. This test runs it and reports its verdict.

#include <gtest/gtest.h>

#include <string>

#include "system/shell.h"

namespace dte {
namespace {

using testing::Shell;

TEST(DashboardChromiumTest, LoadsWithoutErrorsAndChartsFollowTheData) {
  const std::string browser = testing::ChromiumForTests();
  if (browser.empty()) GTEST_SKIP() << "node or chromium not installed (scripts/deps.sh)";
  const std::string root = DTE_SOURCE_DIR;
  testing::ShellOutput r = Shell("timeout 120 node '" + root + "/tests/system/dashboard_cdp_test.js' '" + root +
                   "' '" + browser + "'");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("dashboard ok"), std::string::npos) << r.text;
}

}  // namespace
}  // namespace dte
