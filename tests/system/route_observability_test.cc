// System tests of the router's observability with real binaries: `dte route` in front of a
// `dte serve` demo worker exports `router.proxy` / `router.upstream` spans to a loopback OTLP
// receiver with the client's trace id and the right parent links, lists them on /v1/traces,
// sends the upstream span's `traceparent` to the backend (seen by a loopback backend), serves
// the five alert rules on /v1/alerts and a live /v1/dashboard/summary, and /dashboard loads in
// headless Chromium against the real router with no console errors.

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <set>

#include "system/route_process.h"
#include "system/json_http.h"
#include "system/otlp_spans.h"
#include "system/server_process.h"
#include "system/shell.h"
#include "telemetry/loopback_receiver.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::DteProcess;
using testing::LoopbackReceiver;
using testing::OtlpSpans;
using testing::RawRequest;
using testing::GetJson;
using testing::WaitFor;
using testing::ServerProcess;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";
const std::string kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kClientParent = "00f067aa0ba902b7";
const std::string kTraceparentHeader =
    "traceparent: 00-" + kTraceId + "-" + kClientParent + "-01\r\n";
const std::string kCompletion = R"({"model":"demo","prompt":"hello","max_tokens":4})";

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

TEST(RouteObservabilityTest, SpansReachOtlpWithTheClientsTraceAndParents) {
  LoopbackReceiver otlp;
  ServerProcess worker(kModel);
  ASSERT_GT(worker.port(), 0);
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", Url(worker.port()),
                     "--otlp-endpoint", otlp.url("/v1/traces"), "--alert-interval-s", "0.3",
                     "--log-level", "warning"});
  ASSERT_GT(router.port(), 0);
  ASSERT_TRUE(WaitFor([&] { return RawRequest(router.port(), "GET", "/ready", "").status == 200; },
                      std::chrono::seconds(10)));
  auto r = RawRequest(router.port(), "POST", "/v1/completions", kCompletion, kTraceparentHeader);
  ASSERT_EQ(r.status, 200) << r.body;

  std::map<std::string, testing::OtlpSpan> spans;
  ASSERT_TRUE(WaitFor(
      [&] {
        spans = OtlpSpans(otlp, kTraceId);
        return spans.count("router.proxy") && spans.count("router.upstream");
      },
      std::chrono::seconds(10)))
      << "the OTLP receiver got " << otlp.requests().size() << " requests";
  const json& proxy = spans["router.proxy"].span;
  const json& upstream = spans["router.upstream"].span;
  EXPECT_EQ(proxy["parentSpanId"], kClientParent);
  EXPECT_EQ(proxy["kind"], 2);  // server
  EXPECT_EQ(upstream["parentSpanId"], proxy["spanId"]);
  EXPECT_EQ(upstream["kind"], 3);  // client
  EXPECT_NE(upstream["spanId"], proxy["spanId"]);

  // The same trace in the router's store.
  const json list = GetJson(router.port(), "/v1/traces?name=router.proxy");
  bool listed = false;
  for (const json& t : list.value("traces", json::array())) listed |= t["trace_id"] == kTraceId;
  EXPECT_TRUE(listed) << list.dump();
  const json trace = GetJson(router.port(), "/v1/traces/" + kTraceId);
  ASSERT_EQ(trace.value("spans", json::array()).size(), 2u) << trace.dump();
  std::map<std::string, json> by_name;
  for (const json& s : trace["spans"]) by_name[s["name"]] = s;
  EXPECT_EQ(by_name["router.proxy"]["attributes"]["http.route"], "/v1/completions");
  EXPECT_EQ(by_name["router.proxy"]["attributes"]["http.response.status_code"], 200);
  EXPECT_EQ(by_name["router.proxy"]["attributes"]["dte.backend"], Url(worker.port()));
  EXPECT_EQ(by_name["router.upstream"]["attributes"]["dte.attempt"], 1);
  int status = 0;
  GetJson(router.port(), "/v1/traces/" + std::string(32, 'f'), &status);
  EXPECT_EQ(status, 404);
  GetJson(router.port(), "/v1/traces/nothex", &status);
  EXPECT_EQ(status, 400);
  GetJson(router.port(), "/v1/traces?status=maybe", &status);
  EXPECT_EQ(status, 400);

  // The five rules, evaluated by the loop; the summary has samples and the worker.
  ASSERT_TRUE(
      WaitFor([&] { return !GetJson(router.port(), "/v1/alerts")["evaluated_at"].is_null(); },
              std::chrono::seconds(10)));
  const json alerts = GetJson(router.port(), "/v1/alerts");
  std::set<std::string> names;
  for (const json& rule : alerts["rules"]) names.insert(rule["name"].get<std::string>());
  EXPECT_EQ(names,
            (std::set<std::string>{"high_response_time", "high_error_rate", "memory_usage_high",
                                   "cognitive_processing_slow", "system_overload"}));
  EXPECT_TRUE(alerts["alerts"].empty()) << alerts.dump();
  const json summary = GetJson(router.port(), "/v1/dashboard/summary");
  ASSERT_TRUE(summary.contains("series")) << summary.dump();
  EXPECT_FALSE(summary["series"]["workers"].empty());
  EXPECT_EQ(summary["series"]["workers"].back()[1], 1.0);
  ASSERT_EQ(summary["workers"].size(), 1u);
  EXPECT_EQ(summary["workers"][0]["url"], Url(worker.port()));
  bool summarized = false;
  for (const json& t : summary["traces"]) summarized |= t["trace_id"] == kTraceId;
  EXPECT_TRUE(summarized);

  // Shutdown flushes the exporter: a span ended just before SIGTERM still arrives.
  const std::string other = "0af7651916cd43dd8448eb211c80319c";
  r = RawRequest(router.port(), "GET", "/v1/models", "",
                 "traceparent: 00-" + other + "-b7ad6b7169203331-01\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(router.Terminate(), 0);
  EXPECT_EQ(OtlpSpans(otlp, other).count("router.proxy"), 1u);
}

TEST(RouteObservabilityTest, TheBackendGetsTheUpstreamSpansTraceparent) {
  LoopbackReceiver backend;  // answers 200 {} to everything, records the heads
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", backend.url(""),
                     "--log-level", "warning"});
  ASSERT_GT(router.port(), 0);
  auto r = RawRequest(router.port(), "POST", "/v1/completions", kCompletion, kTraceparentHeader);
  ASSERT_EQ(r.status, 200) << r.body;
  const json trace = GetJson(router.port(), "/v1/traces/" + kTraceId);
  std::string upstream_id;
  for (const json& s : trace.value("spans", json::array()))
    if (s["name"] == "router.upstream") upstream_id = s["span_id"];
  ASSERT_EQ(upstream_id.size(), 16u) << trace.dump();
  std::string head;
  for (const auto& req : backend.requests())
    if (req.path == "/v1/completions") head = req.head;
  EXPECT_NE(head.find("traceparent: 00-" + kTraceId + "-" + upstream_id + "-01"), std::string::npos)
      << head;
  EXPECT_EQ(head.find(kClientParent), std::string::npos)
      << "the client's parent id leaked: " << head;
}

TEST(RouteObservabilityTest, UnsampledRequestsStillPropagateAndStoreNothing) {
  LoopbackReceiver backend;
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", backend.url(""),
                     "--trace-sample-ratio", "0", "--log-level", "warning"});
  ASSERT_GT(router.port(), 0);
  auto r = RawRequest(router.port(), "POST", "/v1/completions", kCompletion);
  ASSERT_EQ(r.status, 200) << r.body;
  std::string head;
  for (const auto& req : backend.requests())
    if (req.path == "/v1/completions") head = req.head;
  const size_t at = head.find("traceparent: 00-");
  ASSERT_NE(at, std::string::npos) << head;
  EXPECT_EQ(head.substr(at + 13 + 3 + 32 + 1 + 16, 3), "-00") << head;  // not sampled
  EXPECT_EQ(GetJson(router.port(), "/v1/traces")["stored_spans"], 0);
}

TEST(RouteObservabilityTest, DashboardLoadsInChromiumAgainstTheRealRouter) {
  const std::string browser = testing::ChromiumForTests();
  if (browser.empty()) GTEST_SKIP() << "node or chromium not installed (scripts/deps.sh)";
  ServerProcess worker(kModel);
  ASSERT_GT(worker.port(), 0);
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", Url(worker.port()),
                     "--alert-interval-s", "0.3", "--log-level", "warning"});
  ASSERT_GT(router.port(), 0);
  ASSERT_TRUE(WaitFor([&] { return RawRequest(router.port(), "GET", "/ready", "").status == 200; },
                      std::chrono::seconds(10)));
  ASSERT_EQ(
      RawRequest(router.port(), "POST", "/v1/completions", kCompletion, kTraceparentHeader).status,
      200);
  const std::string root = DTE_SOURCE_DIR;
  testing::ShellOutput r = testing::Shell("timeout 120 node '" + root + "/tests/system/dashboard_live_cdp.js' '" +
                   Url(router.port()) + "/dashboard' '" + browser + "'");
  EXPECT_EQ(r.code, 0) << r.text;
  EXPECT_NE(r.text.find("live dashboard ok"), std::string::npos) << r.text;
}

}  // namespace
}  // namespace dte
