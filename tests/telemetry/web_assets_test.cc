#include "telemetry/web_assets.h"

#include <gtest/gtest.h>

namespace dte {
namespace {

const std::string kDashboard = std::string(DTE_SOURCE_DIR) + "/web/dashboard";

TEST(WebAssetsTest, ServesTheDashboardFiles) {
  auto index = ReadWebAsset(kDashboard, "");
  ASSERT_TRUE(index.ok()) << index.status().ToString();
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<canvas"), std::string::npos);
  auto js = ReadWebAsset(kDashboard, "/dashboard.js");
  ASSERT_TRUE(js.ok());
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(ReadWebAsset(kDashboard, "/dashboard.css")->content_type, "text/css; charset=utf-8");
}

TEST(WebAssetsTest, RefusesPathsThatCouldEscape) {
  for (const char* p :
       {"/../CMakeLists.txt", "/..", "/a//b", "/.hidden", "/%2e%2e/x", "index.html", "/x\\y"})
    EXPECT_EQ(ReadWebAsset(kDashboard, p).status().code(), StatusCode::kInvalidArgument) << p;
  EXPECT_EQ(ReadWebAsset(kDashboard, "/missing.js").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace dte
