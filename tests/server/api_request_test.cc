// Parsing and validation of OpenAI request bodies: every bad input is a 400 naming its field.

#include "server/api_request.h"

#include <gtest/gtest.h>

namespace dte::server {
namespace {

ApiRequest ParseOk(ApiKind kind, const std::string& body) {
  ParsedRequest r = ParseApiRequest(kind, body, ApiLimits{});
  if (auto* e = std::get_if<ApiError>(&r)) {
    ADD_FAILURE() << body << " -> " << e->message;
    return {};
  }
  return std::get<ApiRequest>(r);
}

ApiError ParseErr(ApiKind kind, const std::string& body) {
  ParsedRequest r = ParseApiRequest(kind, body, ApiLimits{});
  if (auto* e = std::get_if<ApiError>(&r)) return *e;
  ADD_FAILURE() << body << " was accepted";
  return {};
}

TEST(ApiRequestTest, CompletionWithEverySupportedField) {
  ApiRequest r = ParseOk(ApiKind::kCompletion, R"({
    "model": "m", "prompt": "Hello", "max_tokens": 7, "temperature": 0.5, "top_p": 0.9,
    "top_k": 40, "min_p": 0.05, "presence_penalty": 0.1, "frequency_penalty": -0.2,
    "stop": ["\n", "END"], "seed": 42, "logit_bias": {"11": -100, "12": 5.5}, "user": "u1",
    "stream": true, "stream_options": {"include_usage": true}, "unknown_field": {"ignored": 1}})");
  EXPECT_EQ(r.model, "m");
  EXPECT_EQ(r.prompt, "Hello");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_FLOAT_EQ(r.sampling.temperature, 0.5f);
  EXPECT_FLOAT_EQ(r.sampling.top_p, 0.9f);
  EXPECT_EQ(r.sampling.top_k, 40);
  EXPECT_FLOAT_EQ(r.sampling.min_p, 0.05f);
  EXPECT_FLOAT_EQ(r.sampling.presence_penalty, 0.1f);
  EXPECT_FLOAT_EQ(r.sampling.frequency_penalty, -0.2f);
  EXPECT_EQ(r.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_EQ(r.sampling.seed, 42u);
  ASSERT_EQ(r.sampling.logit_bias.size(), 2u);
  EXPECT_EQ(r.user, "u1");
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.include_usage);
}

TEST(ApiRequestTest, PromptForms) {
  EXPECT_EQ(ParseOk(ApiKind::kCompletion, R"({"model":"m","prompt":["one"]})").prompt, "one");
  auto ids = ParseOk(ApiKind::kCompletion, R"({"model":"m","prompt":[1,2,3]})").prompt_ids;
  ASSERT_TRUE(ids);
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(ParseOk(ApiKind::kCompletion, R"({"model":"m","prompt":"x"})").max_tokens, ApiLimits{}.default_max_tokens);
}

TEST(ApiRequestTest, ChatMessages) {
  ApiRequest r = ParseOk(ApiKind::kChat, R"({"model":"m","messages":[
    {"role":"developer","content":"be brief"},
    {"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]},
    {"role":"assistant","content":null}], "max_completion_tokens": 5, "session_id": "sess_1"})");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].role, "system");
  EXPECT_EQ(r.messages[1].content, "Hi there");
  EXPECT_EQ(r.messages[2].content, "");
  EXPECT_EQ(r.max_tokens, 5);
  EXPECT_EQ(r.session_id, "sess_1");
}

TEST(ApiRequestTest, ErrorsNameTheField) {
  struct Case { ApiKind kind; const char* body; const char* param; };
  for (Case c : {Case{ApiKind::kCompletion, R"({"prompt":"x"})", "model"},
                 Case{ApiKind::kCompletion, R"({"model":"m"})", "prompt"},
                 Case{ApiKind::kCompletion, R"({"model":7,"prompt":"x"})", "model"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":{"a":1}})", "prompt"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":["a","b"]})", "prompt"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":[1,-2]})", "prompt"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","temperature":"hot"})", "temperature"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","temperature":3})", "temperature"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","top_p":1.5})", "top_p"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","max_tokens":1e12})", "max_tokens"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","max_tokens":-1})", "max_tokens"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","max_tokens":2.5})", "max_tokens"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","max_tokens":18446744073709551615})", "max_tokens"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","stream":"yes"})", "stream"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","stop":[1]})", "stop"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","stop":["a","b","c","d","e"]})", "stop"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","stop":""})", "stop"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","seed":"s"})", "seed"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","n":2})", "n"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","logit_bias":{"a":1}})", "logit_bias"},
                 Case{ApiKind::kCompletion, R"({"model":"m","prompt":"x","logit_bias":{"1":500}})", "logit_bias"},
                 Case{ApiKind::kChat, R"({"model":"m"})", "messages"},
                 Case{ApiKind::kChat, R"({"model":"m","messages":[]})", "messages"},
                 Case{ApiKind::kChat, R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", "messages"},
                 Case{ApiKind::kChat, R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages"},
                 Case{ApiKind::kChat, R"({"model":"m","messages":[{"role":"user","content":[{"type":"image_url"}]}]})", "messages"},
                 Case{ApiKind::kChat, R"({"model":"m","messages":[{"role":"user","content":"x"}],"session_id":1})", "session_id"}}) {
    ApiError e = ParseErr(c.kind, c.body);
    EXPECT_EQ(e.http_status, 400) << c.body;
    EXPECT_EQ(e.type, "invalid_request_error") << c.body;
    EXPECT_EQ(e.param, std::optional<std::string>(c.param)) << c.body << " -> " << e.message;
  }
}

TEST(ApiRequestTest, MalformedBodies) {
  for (std::string body : {std::string(""), std::string("{"), std::string("[1,2]"), std::string("null"),
                           std::string("\"text\""), std::string("{\"model\":\"m\",}"), std::string("{\"model\":\"\xff\xfe\"}"),
                           std::string("{\"model\":\"m\",\"prompt\":\"\xc3\x28\"}")}) {
    ApiError e = ParseErr(ApiKind::kCompletion, body);
    EXPECT_EQ(e.http_status, 400) << body;
    EXPECT_FALSE(e.message.empty());
  }
}

}  // namespace
}  // namespace dte::server
