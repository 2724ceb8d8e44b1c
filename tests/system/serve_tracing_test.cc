// System tests of the worker's tracing and request log with real binaries: `dte serve` exports
// `worker.request` (child of the caller's `traceparent`) and its `engine.*` / `cache.*` spans to
// a loopback OTLP receiver with nanosecond times nested inside the request, lists them on its own
// /v1/traces, writes one JSON request line with the trace id on stderr, and, behind `dte route`,
// joins the router's spans in one trace: router.proxy -> router.upstream -> worker.request.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "system/route_process.h"
#include "system/run_command.h"
#include "system/json_http.h"
#include "system/otlp_spans.h"
#include "system/server_process.h"
#include "telemetry/loopback_receiver.h"

namespace dte {
namespace {

using json = nlohmann::json;
using testing::DteProcess;
using testing::LoopbackReceiver;
using testing::OtlpSpan;
using testing::OtlpSpans;
using testing::OtlpAttr;
using testing::RawRequest;
using testing::GetJson;
using testing::WaitFor;

const std::string kModel = std::string(DTE_SOURCE_DIR) + "/models/tiny-rwkv-5v2-730K-FP16.bin";
const std::string kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const std::string kClientParent = "00f067aa0ba902b7";
const std::string kTraceparentHeader =
    "traceparent: 00-" + kTraceId + "-" + kClientParent + "-01\r\n";
const std::string kCompletion =
    R"({"model":"demo","prompt":"hello there, how are you today?","max_tokens":6})";

// `dte serve` on the demo model with its stderr (the request log) in a temporary file.
class WorkerProcess : public DteProcess {
 public:
  explicit WorkerProcess(std::vector<std::string> args, std::string stderr_path = NewStderrPath())
      : DteProcess(ServeArgs(std::move(args)), stderr_path), stderr_path_(std::move(stderr_path)) {}
  ~WorkerProcess() { unlink(stderr_path_.c_str()); }
  std::string Stderr() const { return testing::Slurp(stderr_path_); }

 private:
  static std::string NewStderrPath() {
    static int counter = 0;
    return "/tmp/dte_serve_tracing." + std::to_string(getpid()) + "." + std::to_string(counter++);
  }
  static std::vector<std::string> ServeArgs(std::vector<std::string> args) {
    std::vector<std::string> argv = {"serve", "--model", kModel,      "--model-name",
                                     "demo",  "--port",  "0",         "--threads",    "1"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::string stderr_path_;
};

// OTLP JSON carries nanosecond times as decimal strings.
int64_t Nanos(const json& span, const char* field) {
  EXPECT_TRUE(span[field].is_string()) << span.dump();
  return span[field].is_string() ? std::stoll(span[field].get<std::string>()) : -1;
}

TEST(ServeTracingTest, WorkerSpansReachOtlpAsChildrenOfTheCallersParent) {
  LoopbackReceiver otlp;
  WorkerProcess worker({"--otlp-endpoint", otlp.url("/v1/traces"), "--log-level", "info"});
  ASSERT_GT(worker.port(), 0);
  auto r = RawRequest(worker.port(), "POST", "/v1/completions", kCompletion, kTraceparentHeader);
  ASSERT_EQ(r.status, 200) << r.body;
  const json reply = json::parse(r.body);
  const int64_t prompt_tokens = reply["usage"]["prompt_tokens"];
  const int64_t completion_tokens = reply["usage"]["completion_tokens"];
  ASSERT_GT(prompt_tokens, 0);

  std::map<std::string, OtlpSpan> spans;
  ASSERT_TRUE(WaitFor(
      [&] {
        spans = OtlpSpans(otlp, kTraceId);
        return spans.count("worker.request") && spans.count("engine.queue_wait") &&
               spans.count("engine.prefill") && spans.count("engine.decode");
      },
      std::chrono::seconds(10)))
      << "the OTLP receiver got " << otlp.requests().size() << " requests, " << spans.size()
      << " spans of the trace";
  const json& request = spans["worker.request"].span;
  EXPECT_EQ(spans["worker.request"].service, "dte-worker");
  EXPECT_EQ(request["parentSpanId"], kClientParent);
  EXPECT_EQ(request["kind"], 2);  // server
  EXPECT_EQ(OtlpAttr(request, "http.route")["stringValue"], "/v1/completions");
  EXPECT_EQ(OtlpAttr(request, "http.response.status_code")["intValue"], "200");
  EXPECT_EQ(OtlpAttr(request, "gen_ai.request.model")["stringValue"], "demo");
  EXPECT_EQ(OtlpAttr(request, "gen_ai.usage.input_tokens")["intValue"], std::to_string(prompt_tokens));
  EXPECT_EQ(OtlpAttr(request, "gen_ai.usage.output_tokens")["intValue"],
            std::to_string(completion_tokens));
  const int64_t request_start = Nanos(request, "startTimeUnixNano");
  const int64_t request_end = Nanos(request, "endTimeUnixNano");
  EXPECT_LT(request_start, request_end);

  int64_t previous_end = request_start;  // queue wait, prefill and decode follow each other
  for (const char* name : {"engine.queue_wait", "engine.prefill", "engine.decode"}) {
    const json& s = spans[name].span;
    EXPECT_EQ(s["parentSpanId"], request["spanId"]) << name;
    EXPECT_EQ(s["traceId"], kTraceId) << name;
    EXPECT_EQ(s["kind"], 1) << name;  // internal
    const int64_t start = Nanos(s, "startTimeUnixNano");
    const int64_t end = Nanos(s, "endTimeUnixNano");
    EXPECT_LE(start, end) << name;
    EXPECT_LE(request_start, start) << name;
    EXPECT_LE(end, request_end) << name;
    EXPECT_LE(previous_end, start) << name;
    previous_end = end;
  }
  const json& prefill = spans["engine.prefill"].span;
  EXPECT_EQ(OtlpAttr(prefill, "dte.prefill.tokens")["intValue"], std::to_string(prompt_tokens));
  EXPECT_EQ(OtlpAttr(prefill, "dte.cache.tier")["stringValue"], "miss");  // a fresh worker
  const json& decode = spans["engine.decode"].span;
  EXPECT_EQ(OtlpAttr(decode, "dte.decode.tokens")["intValue"], std::to_string(completion_tokens));
  EXPECT_EQ(OtlpAttr(decode, "gen_ai.response.finish_reasons")["stringValue"],
            reply["choices"][0]["finish_reason"]);
  ASSERT_TRUE(spans.count("cache.get"));  // the state cache is on by default
  EXPECT_EQ(spans["cache.get"].span["parentSpanId"], request["spanId"]);

  // The worker's own store has the same trace.
  const json list = GetJson(worker.port(), "/v1/traces?name=worker.request");
  bool listed = false;
  for (const json& t : list.value("traces", json::array())) listed |= t["trace_id"] == kTraceId;
  EXPECT_TRUE(listed) << list.dump();
  const json trace = GetJson(worker.port(), "/v1/traces/" + kTraceId);
  std::set<std::string> names;
  for (const json& s : trace.value("spans", json::array())) {
    names.insert(s["name"].get<std::string>());
    if (s["name"] == "worker.request") EXPECT_EQ(s["span_id"], request["spanId"]);
  }
  for (const char* name :
       {"worker.request", "engine.queue_wait", "engine.prefill", "engine.decode", "cache.get"})
    EXPECT_TRUE(names.count(name)) << name << " missing from " << trace.dump();
  int status = 0;
  GetJson(worker.port(), "/v1/traces/" + std::string(32, 'f'), &status);
  EXPECT_EQ(status, 404);
  GetJson(worker.port(), "/v1/traces/nothex", &status);
  EXPECT_EQ(status, 400);

  // The same prompt again, once the first one's checkpoint is in the cache (a writer thread
  // puts it): the prefix comes from L1.
  ASSERT_TRUE(WaitFor(
      [&] { return GetJson(worker.port(), "/v1/cache/stats")["prefix"].value("entries", 0) > 0; },
      std::chrono::seconds(10)));
  const std::string second_id = "0af7651916cd43dd8448eb211c80319c";
  r = RawRequest(worker.port(), "POST", "/v1/completions", kCompletion,
                 "traceparent: 00-" + second_id + "-b7ad6b7169203331-01\r\n");
  ASSERT_EQ(r.status, 200) << r.body;
  const int64_t cached = json::parse(r.body)["usage"]["prompt_tokens_details"]["cached_tokens"];
  std::map<std::string, OtlpSpan> again;
  ASSERT_TRUE(WaitFor(
      [&] {
        again = OtlpSpans(otlp, second_id);
        return again.count("engine.prefill") && again.count("cache.get");
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(OtlpAttr(again["engine.prefill"].span, "dte.cache.cached_tokens")["intValue"],
            std::to_string(cached));
  EXPECT_GT(cached, 0);
  EXPECT_EQ(OtlpAttr(again["cache.get"].span, "dte.cache.hit")["boolValue"], true);
  EXPECT_EQ(OtlpAttr(again["engine.prefill"].span, "dte.cache.tier")["stringValue"], "l1");

  // One JSON request line on stderr, with the trace id and the tokens.
  json line;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::istringstream in(worker.Stderr());
        for (std::string l; std::getline(in, l);) {
          const json j = json::parse(l, nullptr, false);
          if (j.is_object() && j.value("trace_id", "") == kTraceId) line = j;
        }
        return !line.is_null();
      },
      std::chrono::seconds(5)))
      << worker.Stderr();
  EXPECT_EQ(line["msg"], "request");
  EXPECT_EQ(line["component"], "worker");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["route"], "/v1/completions");
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["status"], 200);
  EXPECT_EQ(line["model"], "demo");
  EXPECT_EQ(line["prompt_tokens"], prompt_tokens);
  EXPECT_EQ(line["completion_tokens"], completion_tokens);
  EXPECT_TRUE(line["latency_ms"].is_number());
  EXPECT_TRUE(line["ttft_ms"].is_number());
  EXPECT_LE(line["ttft_ms"].get<double>(), line["latency_ms"].get<double>());
}

TEST(ServeTracingTest, UnsampledRequestsStoreNothingButStillLogTheirTraceId) {
  WorkerProcess worker({"--trace-sample-ratio", "0", "--log-level", "info"});
  ASSERT_GT(worker.port(), 0);
  auto r = RawRequest(worker.port(), "POST", "/v1/completions", kCompletion);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(GetJson(worker.port(), "/v1/traces")["stored_spans"], 0);
  // A failed request: a warning line with the error message.
  r = RawRequest(worker.port(), "POST", "/v1/completions", R"({"model":"other","prompt":"x"})");
  EXPECT_EQ(r.status, 404);
  std::vector<json> lines;
  ASSERT_TRUE(WaitFor(
      [&] {
        lines.clear();
        std::istringstream in(worker.Stderr());
        for (std::string l; std::getline(in, l);) {
          const json j = json::parse(l, nullptr, false);
          if (j.is_object() && j.value("route", "") == "/v1/completions") lines.push_back(j);
        }
        return lines.size() >= 2;
      },
      std::chrono::seconds(5)))
      << worker.Stderr();
  EXPECT_EQ(lines[0]["status"], 200);
  EXPECT_EQ(lines[0]["trace_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(lines[1]["status"], 404);
  EXPECT_EQ(lines[1]["level"], "warning");
  EXPECT_NE(lines[1]["error"].get<std::string>().find("other"), std::string::npos);
}

TEST(ServeTracingTest, RouterAndWorkerSpansFormOneTrace) {
  LoopbackReceiver otlp;
  WorkerProcess worker({"--otlp-endpoint", otlp.url("/v1/traces"), "--log-level", "warning"});
  ASSERT_GT(worker.port(), 0);
  DteProcess router({"route", "--listen", "127.0.0.1:0", "--backends", worker.url(),
                     "--otlp-endpoint", otlp.url("/v1/traces"), "--log-level", "warning"});
  ASSERT_GT(router.port(), 0);
  ASSERT_TRUE(WaitFor([&] { return RawRequest(router.port(), "GET", "/ready", "").status == 200; },
                      std::chrono::seconds(10)));
  auto r = RawRequest(router.port(), "POST", "/v1/completions", kCompletion, kTraceparentHeader);
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, OtlpSpan> spans;
  ASSERT_TRUE(WaitFor(
      [&] {
        spans = OtlpSpans(otlp, kTraceId);
        return spans.count("router.proxy") && spans.count("router.upstream") &&
               spans.count("worker.request") && spans.count("engine.decode");
      },
      std::chrono::seconds(10)))
      << spans.size() << " spans of the trace";
  const json& proxy = spans["router.proxy"].span;
  const json& upstream = spans["router.upstream"].span;
  const json& request = spans["worker.request"].span;
  EXPECT_EQ(spans["router.proxy"].service, "dte-router");
  EXPECT_EQ(spans["worker.request"].service, "dte-worker");
  EXPECT_EQ(proxy["parentSpanId"], kClientParent);
  EXPECT_EQ(upstream["parentSpanId"], proxy["spanId"]);
  EXPECT_EQ(request["parentSpanId"], upstream["spanId"]);
  EXPECT_EQ(spans["engine.decode"].span["parentSpanId"], request["spanId"]);
  // The worker's request happens inside the router's attempt.
  EXPECT_LE(Nanos(upstream, "startTimeUnixNano"), Nanos(request, "startTimeUnixNano"));
  EXPECT_LE(Nanos(request, "endTimeUnixNano"), Nanos(upstream, "endTimeUnixNano"));
}

}  // namespace
}  // namespace dte
