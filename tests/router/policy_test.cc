// Unit tests of the balancing policies: distribution, ties, bounded load, affinity stability,
// session pins, prefix stickiness and the load fall-back.
#include "router/policy.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "router/session_pins.h"

namespace dte::router {
namespace {

std::vector<std::string> Urls(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back("http://127.0.0.1:" + std::to_string(9001 + i));
  return out;
}

std::vector<Candidate> Cands(const std::vector<std::string>& urls, std::vector<int64_t> load = {}) {
  std::vector<Candidate> c;
  for (size_t i = 0; i < urls.size(); ++i) c.push_back({urls[i], load.empty() ? 0 : load[i]});
  return c;
}

// "s" + 7 -> "s7" (a function: GCC 12 warns falsely about `"s" + std::to_string(k)` inlined).
std::string Id(const char* prefix, int k) {
  std::string s(prefix);
  s += std::to_string(k);
  return s;
}

RouteContext Key(const std::string& key, bool session = true) {
  RouteContext ctx;
  ctx.affinity_key = key;
  ctx.is_session_key = session;
  return ctx;
}

RouteContext Prompt(const std::string& text) {
  RouteContext ctx;
  ctx.prompt_text = text;
  return ctx;
}

TEST(RoundRobinPolicy, VisitsEveryBackendInTurn) {
  auto p = MakeRoundRobinPolicy();
  auto urls = Urls(3);
  auto c = Cands(urls);
  std::map<size_t, int> count;
  for (int i = 0; i < 300; ++i) ++count[p->Pick({}, c)];
  EXPECT_EQ(count[0], 100);
  EXPECT_EQ(count[1], 100);
  EXPECT_EQ(count[2], 100);
}

TEST(LeastOutstandingPolicy, PicksTheLeastLoadedAndRotatesTies) {
  auto p = MakeLeastOutstandingPolicy();
  auto urls = Urls(3);
  auto loaded = Cands(urls, {5, 1, 3});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(p->Pick({}, loaded), 1u);
  auto idle = Cands(urls);
  std::map<size_t, int> count;
  for (int i = 0; i < 30; ++i) ++count[p->Pick({}, idle)];
  EXPECT_EQ(count.size(), 3u) << "ties should spread, not pile on the first backend";
}

TEST(PowerOfTwoPolicy, NeverPicksTheMostLoadedAndFavoursTheLeast) {
  auto p = MakePowerOfTwoPolicy(42);
  auto urls = Urls(4);
  auto c = Cands(urls, {0, 1, 2, 3});
  std::map<size_t, int> count;
  const int n = 6000;
  for (int i = 0; i < n; ++i) ++count[p->Pick({}, c)];
  EXPECT_EQ(count[3], 0);
  // The least loaded wins whenever it is one of the two choices: 3 of the 6 pairs.
  EXPECT_NEAR(count[0] / double(n), 0.5, 0.05);
  EXPECT_NEAR(count[1] / double(n), 1.0 / 3, 0.05);
  EXPECT_NEAR(count[2] / double(n), 1.0 / 6, 0.05);
}

TEST(SessionAffinityPolicy, SameKeySameBackendAndKeysSpreadEvenly) {
  auto p = MakeSessionAffinityPolicy();
  auto urls = Urls(3);
  auto c = Cands(urls);
  std::map<size_t, int> count;
  for (int k = 0; k < 3000; ++k) {
    const auto ctx = Key(Id("user-", k), false);
    const size_t first = p->Pick(ctx, c);
    EXPECT_EQ(p->Pick(ctx, c), first);
    ++count[first];
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_GT(count[i], 700) << i;
    EXPECT_LT(count[i], 1300) << i;
  }
}

TEST(SessionAffinityPolicy, LosingABackendMovesOnlyItsKeys) {
  auto p = MakeSessionAffinityPolicy();
  auto urls = Urls(4);
  auto all = Cands(urls);
  std::vector<std::string> home(2000);
  for (int k = 0; k < 2000; ++k) home[k] = urls[p->Pick(Key(Id("s", k)), all)];
  std::vector<std::string> three_urls(urls.begin(), urls.begin() + 3);  // urls[3] ejected
  auto three = Cands(three_urls);
  int moved = 0;
  for (int k = 0; k < 2000; ++k) {
    const std::string now = three_urls[p->Pick(Key(Id("s", k)), three)];
    if (home[k] != urls[3]) {
      EXPECT_EQ(now, home[k]) << "key " << k << " moved although its backend stayed";
    } else {
      ++moved;
    }
  }
  EXPECT_GT(moved, 300);  // about a quarter of the keys lived on the lost backend
  // It comes back: its keys return to it.
  for (int k = 0; k < 2000; ++k) EXPECT_EQ(urls[p->Pick(Key(Id("s", k)), all)], home[k]);
}

TEST(SessionAffinityPolicy, BoundedLoadSendsKeysAwayFromAnOverloadedHome) {
  AffinityOptions o;
  o.load_factor = 1.25;
  auto p = MakeSessionAffinityPolicy(o);
  auto urls = Urls(2);
  // Find a key whose home is backend 0.
  std::string key;
  for (int k = 0; key.empty(); ++k)
    if (p->Pick(Key(Id("k", k), false), Cands(urls)) == 0) key = Id("k", k);
  // Home holds 10 of 12 in-flight requests: the bound is ceil(1.25 * 13 / 2) = 9 < 10.
  EXPECT_EQ(p->Pick(Key(key, false), Cands(urls, {10, 2})), 1u);
  // Within the bound the key stays home.
  EXPECT_EQ(p->Pick(Key(key, false), Cands(urls, {5, 4})), 0u);
}

TEST(SessionPins, RememberForgetAndEvictOldest) {
  SessionPins pins(/*max_pins=*/3);
  pins.Pin("s1", "http://a:1");
  pins.Pin("s2", "http://b:1");
  EXPECT_EQ(pins.Find("s1"), "http://a:1");
  EXPECT_EQ(pins.Find("nope"), std::nullopt);
  pins.Pin("s3", "http://a:1");
  pins.Pin("s4", "http://b:1");  // evicts s1, the oldest
  EXPECT_EQ(pins.size(), 3u);
  EXPECT_EQ(pins.Find("s1"), std::nullopt);
  pins.ForgetBackend("http://b:1");
  EXPECT_EQ(pins.size(), 1u);
  EXPECT_EQ(pins.Find("s3"), "http://a:1");
}

TEST(SessionAffinityPolicy, NoKeyMeansLeastLoaded) {
  auto p = MakeSessionAffinityPolicy();
  auto urls = Urls(3);
  EXPECT_EQ(p->Pick({}, Cands(urls, {3, 0, 2})), 1u);
}

std::string LongPrompt(const std::string& head, int blocks) {
  std::string s;
  while (s.size() < static_cast<size_t>(blocks) * 64)
    s += head + " the quick brown fox jumps over the lazy dog. ";
  return s.substr(0, static_cast<size_t>(blocks) * 64);
}

TEST(PrefixPolicy, SharedPrefixesStickToTheBackendThatServedThem) {
  auto p = MakePrefixPolicy();
  auto urls = Urls(4);
  auto c = Cands(urls);
  const std::string system_a = LongPrompt("You are agent A.", 8);
  const std::string system_b = LongPrompt("You are agent B, a different one.", 8);
  const size_t a = p->Pick(Prompt(system_a + "first question"), c);
  p->OnRouted(Prompt(system_a + "first question"), urls[a]);
  const size_t b = p->Pick(Prompt(system_b + "other question"), c);
  p->OnRouted(Prompt(system_b + "other question"), urls[b]);
  EXPECT_NE(a, b) << "an unknown prefix should go to a backend caching less";
  for (int i = 0; i < 20; ++i) {
    const std::string qa = system_a + "question " + std::to_string(i);
    const size_t got = p->Pick(Prompt(qa), c);
    EXPECT_EQ(got, a) << i;
    p->OnRouted(Prompt(qa), urls[got]);
    EXPECT_EQ(p->Pick(Prompt(system_b + Id("q", i)), c), b) << i;
  }
}

TEST(PrefixPolicy, FallsBackToLeastLoadedWhenImbalanced) {
  PrefixOptions o;
  o.balance_abs_threshold = 4;
  o.balance_rel_threshold = 1.5;
  auto p = MakePrefixPolicy(o);
  auto urls = Urls(3);
  const std::string prompt = LongPrompt("shared system prompt", 6);
  p->OnRouted(Prompt(prompt), urls[0]);
  EXPECT_EQ(p->Pick(Prompt(prompt + "x"), Cands(urls, {3, 1, 1})), 0u)
      << "small imbalance: follow the prefix";
  EXPECT_EQ(p->Pick(Prompt(prompt + "x"), Cands(urls, {9, 1, 2})), 1u)
      << "large imbalance: least loaded";
}

TEST(PrefixPolicy, ShortOrUnknownPromptsGoToTheLeastLoaded) {
  auto p = MakePrefixPolicy();
  auto urls = Urls(3);
  EXPECT_EQ(p->Pick(Prompt("hi"), Cands(urls, {2, 1, 0})), 2u);
  EXPECT_EQ(p->Pick(Prompt(LongPrompt("never seen", 4)), Cands(urls, {2, 0, 1})), 1u);
}

TEST(PrefixPolicy, ForgetsARemovedBackend) {
  auto p = MakePrefixPolicy();
  auto urls = Urls(2);
  const std::string prompt = LongPrompt("remember me", 6);
  p->OnRouted(Prompt(prompt), urls[1]);
  EXPECT_EQ(p->Pick(Prompt(prompt), Cands(urls)), 1u);
  p->OnBackendRemoved(urls[1]);
  // With no memory left, the tie is broken by the prompt's hash, not by the prefix: both
  // backends must be reachable over several prompts.
  std::map<size_t, int> count;
  for (int i = 0; i < 20; ++i) ++count[p->Pick(Prompt(prompt + std::to_string(i)), Cands(urls))];
  EXPECT_EQ(count.size(), 2u);
}

TEST(AutoPolicy, KeyedRequestsUseAffinityOthersThePrefix) {
  auto p = MakeAutoPolicy();
  auto urls = Urls(3);
  auto c = Cands(urls);
  const size_t home = p->Pick(Key("user-7", false), c);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p->Pick(Key("user-7", false), c), home);
  const std::string prompt = LongPrompt("a document", 10);
  p->OnRouted(Prompt(prompt), urls[(home + 1) % 3]);
  EXPECT_EQ(p->Pick(Prompt(prompt + "?"), c), (home + 1) % 3);
}

TEST(MakePolicy, KnowsEveryNameAndRejectsOthers) {
  for (const std::string& name : PolicyNames()) {
    auto p = MakePolicy(name);
    ASSERT_TRUE(p.ok()) << name;
    EXPECT_EQ((*p)->name(), name == "session_affinity" ? "session_affinity" : name);
  }
  auto bad = MakePolicy("random");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dte::router
