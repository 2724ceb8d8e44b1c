#pragma once
// HtmlReport: a self-contained HTML page for a JSON report (one run or a --compare of two):
// the grade, the summary table, and charts drawn as inline SVG by inline JavaScript from the
// report embedded in the page — latency over time (TTFT and end-to-end p50/p99), latency
// CDF, throughput over time (requests/s and output tokens/s) and errors (per interval and by
// kind). No external resources: it opens offline, from a file or an e-mail attachment.
// After drawing, the page marks <body data-rendered="ok">; script errors are shown in
// <pre id="js-errors"> (both for tests in a headless browser). Plain function.

#include <nlohmann/json.hpp>
#include <string>

namespace dte::bench {

std::string HtmlReport(const nlohmann::ordered_json& report);

}  // namespace dte::bench
