#pragma once
// L3: one file per checkpoint in a directory, the embedded persistent tier.
//
// File "<key as 16 hex digits>.dtc": a 32-byte header (magic "DTL3", version, creation time,
// payload length, xxhash64 of the payload) followed by the checkpoint_codec bytes. Writes are
// crash-safe (temp file + fsync + rename, then fsync of the directory). Open rebuilds the in-memory
// index from the directory (header and prefix only; leftover temp files are removed), so entries
// survive a restart; Recovered() lists them for the prefix index. A file whose checksum or format
// is wrong is deleted and reported as a miss (stats: corrupt). Byte budget (LRU by last use;
// at open, by file time) and an optional TTL.
//
// Thread-safe. File operations on one key are serialized by a striped lock; the index by mu_.

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/status.h"
#include "cache/checkpoint_codec.h"
#include "cache/eviction_policy.h"
#include "cache/tier.h"

namespace dte {

struct DiskTierOptions {
  std::string dir;
  size_t capacity_bytes = size_t{16} << 30;
  std::chrono::seconds ttl{0};  // 0: entries never expire
  CodecOptions codec;           // for entries that arrive decoded (from L1)
};

class DiskTier final : public CacheTier {
 public:
  static Result<std::unique_ptr<DiskTier>> Open(const DiskTierOptions& options);
  ~DiskTier() override;

  std::string_view name() const override { return "l3"; }
  std::optional<TierEntry> Get(CacheKey key, bool take) override;
  // Evicted entries carry only key and priority (this is the bottom tier: they are gone).
  bool Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) override;
  bool Contains(CacheKey key) const override;
  bool Erase(CacheKey key) override;
  void Clear() override;
  TierStats Stats() const override;
  // Deletes the files whose TTL (counted from when this tier wrote them) has run out.
  size_t ExpireDue(std::vector<CacheKey>* expired) override;

  // Entries found by Open (key + id/prefix), to rebuild the prefix index.
  const std::vector<std::pair<CacheKey, CheckpointMeta>>& Recovered() const { return recovered_; }
  std::string PathOf(CacheKey key) const;
  // Seconds since the epoch; tests replace it to exercise the TTL.
  void SetClockForTesting(std::function<int64_t()> now) { now_ = std::move(now); }

 private:
  struct FileInfo {
    size_t bytes;
    size_t raw_bytes;
    int64_t created;
    Priority priority;
    EvictionPolicy::Handle handle;
  };

  explicit DiskTier(const DiskTierOptions& options);
  Status Load();
  bool Expired(const FileInfo& f) const;
  // Removes `key` from the index (caller holds mu_); returns whether it was there.
  bool ForgetLocked(CacheKey key);
  std::mutex& StripeOf(CacheKey key) { return stripes_[key % stripes_.size()]; }
  void RemoveFile(CacheKey key);
  Result<std::vector<uint8_t>> ReadVerified(CacheKey key);

  const DiskTierOptions options_;
  int dir_fd_ = -1;
  std::function<int64_t()> now_;
  std::array<std::mutex, 64> stripes_;  // serialize file operations per key
  mutable std::mutex mu_;
  std::unordered_map<CacheKey, FileInfo> files_;  // GUARDED_BY(mu_)
  std::unique_ptr<EvictionPolicy> policy_;        // GUARDED_BY(mu_)
  size_t bytes_ = 0, raw_bytes_ = 0;              // GUARDED_BY(mu_)
  std::vector<std::pair<CacheKey, CheckpointMeta>> recovered_;  // written by Open only
  TierCounters counters_;
};

}  // namespace dte
