// Response bodies, error JSON and the chat template.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/api_response.h"
#include "server/chat_template.h"

namespace dte::server {
namespace {

using json = nlohmann::json;

TEST(ApiResponseTest, CompletionAndChatBodies) {
  Usage u{5, 3, 0};
  json c = json::parse(RenderResponse(NewResponseMeta(ApiKind::kCompletion, "m", std::nullopt), "abc", FinishReason::kLength, u));
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["choices"][0]["text"], "abc");
  EXPECT_EQ(c["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(c["usage"]["total_tokens"], 8);
  EXPECT_TRUE(c["id"].get<std::string>().starts_with("cmpl-"));

  json chat = json::parse(RenderResponse(NewResponseMeta(ApiKind::kChat, "m", "sess_1"), "hi", FinishReason::kStop, u));
  EXPECT_EQ(chat["object"], "chat.completion");
  EXPECT_EQ(chat["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(chat["choices"][0]["message"]["content"], "hi");
  EXPECT_EQ(chat["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(chat["session_id"], "sess_1");
}

TEST(ApiResponseTest, StreamChunks) {
  ResponseMeta meta = NewResponseMeta(ApiKind::kChat, "m", std::nullopt);
  json first = json::parse(RenderChunk(meta, "He", true, std::nullopt));
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(first["choices"][0]["delta"]["content"], "He");
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  json last = json::parse(RenderChunk(meta, "", false, FinishReason::kStop));
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(last["choices"][0]["delta"].contains("content"));
  json usage = json::parse(RenderUsageChunk(meta, Usage{1, 2, 0}));
  EXPECT_TRUE(usage["choices"].empty());
  EXPECT_EQ(usage["usage"]["completion_tokens"], 2);
}

TEST(ApiErrorTest, StatusesMapToOpenAiErrors) {
  struct Case { Status s; int http; const char* type; };
  for (const Case& c : {Case{Status::InvalidArgument("x"), 400, "invalid_request_error"},
                        Case{Status::NotFound("x"), 404, "not_found_error"},
                        Case{Status::Conflict("x"), 409, "conflict_error"},
                        Case{Status::ResourceExhausted("x"), 429, "rate_limit_error"},
                        Case{Status::Unavailable("x"), 503, "service_unavailable_error"},
                        Case{Status::Internal("x"), 500, "server_error"}}) {
    ApiError e = ApiErrorFromStatus(c.s);
    EXPECT_EQ(e.http_status, c.http);
    EXPECT_EQ(e.type, c.type);
  }
  json j = json::parse(ApiErrorJson(MakeApiError(400, "bad \xff byte", std::string("prompt"))));
  EXPECT_EQ(j["error"]["param"], "prompt");
  EXPECT_TRUE(j["error"]["code"].is_null());
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
}

TEST(ChatTemplateTest, RwkvWorldConvention) {
  ChatTemplate t;
  std::vector<ChatMessage> m = {{"system", "Be brief."}, {"user", "Hi\r\n\r\nthere  "}, {"assistant", "Hello!"}, {"user", "Bye"}};
  EXPECT_EQ(t.Render(m), "System: Be brief.\n\nUser: Hi\nthere\n\nAssistant: Hello!\n\nUser: Bye\n\nAssistant:");
  EXPECT_EQ(t.Render({{"user", "next"}}, true), "\n\nUser: next\n\nAssistant:");
  EXPECT_EQ(t.RenderSystem("You are kind."), "System: You are kind.\n\n");
}

}  // namespace
}  // namespace dte::server
