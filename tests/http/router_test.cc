// The Boost-free parts of src/http: header fields, query strings, the router, SSE framing and
// the cancellation token. (Sockets, the server and the client are in server_test.cc.)

#include "http/router.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "http/cancellation.h"
#include "http/headers.h"
#include "http/sse.h"

namespace dte::http {
namespace {

Handler Tagged(int* out, int tag) {
  return [out, tag](Request&, Responder&) -> asio::awaitable<void> {
    *out = tag;
    co_return;
  };
}

TEST(HeadersTest, LookupIgnoresCaseAndKeepsOrder) {
  Headers h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-Multi", "a");
  h.Add("x-multi", "b");
  EXPECT_EQ(h.GetOr("content-type"), "text/plain");
  EXPECT_EQ(h.GetOr("X-MULTI"), "a");
  EXPECT_FALSE(h.Get("missing").has_value());
  EXPECT_EQ(h.GetOr("missing", "dflt"), "dflt");
  h.Set("X-Multi", "c");
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.GetOr("x-multi"), "c");
  h.Remove("CONTENT-TYPE");
  EXPECT_FALSE(h.Has("Content-Type"));
}

TEST(QueryTest, DecodesPairs) {
  QueryParams q = ParseQuery("a=1&b=two%20words&c=x+y&flag&&d=%zz");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>("a", "1")));
  EXPECT_EQ(q[1].second, "two words");
  EXPECT_EQ(q[2].second, "x y");
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>("flag", "")));
  EXPECT_EQ(q[4].second, "%zz");  // malformed escape kept as written
  EXPECT_EQ(FindParam(q, "b").value_or(""), "two words");
  EXPECT_FALSE(FindParam(q, "B").has_value());
}

TEST(QueryTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%2Fb%41", false).value(), "a/bA");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_FALSE(PercentDecode("%4", false).has_value());
  EXPECT_FALSE(PercentDecode("%", false).has_value());
  EXPECT_FALSE(PercentDecode("%g0", false).has_value());
}

TEST(RouterTest, MatchesLiteralsAndParams) {
  int hit = 0;
  Router router;
  router.Get("/v1/models", Tagged(&hit, 1))
      .Get("/v1/sessions/{id}", Tagged(&hit, 2))
      .Delete("/v1/sessions/{id}", Tagged(&hit, 3))
      .Get("/v1/sessions/{id}/turns/{turn}", Tagged(&hit, 4))
      .Get("/", Tagged(&hit, 5));

  Router::Match m = router.Find("GET", "/v1/models");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  EXPECT_TRUE(m.params.empty());

  m = router.Find("DELETE", "/v1/sessions/abc%20def");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  Request req;
  req.path_params = m.params;
  EXPECT_EQ(req.PathParam("id"), "abc def");

  m = router.Find("GET", "/v1/sessions/s1/turns/7");
  ASSERT_EQ(m.kind, Router::Match::Kind::kFound);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0].second, "s1");
  EXPECT_EQ(m.params[1].second, "7");

  EXPECT_EQ(router.Find("GET", "/").kind, Router::Match::Kind::kFound);
}

TEST(RouterTest, NotFoundAndMethodNotAllowed) {
  int hit = 0;
  Router router;
  router.Get("/v1/sessions/{id}", Tagged(&hit, 1)).Delete("/v1/sessions/{id}", Tagged(&hit, 2));
  EXPECT_EQ(router.Find("GET", "/v1/sessions").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/sessions/").kind, Router::Match::Kind::kNotFound);  // empty id
  EXPECT_EQ(router.Find("GET", "/v1/sessions/a/b").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/v1/sessions/%zz").kind, Router::Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "relative").kind, Router::Match::Kind::kNotFound);
  Router::Match m = router.Find("POST", "/v1/sessions/x");
  EXPECT_EQ(m.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, DELETE");
  EXPECT_EQ(m.handler, nullptr);
}

TEST(RouterTest, LiteralBeatsParamAndMethodBeatsSpecificity) {
  int hit = 0;
  Router router;
  router.Get("/v1/sessions/{id}", Tagged(&hit, 1))
      .Get("/v1/sessions/stats", Tagged(&hit, 2))
      .Post("/v1/sessions/{id}", Tagged(&hit, 3));
  // Running a handler needs an executor; comparing which handler was found is enough here.
  Router::Match stats = router.Find("GET", "/v1/sessions/stats");
  Router::Match other = router.Find("GET", "/v1/sessions/zz");
  Router::Match post = router.Find("POST", "/v1/sessions/stats");
  ASSERT_EQ(stats.kind, Router::Match::Kind::kFound);
  ASSERT_EQ(other.kind, Router::Match::Kind::kFound);
  ASSERT_EQ(post.kind, Router::Match::Kind::kFound);
  EXPECT_NE(stats.handler, other.handler);
  EXPECT_TRUE(stats.params.empty());
  EXPECT_EQ(other.params.size(), 1u);
  EXPECT_NE(post.handler, other.handler);
  EXPECT_EQ(post.params.size(), 1u);
  EXPECT_EQ(router.Describe(),
            (std::vector<std::string>{"GET /v1/sessions/{id}", "GET /v1/sessions/stats",
                                      "POST /v1/sessions/{id}"}));
}

TEST(RouterDeathTest, RejectsMalformedPatterns) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  int hit = 0;
  EXPECT_DEATH(Router().Get("no-slash", Tagged(&hit, 1)), "start with");
  EXPECT_DEATH(Router().Get("/a/{}", Tagged(&hit, 1)), "placeholder");
  EXPECT_DEATH(Router().Get("/a/{x", Tagged(&hit, 1)), "placeholder");
  EXPECT_DEATH(Router().Get("/a/x}", Tagged(&hit, 1)), "brace");
  EXPECT_DEATH(Router().Get("/a", Tagged(&hit, 1)).Get("/a", Tagged(&hit, 2)), "duplicate");
}

TEST(SseTest, FormatsEventsAndComments) {
  EXPECT_EQ(SseWriter::FormatEvent("hello"), "data: hello\n\n");
  EXPECT_EQ(SseWriter::FormatEvent("a\nb\r\nc\rd"), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(SseWriter::FormatEvent("x\n"), "data: x\ndata: \n\n");
  EXPECT_EQ(SseWriter::FormatEvent("", "ping"), "event: ping\ndata: \n\n");
  std::string batch;
  SseWriter::AppendEvent(batch, "{\"a\":1}");
  SseWriter::AppendComment(batch, "keep-alive");
  SseWriter::AppendEvent(batch, "[DONE]");
  EXPECT_EQ(batch, "data: {\"a\":1}\n\n: keep-alive\n\ndata: [DONE]\n\n");
  std::string comment;
  SseWriter::AppendComment(comment, "two\nlines");
  EXPECT_EQ(comment, ": two lines\n\n");
}

TEST(CancellationTokenTest, CallbacksRunOnceInOrder) {
  CancellationToken token;
  CancellationToken copy = token;
  std::vector<int> calls;
  token.OnCancel([&] { calls.push_back(1); });
  auto id = token.OnCancel([&] { calls.push_back(2); });
  token.OnCancel([&] { calls.push_back(3); });
  token.Unregister(id);
  EXPECT_FALSE(copy.cancelled());
  copy.Cancel();
  copy.Cancel();
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(calls, (std::vector<int>{1, 3}));
  EXPECT_EQ(token.OnCancel([&] { calls.push_back(4); }), 0u);  // runs at once
  EXPECT_EQ(calls, (std::vector<int>{1, 3, 4}));
}

TEST(CancellationTokenTest, ConcurrentRegisterAndCancel) {
  for (int round = 0; round < 200; ++round) {
    CancellationToken token;
    std::atomic<int> ran{0};
    std::thread registrar([&] {
      for (int i = 0; i < 50; ++i) token.OnCancel([&] { ran.fetch_add(1); });
    });
    token.Cancel();
    registrar.join();
    EXPECT_EQ(ran.load(), 50);  // every callback ran exactly once, before or after Cancel
  }
}

}  // namespace
}  // namespace dte::http
