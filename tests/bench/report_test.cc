// Reports: the grade bands, the --compare ratios, the summary table and the HTML page's
// embedding of the report (it must not be able to break out of its <script> element).
#include "bench/report.h"

#include <gtest/gtest.h>

#include "bench/html_report.h"

namespace dte::bench {
namespace {

using json = nlohmann::ordered_json;

json Measured(int requests, int errors, int good) {
  json j;
  j["requests"] = requests;
  j["errors"] = errors;
  j["goodput"]["good_requests"] = good;
  return j;
}

std::string Letter(int requests, int errors, int good) {
  return GradeOf(Measured(requests, errors, good))["letter"].get<std::string>();
}

TEST(ReportTest, GradeBands) {
  EXPECT_EQ(Letter(1000, 0, 1000), "A");
  EXPECT_EQ(Letter(1000, 0, 990), "A");
  EXPECT_EQ(Letter(1000, 1, 995), "A");   // 0.1 % errors is still A
  EXPECT_EQ(Letter(1000, 2, 995), "B");   // 0.2 % errors is not
  EXPECT_EQ(Letter(1000, 0, 989), "B");
  EXPECT_EQ(Letter(1000, 0, 950), "B");
  EXPECT_EQ(Letter(1000, 0, 949), "C");
  EXPECT_EQ(Letter(1000, 20, 950), "C");  // good enough for B, but 2 % errors
  EXPECT_EQ(Letter(1000, 0, 900), "C");
  EXPECT_EQ(Letter(1000, 0, 899), "D");
  EXPECT_EQ(Letter(1000, 50, 900), "D");
  EXPECT_EQ(Letter(1000, 0, 750), "D");
  EXPECT_EQ(Letter(1000, 0, 749), "F");
  EXPECT_EQ(Letter(1000, 60, 940), "F");  // > 5 % errors
  EXPECT_EQ(Letter(0, 0, 0), "F");        // nothing measured
  EXPECT_EQ(Letter(10, 10, 0), "F");      // nothing succeeded
  json g = GradeOf(Measured(200, 1, 150));
  EXPECT_DOUBLE_EQ(g["good_fraction"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(g["error_fraction"].get<double>(), 0.005);
}

TEST(ReportTest, CompareGivesRatiosOfBOverA) {
  json a, b;
  a["requests_per_s"] = 10.0;
  b["requests_per_s"] = 25.0;
  a["output_tokens_per_s"] = 0.0;  // no ratio against zero
  b["output_tokens_per_s"] = 5.0;
  a["ttft_ms"]["p50"] = 100.0;
  b["ttft_ms"]["p50"] = 50.0;
  a["ttft_ms"]["p99"] = 400.0;
  b["ttft_ms"]["p99"] = 500.0;
  json c = CompareObject(a, b);
  EXPECT_TRUE(c["compare"].get<bool>());
  ASSERT_EQ(c["runs"].size(), 2u);
  EXPECT_DOUBLE_EQ(c["ratios"]["requests_per_s"].get<double>(), 2.5);
  EXPECT_TRUE(c["ratios"]["output_tokens_per_s"].is_null());
  EXPECT_DOUBLE_EQ(c["ratios"]["ttft_p50"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(c["ratios"]["ttft_p99"].get<double>(), 1.25);
  EXPECT_TRUE(c["ratios"]["tpot_p50"].is_null());  // missing in both
  const std::string table = SummaryText(c);
  EXPECT_NE(table.find("B/A"), std::string::npos);
  EXPECT_NE(table.find("2.5"), std::string::npos);
}

TEST(ReportTest, HtmlEmbedsTheReportSafely) {
  json r = Measured(3, 1, 2);
  r["config"]["url"] = "http://127.0.0.1:1/v1";
  r["errors_by_kind"]["http_500"] = 1;
  r["error_examples"]["http_500"] = "</script><script>alert(1)</script><!--";
  const std::string page = HtmlReport(r);
  EXPECT_EQ(page.find("@REPORT@"), std::string::npos);
  // Exactly the page's own two </script> end tags: the data cannot add one.
  size_t ends = 0;
  for (size_t at = page.find("</script>"); at != std::string::npos;
       at = page.find("</script>", at + 1))
    ++ends;
  EXPECT_EQ(ends, 2u);
  EXPECT_EQ(page.find("<!--"), std::string::npos);
  EXPECT_NE(page.find("\\u003c/script>"), std::string::npos);
  // Nothing is loaded from elsewhere.
  EXPECT_EQ(page.find("src=\""), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
}

}  // namespace
}  // namespace dte::bench
