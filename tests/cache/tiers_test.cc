// Each tier round-trips bytes exactly; the codec (lz4, zstd, none, lossy); L1 budgets; L3 restart,
// corrupt files, TTL and temp-file leftovers.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "cache/cache_test_util.h"
#include "cache/checkpoint_codec.h"
#include "cache/compressed_tier.h"
#include "cache/disk_tier.h"
#include "cache/ram_tier.h"

namespace dte {
namespace {

using testing::MakeCheckpoint;
using testing::TempDir;

TierEntry Entry(uint32_t seed, Priority p = Priority::kGeneral) {
  Checkpoint cp = MakeCheckpoint(seed);
  cp.prefix = {1, 2, 3, static_cast<int32_t>(seed)};
  return TierEntry{std::make_shared<const Checkpoint>(cp), p, nullptr};
}

TEST(CodecTest, LosslessRoundTripsExactly) {
  Checkpoint cp = MakeCheckpoint(7, 1000, 300);
  cp.prefix = {5, 6, 7};
  cp.model_id = "model-x";
  for (auto c : {Compression::kNone, Compression::kLz4, Compression::kZstd}) {
    for (bool shuffle : {false, true}) {
      CodecOptions o;
      o.compression = c;
      o.shuffle = shuffle;
      auto bytes = EncodeCheckpoint(cp, Priority::kReasoning, o);
      auto back = DecodeCheckpoint(bytes);
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(back->checkpoint, cp);
      EXPECT_EQ(back->priority, Priority::kReasoning);
      auto meta = PeekCheckpointMeta(bytes);
      ASSERT_TRUE(meta.ok());
      EXPECT_EQ(meta->prefix, cp.prefix);
      EXPECT_EQ(meta->decoded_bytes, cp.bytes());
    }
  }
}

TEST(CodecTest, NonStateBlobRoundTrips) {
  Checkpoint cp;
  cp.state = {1, 2, 3, 4, 5};  // not a State blob: lossy must leave it alone
  cp.logits = {0.5f};
  CodecOptions o;
  o.lossy = LossyFloat::kFp16;
  auto back = DecodeCheckpoint(EncodeCheckpoint(cp, Priority::kGeneral, o));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->checkpoint, cp);
}

TEST(CodecTest, LossyKeepsHeaderAndLogitsExact) {
  Checkpoint cp = MakeCheckpoint(3, 500, 50);
  for (auto mode : {LossyFloat::kFp16, LossyFloat::kBf16}) {
    CodecOptions o;
    o.lossy = mode;
    auto bytes = EncodeCheckpoint(cp, Priority::kGeneral, o);
    EXPECT_LT(bytes.size(), cp.state.size() * 6 / 10 + cp.logits.size() * 4 + 64);
    auto back = DecodeCheckpoint(bytes);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(back->checkpoint.logits, cp.logits);
    EXPECT_TRUE(std::equal(cp.state.begin(), cp.state.begin() + 32, back->checkpoint.state.begin()));
    float max_rel = 0;
    for (size_t i = 32; i < cp.state.size(); i += 4) {
      float a, b;
      std::memcpy(&a, cp.state.data() + i, 4);
      std::memcpy(&b, back->checkpoint.state.data() + i, 4);
      max_rel = std::max(max_rel, std::fabs(a - b) / std::max(std::fabs(a), 1e-3f));
    }
    EXPECT_LT(max_rel, mode == LossyFloat::kFp16 ? 1e-3f : 1e-2f);
    EXPECT_GT(max_rel, 0);
  }
}

TEST(CodecTest, DamagedBytesAreRejectedNotCrashed) {
  Checkpoint cp = MakeCheckpoint(9, 300, 20);
  auto bytes = EncodeCheckpoint(cp, Priority::kGeneral, {});
  for (size_t cut : {size_t{0}, size_t{10}, size_t{70}, bytes.size() - 1}) {
    std::vector<uint8_t> b(bytes.begin(), bytes.begin() + cut);
    EXPECT_FALSE(DecodeCheckpoint(b).ok()) << cut;
  }
  auto b = bytes;
  b[0] ^= 1;
  EXPECT_FALSE(DecodeCheckpoint(b).ok());
}

TEST(RamTierTest, RoundTripAndBudget) {
  size_t one = Entry(1).checkpoint->bytes();
  RamTier l1({.capacity_bytes = one * 3, .shards = 4, .policy = EvictionPolicyKind::kLru});
  std::vector<EvictedEntry> ev;
  for (uint32_t k = 1; k <= 3; ++k) EXPECT_TRUE(l1.Put(k, Entry(k), &ev));
  EXPECT_TRUE(ev.empty());
  auto got = l1.Get(2, false);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got->checkpoint, *Entry(2).checkpoint);
  EXPECT_TRUE(l1.Put(4, Entry(4), &ev));
  EXPECT_EQ(ev.size(), 1u);
  EXPECT_LE(l1.Stats().bytes, static_cast<int64_t>(one * 3));
  EXPECT_EQ(l1.Stats().entries, 3);
  // Larger than the whole tier: refused and handed back.
  ev.clear();
  Checkpoint big = MakeCheckpoint(5, 10000);
  EXPECT_FALSE(l1.Put(5, TierEntry{std::make_shared<const Checkpoint>(big), Priority::kGeneral, nullptr}, &ev));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].key, 5u);
}

TEST(RamTierTest, EvictionFollowsPolicyInOneShard) {
  size_t one = Entry(1).checkpoint->bytes();
  for (auto kind : {EvictionPolicyKind::kLru, EvictionPolicyKind::kSieve}) {
    RamTier l1({.capacity_bytes = one * 3, .shards = 1, .policy = kind});
    std::vector<EvictedEntry> ev;
    for (uint32_t k = 1; k <= 3; ++k) (void)l1.Put(k, Entry(k), &ev);
    (void)l1.Get(1, false);  // LRU: 2 is now oldest; SIEVE: 1 visited, 2 first unvisited
    (void)l1.Put(4, Entry(4), &ev);
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0].key, 2u) << EvictionPolicyName(kind);
  }
}

TEST(CompressedTierTest, RoundTripsAndTakeMoves) {
  for (auto c : {Compression::kLz4, Compression::kZstd}) {
    CompressedTierOptions o;
    o.codec.compression = c;
    CompressedTier l2(o);
    std::vector<EvictedEntry> ev;
    Checkpoint cp = MakeCheckpoint(11, 4096, 256);
    ASSERT_TRUE(l2.Put(11, TierEntry{std::make_shared<const Checkpoint>(cp), Priority::kGrammar, nullptr}, &ev));
    auto s = l2.Stats();
    EXPECT_EQ(s.entries, 1);
    EXPECT_GT(s.compression_ratio(), 1.0);  // random normals still shrink after the byte shuffle
    auto got = l2.Get(11, /*take=*/true);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got->checkpoint, cp);
    EXPECT_EQ(got->priority, Priority::kGrammar);
    EXPECT_FALSE(l2.Contains(11));
    EXPECT_EQ(l2.Stats().promotions, 1);
  }
}

TEST(CompressedTierTest, EvictedEntriesLeaveEncoded) {
  CompressedTierOptions o;
  o.shards = 1;
  o.capacity_bytes = 4000;
  CompressedTier l2(o);
  std::vector<EvictedEntry> ev;
  for (uint32_t k = 1; k <= 10; ++k) (void)l2.Put(k, Entry(k), &ev);
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].entry.checkpoint, nullptr);
  ASSERT_NE(ev[0].entry.encoded, nullptr);
  auto back = DecodeCheckpoint(*ev[0].entry.encoded);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->checkpoint, *Entry(static_cast<uint32_t>(ev[0].key)).checkpoint);
}

DiskTierOptions DiskOptions(const std::string& dir) {
  DiskTierOptions o;
  o.dir = dir;
  o.capacity_bytes = 1 << 20;
  return o;
}

TEST(DiskTierTest, RoundTripSurvivesRestart) {
  TempDir dir;
  {
    auto l3 = DiskTier::Open(DiskOptions(dir.path));
    ASSERT_TRUE(l3.ok()) << l3.status().ToString();
    std::vector<EvictedEntry> ev;
    for (uint32_t k = 1; k <= 5; ++k) ASSERT_TRUE((*l3)->Put(k, Entry(k, Priority::kMemoryRetrieval), &ev));
    auto got = (*l3)->Get(3, /*take=*/false);
    ASSERT_TRUE(got);
    EXPECT_EQ(*got->checkpoint, *Entry(3).checkpoint);
  }
  // A temp file from a write cut short by a crash is cleaned up at open.
  std::ofstream(dir.path + "/0000000000000009.dtc.tmp.123") << "partial";
  auto l3 = DiskTier::Open(DiskOptions(dir.path));
  ASSERT_TRUE(l3.ok());
  EXPECT_EQ((*l3)->Stats().entries, 5);
  EXPECT_EQ((*l3)->Recovered().size(), 5u);
  for (const auto& [key, meta] : (*l3)->Recovered()) {
    EXPECT_EQ(meta.prefix, Entry(static_cast<uint32_t>(key)).checkpoint->prefix);
    EXPECT_EQ(meta.priority, Priority::kMemoryRetrieval);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.path + "/0000000000000009.dtc.tmp.123"));
  for (uint32_t k = 1; k <= 5; ++k) {
    auto got = (*l3)->Get(k, /*take=*/true);
    ASSERT_TRUE(got) << k;
    EXPECT_EQ(*got->checkpoint, *Entry(k).checkpoint);
    EXPECT_FALSE(std::filesystem::exists((*l3)->PathOf(k)));  // moved out
  }
}

TEST(DiskTierTest, CorruptFileIsDroppedAsAMiss) {
  TempDir dir;
  auto l3 = DiskTier::Open(DiskOptions(dir.path));
  ASSERT_TRUE(l3.ok());
  std::vector<EvictedEntry> ev;
  ASSERT_TRUE((*l3)->Put(1, Entry(1), &ev));
  ASSERT_TRUE((*l3)->Put(2, Entry(2), &ev));
  {  // flip one payload byte: same length, so only the checksum can tell
    std::fstream f((*l3)->PathOf(1), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    char c;
    f.read(&c, 1);
    f.seekp(200);
    c ^= 0x40;
    f.write(&c, 1);
  }
  EXPECT_FALSE((*l3)->Get(1, false).has_value());
  EXPECT_EQ((*l3)->Stats().corrupt, 1);
  EXPECT_FALSE(std::filesystem::exists((*l3)->PathOf(1)));
  EXPECT_FALSE((*l3)->Contains(1));
  EXPECT_TRUE((*l3)->Get(2, false).has_value());
  // A truncated file is dropped at open.
  std::filesystem::resize_file((*l3)->PathOf(2), 100);
  auto reopened = DiskTier::Open(DiskOptions(dir.path));
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->Stats().entries, 0);
  EXPECT_EQ((*reopened)->Stats().corrupt, 1);
}

TEST(DiskTierTest, BudgetAndTtl) {
  TempDir dir;
  auto o = DiskOptions(dir.path);
  auto probe = DiskTier::Open(o);
  std::vector<EvictedEntry> ev;
  ASSERT_TRUE((*probe)->Put(1, Entry(1), &ev));
  size_t one = static_cast<size_t>((*probe)->Stats().bytes);
  (*probe)->Clear();
  o.capacity_bytes = one * 3;
  o.ttl = std::chrono::seconds(60);
  auto l3 = DiskTier::Open(o);
  ASSERT_TRUE(l3.ok());
  int64_t now = 1000;
  (*l3)->SetClockForTesting([&] { return now; });
  for (uint32_t k = 1; k <= 4; ++k) ASSERT_TRUE((*l3)->Put(k, Entry(k), &ev));
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].key, 1u);  // LRU
  EXPECT_FALSE(std::filesystem::exists((*l3)->PathOf(1)));
  EXPECT_EQ((*l3)->Stats().entries, 3);
  now += 59;
  EXPECT_TRUE((*l3)->Get(2, false).has_value());
  now += 1;
  EXPECT_FALSE((*l3)->Get(3, false).has_value());  // expired
  EXPECT_FALSE(std::filesystem::exists((*l3)->PathOf(3)));
}

}  // namespace
}  // namespace dte
