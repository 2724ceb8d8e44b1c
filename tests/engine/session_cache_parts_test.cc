// The pieces that move sessions between the SessionStore and the state cache: the eviction
// handler, Restore, DrainIdle, and the session entry codec (round trip, damage refused).

#include <gtest/gtest.h>

#include "engine/session_codec.h"
#include "engine/session_store.h"

namespace dte {
namespace {

using namespace std::chrono_literals;

ModelConfig SmallConfig() {
  ModelConfig c;
  c.version = RwkvVersion::kV5_2;
  c.n_vocab = 256;
  c.n_embd = 16;
  c.n_layer = 2;
  c.head_size = 8;
  c.n_head = 2;
  c.ffn_dim = 32;
  return c;
}

State Filled(const ModelConfig& c, float v) {
  State s(c);
  for (float& f : s.floats()) f = v;
  return s;
}

struct FakeClock {
  SessionStore::Clock::time_point now = SessionStore::Clock::now();
};

TEST(SessionStoreEvictionTest, ExpiredAndCrowdedOutSessionsGoToTheHandler) {
  FakeClock clock;
  SessionOptions o;
  o.max_sessions = 2;
  o.idle_ttl = 10s;
  SessionStore store(o, [&] { return clock.now; });
  std::vector<std::pair<SessionInfo, SessionLease>> handed;
  store.SetEvictionHandler([&](const SessionInfo& info, SessionLease lease) {
    handed.emplace_back(info, std::move(lease));
  });
  const ModelConfig c = SmallConfig();
  auto a = store.Create(Filled(c, 1));
  clock.now += 1s;
  auto b = store.Create(Filled(c, 2));
  clock.now += 1s;
  auto c3 = store.Create(Filled(c, 3));  // full: a (least recently used) leaves
  ASSERT_EQ(handed.size(), 1u);
  EXPECT_EQ(handed[0].first.id, *a);
  EXPECT_EQ(handed[0].second.id, *a);
  EXPECT_EQ(handed[0].second.state.floats()[0], 1.0f);
  clock.now += 30s;
  EXPECT_EQ(store.ExpireIdle(), 2u);
  EXPECT_EQ(handed.size(), 3u);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.state_bytes(), 0u);
}

TEST(SessionStoreEvictionTest, RestoreKeepsCountersAndRefusesAHeldId) {
  SessionStore store(SessionOptions{});
  const ModelConfig c = SmallConfig();
  SessionInfo info;
  info.id = "sess_x";
  info.turns = 4;
  info.tokens = 99;
  info.created = SessionStore::Clock::now() - 1h;
  SessionLease lease{"ignored", Filled(c, 5), {7}, false};
  ASSERT_TRUE(store.Restore(info, lease).ok());
  std::optional<SessionInfo> got = store.Get("sess_x");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->turns, 4);
  EXPECT_EQ(got->tokens, 99);
  EXPECT_EQ(got->created, info.created);
  EXPECT_FALSE(got->ended_with_stop);
  EXPECT_EQ(got->state_bytes, lease.state.bytes());
  EXPECT_EQ(store.Restore(info, lease).code(), StatusCode::kConflict);
  auto taken = store.Acquire("sess_x");
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->pending_tokens, std::vector<int32_t>{7});
  store.Release(std::move(*taken), 0, false);
  EXPECT_EQ(store.DrainIdle().size(), 1u);
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionCodecTest, RoundTripsStateAndBookkeeping) {
  const ModelConfig c = SmallConfig();
  SessionInfo info;
  info.id = "sess_1";
  info.turns = 3;
  info.tokens = 1234;
  info.created = SessionStore::Clock::time_point(std::chrono::milliseconds(1700000000123));
  info.last_used = SessionStore::Clock::time_point(std::chrono::milliseconds(1700000999456));
  State state(c);
  for (size_t i = 0; i < state.floats().size(); ++i)
    state.floats()[i] = 0.25f * static_cast<float>(i);
  SessionLease lease{"sess_1", state, {42, 255}, false};
  Checkpoint cp = EncodeSession("model-a", info, lease);
  EXPECT_EQ(cp.model_id, "model-a");
  EXPECT_EQ(cp.tokens, 1234);
  auto back = DecodeSession(c, cp);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->first.turns, 3);
  EXPECT_EQ(back->first.tokens, 1234);
  EXPECT_EQ(back->first.created, info.created);
  EXPECT_EQ(back->first.last_used, info.last_used);
  EXPECT_FALSE(back->first.ended_with_stop);
  EXPECT_EQ(back->second.pending_tokens, (std::vector<int32_t>{42, 255}));
  EXPECT_TRUE(std::equal(state.floats().begin(), state.floats().end(),
                         back->second.state.floats().begin()));
}

TEST(SessionCodecTest, RefusesDamagedOrForeignEntries) {
  const ModelConfig c = SmallConfig();
  SessionInfo info;
  info.id = "s";
  Checkpoint cp = EncodeSession("m", info, SessionLease{"s", State(c), {1}, true});
  Checkpoint truncated = cp;
  truncated.state.resize(40);
  EXPECT_FALSE(DecodeSession(c, truncated).ok());
  Checkpoint not_session = cp;
  not_session.state[0] ^= 0xff;
  EXPECT_EQ(DecodeSession(c, not_session).status().code(), StatusCode::kCorrupt);
  Checkpoint bad_token = cp;
  bad_token.state[48] = 0xff;  // the pending token id becomes out of the vocabulary
  bad_token.state[51] = 0x7f;
  EXPECT_EQ(DecodeSession(c, bad_token).status().code(), StatusCode::kCorrupt);
  ModelConfig other = c;
  other.n_layer = 3;
  EXPECT_FALSE(DecodeSession(other, cp).ok());  // a state of another shape
}

}  // namespace
}  // namespace dte
