#include "cache/disk_tier.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include <xxhash.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/mapped_file.h"

namespace dte {

namespace {

constexpr uint32_t kFileMagic = 0x334c5444;  // "DTL3"
constexpr uint32_t kFileVersion = 1;
constexpr uint64_t kHashSeed = 0x4c33;
constexpr std::string_view kSuffix = ".dtc";
// L3's eviction policy: LRU, whose order Open rebuilds from the files' times (--cache-eviction
// picks L1's and L2's).
constexpr EvictionPolicyKind kDiskEviction = EvictionPolicyKind::kLru;

struct FileHeader {
  uint32_t magic;
  uint32_t version;
  int64_t created;
  uint64_t payload;
  uint64_t checksum;
};
static_assert(sizeof(FileHeader) == 32);

int64_t WallSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Reads up to `n` bytes from the start of a file.
Result<std::vector<uint8_t>> ReadHead(const std::string& path, size_t n) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::NotFound("l3: cannot open " + path);
  std::vector<uint8_t> buf(n);
  size_t done = 0;
  while (done < n) {
    ssize_t r = ::pread(fd, buf.data() + done, n - done, static_cast<off_t>(done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  ::close(fd);
  buf.resize(done);
  return buf;
}

std::optional<CacheKey> KeyFromName(const std::string& name) {
  if (name.size() != 16 + kSuffix.size() || !name.ends_with(kSuffix)) return std::nullopt;
  CacheKey key = 0;
  for (int i = 0; i < 16; ++i) {
    char c = name[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;
    key = key << 4 | static_cast<CacheKey>(v);
  }
  return key;
}

}  // namespace

DiskTier::DiskTier(const DiskTierOptions& options)
    : options_(options), now_(WallSeconds), policy_(EvictionPolicy::Make(kDiskEviction)) {}

DiskTier::~DiskTier() {
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

Result<std::unique_ptr<DiskTier>> DiskTier::Open(const DiskTierOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("l3: no directory given");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status::IoError("l3: cannot create " + options.dir + ": " + ec.message());
  std::unique_ptr<DiskTier> tier(new DiskTier(options));
  tier->dir_fd_ = ::open(options.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tier->dir_fd_ < 0) return Status::IoError("l3: cannot open directory " + options.dir);
  DTE_RETURN_IF_ERROR(tier->Load());
  return tier;
}

std::string DiskTier::PathOf(CacheKey key) const {
  char name[17];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(key));
  return options_.dir + "/" + name + std::string(kSuffix);
}

Status DiskTier::Load() {
  struct Found {
    CacheKey key;
    FileInfo info;
    CheckpointMeta meta;
  };
  std::vector<Found> found;
  std::error_code ec;
  for (const auto& de : std::filesystem::directory_iterator(options_.dir, ec)) {
    std::string name = de.path().filename().string();
    if (name.find(".tmp.") != std::string::npos) {  // a write cut short by a crash
      std::filesystem::remove(de.path(), ec);
      continue;
    }
    std::optional<CacheKey> key = KeyFromName(name);
    if (!key) continue;  // not ours
    size_t size = de.file_size(ec);
    auto drop = [&](std::string_view why) {
      LogWarning("l3: dropping " + name + ": " + std::string(why));
      counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
      std::filesystem::remove(de.path(), ec);
    };
    auto head = ReadHead(de.path().string(), 64 << 10);
    if (!head.ok() || head->size() < sizeof(FileHeader)) { drop("short header"); continue; }
    FileHeader h;
    std::memcpy(&h, head->data(), sizeof h);
    if (h.magic != kFileMagic || h.version != kFileVersion || h.payload + sizeof h != size) {
      drop("bad header or length");
      continue;
    }
    size_t needed = 0;
    auto meta = PeekCheckpointMeta(std::span<const uint8_t>(*head).subspan(sizeof h), &needed);
    if (!meta.ok() && meta.status().code() == StatusCode::kOutOfRange && needed + sizeof h <= size) {
      head = ReadHead(de.path().string(), needed + sizeof h);
      if (head.ok()) meta = PeekCheckpointMeta(std::span<const uint8_t>(*head).subspan(sizeof h));
    }
    if (!meta.ok()) { drop(meta.status().ToString()); continue; }
    FileInfo info{size, meta->decoded_bytes, h.created, meta->priority, 0};
    if (Expired(info)) {
      std::filesystem::remove(de.path(), ec);
      counters_.expirations.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    found.push_back({*key, info, std::move(*meta)});
  }
  if (ec) return Status::IoError("l3: cannot list " + options_.dir + ": " + ec.message());
  // Oldest first, so the LRU order starts as creation order.
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.info.created < b.info.created; });
  std::vector<CacheKey> over;
  {
    std::lock_guard lock(mu_);
    for (auto& f : found) {
      f.info.handle = policy_->Insert(f.key, PriorityWeight(f.info.priority));
      bytes_ += f.info.bytes;
      raw_bytes_ += f.info.raw_bytes;
      files_.emplace(f.key, f.info);
    }
    while (bytes_ > options_.capacity_bytes) {
      std::optional<CacheKey> victim = policy_->Evict();
      if (!victim) break;
      auto it = files_.find(*victim);
      bytes_ -= it->second.bytes;
      raw_bytes_ -= it->second.raw_bytes;
      files_.erase(it);
      over.push_back(*victim);
    }
  }
  for (CacheKey k : over) RemoveFile(k);
  for (auto& f : found)
    if (std::find(over.begin(), over.end(), f.key) == over.end()) recovered_.emplace_back(f.key, std::move(f.meta));
  return Status::Ok();
}

bool DiskTier::Expired(const FileInfo& f) const {
  return options_.ttl.count() > 0 && now_() - f.created >= options_.ttl.count();
}

bool DiskTier::ForgetLocked(CacheKey key) {
  auto it = files_.find(key);
  if (it == files_.end()) return false;
  policy_->Erase(it->second.handle);
  bytes_ -= it->second.bytes;
  raw_bytes_ -= it->second.raw_bytes;
  files_.erase(it);
  return true;
}

void DiskTier::RemoveFile(CacheKey key) { ::unlink(PathOf(key).c_str()); }

Result<std::vector<uint8_t>> DiskTier::ReadVerified(CacheKey key) {
  DTE_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(PathOf(key)));
  if (bytes.size() < sizeof(FileHeader)) return Status::Corrupt("l3: file shorter than its header");
  FileHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.magic != kFileMagic || h.version != kFileVersion || h.payload != bytes.size() - sizeof h)
    return Status::Corrupt("l3: bad header");
  if (XXH64(bytes.data() + sizeof h, h.payload, kHashSeed) != h.checksum) return Status::Corrupt("l3: checksum mismatch");
  return std::vector<uint8_t>(bytes.begin() + sizeof h, bytes.end());
}

std::optional<TierEntry> DiskTier::Get(CacheKey key, bool take) {
  auto start = SteadyClock::now();
  std::lock_guard stripe(StripeOf(key));
  bool expired = false;
  {
    std::lock_guard lock(mu_);
    auto it = files_.find(key);
    if (it == files_.end()) {
      counters_.misses.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    expired = Expired(it->second);
    if (expired || take) ForgetLocked(key);
    else policy_->Touch(it->second.handle);
  }
  if (expired) {
    RemoveFile(key);
    counters_.expirations.fetch_add(1, std::memory_order_relaxed);
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  Result<std::vector<uint8_t>> payload = ReadVerified(key);
  Result<DecodedCheckpoint> decoded = payload.ok() ? DecodeCheckpoint(*payload) : Result<DecodedCheckpoint>(payload.status());
  if (take || !decoded.ok()) RemoveFile(key);
  if (!decoded.ok()) {
    LogWarning("l3: dropping entry " + PathOf(key) + ": " + decoded.status().ToString());
    if (!take) {
      std::lock_guard lock(mu_);
      ForgetLocked(key);
    }
    counters_.corrupt.fetch_add(1, std::memory_order_relaxed);
    counters_.misses.fetch_add(1, std::memory_order_relaxed);
    return std::nullopt;
  }
  counters_.get_latency.Record(std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count());
  counters_.hits.fetch_add(1, std::memory_order_relaxed);
  if (take) counters_.promotions.fetch_add(1, std::memory_order_relaxed);
  return TierEntry{std::make_shared<const Checkpoint>(std::move(decoded->checkpoint)), decoded->priority, nullptr};
}

bool DiskTier::Put(CacheKey key, TierEntry entry, std::vector<EvictedEntry>* evicted) {
  std::shared_ptr<const std::vector<uint8_t>> blob = entry.encoded;
  if (!blob) {
    DTE_CHECK(entry.checkpoint != nullptr, "l3: an entry with neither checkpoint nor encoded bytes");
    blob = std::make_shared<const std::vector<uint8_t>>(EncodeCheckpoint(*entry.checkpoint, entry.priority, options_.codec));
  }
  auto meta = PeekCheckpointMeta(*blob);
  size_t file_bytes = blob->size() + sizeof(FileHeader);
  if (!meta.ok() || file_bytes > options_.capacity_bytes) {
    counters_.rejections.fetch_add(1, std::memory_order_relaxed);
    evicted->push_back({key, TierEntry{nullptr, entry.priority, nullptr}});
    return false;
  }
  FileHeader h{kFileMagic, kFileVersion, now_(), blob->size(), XXH64(blob->data(), blob->size(), kHashSeed)};
  std::vector<uint8_t> bytes(file_bytes);
  std::memcpy(bytes.data(), &h, sizeof h);
  std::memcpy(bytes.data() + sizeof h, blob->data(), blob->size());

  std::vector<CacheKey> victims;
  {
    std::lock_guard stripe(StripeOf(key));
    Status s = WriteFileAtomically(PathOf(key), bytes);
    if (s.ok() && ::fsync(dir_fd_) != 0) s = Status::IoError("l3: cannot sync directory");
    if (!s.ok()) {
      LogWarning("l3: " + s.ToString());
      counters_.rejections.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(mu_);
      ForgetLocked(key);
      evicted->push_back({key, TierEntry{nullptr, entry.priority, nullptr}});
      return false;
    }
    std::lock_guard lock(mu_);
    ForgetLocked(key);
    FileInfo info{file_bytes, meta->decoded_bytes, h.created, entry.priority, 0};
    info.handle = policy_->Insert(key, PriorityWeight(entry.priority));
    files_.emplace(key, info);
    bytes_ += info.bytes;
    raw_bytes_ += info.raw_bytes;
    while (bytes_ > options_.capacity_bytes) {
      std::optional<CacheKey> victim = policy_->Evict();
      if (!victim) break;
      auto it = files_.find(*victim);
      bytes_ -= it->second.bytes;
      raw_bytes_ -= it->second.raw_bytes;
      evicted->push_back({*victim, TierEntry{nullptr, it->second.priority, nullptr}});
      files_.erase(it);
      victims.push_back(*victim);
    }
  }
  // Unlink victims under their own stripe, unless a concurrent Put has brought one back.
  for (CacheKey v : victims) {
    counters_.evictions.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard stripe(StripeOf(v));
    bool back;
    {
      std::lock_guard lock(mu_);
      back = files_.contains(v);
    }
    if (!back) RemoveFile(v);
  }
  return true;
}

size_t DiskTier::ExpireDue(std::vector<CacheKey>* expired) {
  if (options_.ttl.count() <= 0) return 0;
  std::vector<CacheKey> due;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, info] : files_)
      if (Expired(info)) due.push_back(key);
  }
  size_t n = 0;
  for (CacheKey key : due) {
    // Re-check under the key's stripe: a Put may have rewritten it meanwhile.
    std::lock_guard stripe(StripeOf(key));
    {
      std::lock_guard lock(mu_);
      auto it = files_.find(key);
      if (it == files_.end() || !Expired(it->second)) continue;
      ForgetLocked(key);
    }
    RemoveFile(key);
    expired->push_back(key);
    ++n;
  }
  counters_.expirations.fetch_add(static_cast<int64_t>(n), std::memory_order_relaxed);
  return n;
}

bool DiskTier::Contains(CacheKey key) const {
  std::lock_guard lock(mu_);
  auto it = files_.find(key);
  return it != files_.end() && !Expired(it->second);
}

bool DiskTier::Erase(CacheKey key) {
  std::lock_guard stripe(StripeOf(key));
  bool had;
  {
    std::lock_guard lock(mu_);
    had = ForgetLocked(key);
  }
  if (had) RemoveFile(key);
  return had;
}

void DiskTier::Clear() {
  std::vector<CacheKey> keys;
  {
    std::lock_guard lock(mu_);
    for (auto& [k, f] : files_) keys.push_back(k);
  }
  for (CacheKey k : keys) (void)Erase(k);
}

TierStats DiskTier::Stats() const {
  TierStats s;
  s.name = "l3";
  s.eviction = std::string(EvictionPolicyName(kDiskEviction));
  {
    std::lock_guard lock(mu_);
    s.entries = static_cast<int64_t>(files_.size());
    s.bytes = static_cast<int64_t>(bytes_);
    s.raw_bytes = static_cast<int64_t>(raw_bytes_);
  }
  s.capacity_bytes = static_cast<int64_t>(options_.capacity_bytes);
  counters_.Fill(&s);
  return s;
}

}  // namespace dte
