#include "telemetry/request_log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace dte {
namespace {

RequestLogEntry Entry(int status) {
  RequestLogEntry e;
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  e.method = "POST";
  e.route = "/v1/completions";
  e.status = status;
  e.prompt_tokens = 12;
  e.completion_tokens = 40;
  e.latency_ms = 85.25;
  e.ttft_ms = 9.5;
  e.error = status >= 400 ? "line one\nline two" : "";
  return e;
}

TEST(RequestLogTest, OneJsonLineWithTheRequestFields) {
  std::string line =
      FormatRequestLog(Entry(200), WallTime(std::chrono::milliseconds(1445412480123)));
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["ts"], "2015-10-21T07:28:00.123Z");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "request");
  EXPECT_EQ(j["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(j["route"], "/v1/completions");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["prompt_tokens"], 12);
  EXPECT_EQ(j["completion_tokens"], 40);
  EXPECT_DOUBLE_EQ(j["latency_ms"].get<double>(), 85.25);
  EXPECT_FALSE(j.contains("error"));
  EXPECT_FALSE(j.contains("backend"));
  EXPECT_FALSE(j.contains("cached_tokens"));
  std::string failed = FormatRequestLog(Entry(503), WallTime());
  EXPECT_EQ(failed.find('\n'), std::string::npos);  // the message's newline is escaped
  EXPECT_EQ(nlohmann::json::parse(failed)["error"], "line one\nline two");
}

TEST(RequestLogTest, LevelFollowsStatusAndLogLevelFilters) {
  EXPECT_EQ(RequestLogLevel(200), LogLevel::kInfo);
  EXPECT_EQ(RequestLogLevel(429), LogLevel::kWarning);
  EXPECT_EQ(RequestLogLevel(500), LogLevel::kError);
  LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kWarning);
  ::testing::internal::CaptureStderr();
  LogRequest(Entry(200));
  LogRequest(Entry(404));
  std::string out = ::testing::internal::GetCapturedStderr();
  SetLogLevel(saved);
  EXPECT_EQ(out.find("\"status\":200"), std::string::npos) << out;
  ASSERT_NE(out.find("\"status\":404"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_EQ(nlohmann::json::parse(out)["level"], "warning");
}

}  // namespace
}  // namespace dte
