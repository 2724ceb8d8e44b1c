#include "cache/prefix_index.h"

#include <algorithm>
#include <mutex>

#include <xxhash.h>

#include "base/check.h"

namespace dte {

namespace {
constexpr uint64_t kRootSeed = 0x6474652d70726678ull;  // "dte-prfx"
constexpr uint64_t kTailSeed = 0x9e3779b97f4a7c15ull;

bool SameTokens(std::span<const int32_t> a, std::span<const int32_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}
}  // namespace

PrefixIndex::PrefixIndex(int block_tokens) : block_(block_tokens) {
  DTE_CHECK(block_tokens > 0, "block_tokens must be positive");
}

uint64_t PrefixIndex::RootHash(std::string_view model_id) const {
  return XXH64(model_id.data(), model_id.size(), kRootSeed + static_cast<uint64_t>(block_));
}

uint64_t PrefixIndex::ChainHash(uint64_t parent, std::span<const int32_t> block) const {
  return XXH64(block.data(), block.size_bytes(), parent);
}

CacheKey PrefixIndex::TailKey(uint64_t chain, std::span<const int32_t> tail) {
  // The tail length is mixed in so that an empty tail and a tail of zeros differ.
  return XXH64(tail.data(), tail.size_bytes(), chain ^ (kTailSeed * (tail.size() + 1)));
}

CacheKey PrefixIndex::KeyOf(std::string_view model_id, std::span<const int32_t> prefix) const {
  return Locate(model_id, prefix).key;
}

PrefixIndex::Location PrefixIndex::Locate(std::string_view model_id, std::span<const int32_t> prefix) const {
  uint64_t h = RootHash(model_id);
  size_t full = prefix.size() / block_ * block_;
  for (size_t i = 0; i < full; i += block_) h = ChainHash(h, prefix.subspan(i, block_));
  return Location{h, static_cast<int32_t>(prefix.size() - full), TailKey(h, prefix.subspan(full))};
}

std::vector<uint64_t> PrefixIndex::ChainHashes(std::string_view model_id, std::span<const int32_t> tokens) const {
  std::vector<uint64_t> chain;
  chain.reserve(tokens.size() / block_ + 1);
  chain.push_back(RootHash(model_id));
  for (size_t i = 0; i + block_ <= tokens.size(); i += block_) chain.push_back(ChainHash(chain.back(), tokens.subspan(i, block_)));
  return chain;
}

CacheKey PrefixIndex::Insert(std::string_view model_id, std::span<const int32_t> prefix) {
  // Hash outside the lock: this is the O(len) part.
  size_t full = prefix.size() / block_ * block_;
  std::vector<uint64_t> chain;
  chain.reserve(full / block_ + 1);
  chain.push_back(RootHash(model_id));
  for (size_t i = 0; i < full; i += block_) chain.push_back(ChainHash(chain.back(), prefix.subspan(i, block_)));
  std::span<const int32_t> tail = prefix.subspan(full);
  CacheKey key = TailKey(chain.back(), tail);

  std::unique_lock lock(mu_);
  if (keys_.contains(key)) return key;
  for (size_t n = 0; n < chain.size(); ++n) {
    auto [it, inserted] = nodes_.try_emplace(chain[n]);
    if (inserted && n > 0) {
      it->second.parent = chain[n - 1];
      auto block = prefix.subspan((n - 1) * block_, block_);
      it->second.block.assign(block.begin(), block.end());
    }
    ++it->second.refs;
  }
  nodes_[chain.back()].tails.push_back(Tail{{tail.begin(), tail.end()}, key});
  keys_.emplace(key, KeyInfo{chain.back(), {tail.begin(), tail.end()}});
  return key;
}

void PrefixIndex::Remove(CacheKey key) {
  std::unique_lock lock(mu_);
  auto k = keys_.find(key);
  if (k == keys_.end()) return;
  uint64_t h = k->second.chain;
  keys_.erase(k);
  auto node = nodes_.find(h);
  DTE_CHECK(node != nodes_.end(), "prefix index: key without its node");
  std::erase_if(node->second.tails, [key](const Tail& t) { return t.key == key; });
  // Drop one reference along the path up to the root.
  while (node != nodes_.end()) {
    bool is_root = node->second.block.empty();
    uint64_t parent = node->second.parent;
    if (--node->second.refs == 0) nodes_.erase(node);
    if (is_root) break;
    node = nodes_.find(parent);
  }
}

void PrefixIndex::Clear() {
  std::unique_lock lock(mu_);
  nodes_.clear();
  keys_.clear();
}

size_t PrefixIndex::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

void PrefixIndex::VisitMatches(std::string_view model_id, std::span<const int32_t> tokens,
                               std::vector<Match>* out) const {
  uint64_t h = RootHash(model_id);
  std::shared_lock lock(mu_);
  auto node = nodes_.find(h);
  if (node == nodes_.end() || !node->second.block.empty()) return;
  for (size_t pos = 0;; pos += block_) {
    std::span<const int32_t> rest = tokens.subspan(pos);
    for (const Tail& t : node->second.tails) {
      if (t.tokens.size() <= rest.size() && SameTokens(t.tokens, rest.first(t.tokens.size())))
        out->push_back({static_cast<int64_t>(pos + t.tokens.size()), t.key});
    }
    if (rest.size() < static_cast<size_t>(block_)) return;
    std::span<const int32_t> block = rest.first(block_);
    uint64_t next = ChainHash(h, block);
    auto child = nodes_.find(next);
    // The stored block and parent rule out a 64-bit hash collision giving a wrong match.
    if (child == nodes_.end() || child->second.parent != h || !SameTokens(child->second.block, block)) return;
    h = next;
    node = child;
  }
}

std::vector<PrefixIndex::Match> PrefixIndex::Matches(std::string_view model_id,
                                                     std::span<const int32_t> tokens) const {
  std::vector<Match> out;
  VisitMatches(model_id, tokens, &out);
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) { return a.tokens > b.tokens; });
  return out;
}

std::optional<PrefixIndex::Match> PrefixIndex::LongestMatch(std::string_view model_id,
                                                            std::span<const int32_t> tokens) const {
  std::vector<Match> all;
  VisitMatches(model_id, tokens, &all);
  if (all.empty()) return std::nullopt;
  return *std::max_element(all.begin(), all.end(),
                           [](const Match& a, const Match& b) { return a.tokens < b.tokens; });
}

}  // namespace dte
