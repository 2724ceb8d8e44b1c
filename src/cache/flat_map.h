#pragma once
// FlatMap<V>: an open-addressing hash map from 64-bit keys to V, for the cache shards' hot path.
// Slots live in one array (a lookup is usually one cache line; no node to chase, no modulo by a
// prime), linear probing, power-of-two capacity kept at most half full, deletion by backward
// shift (no tombstones). Keys are hashes already; they are mixed once more so that sequential keys
// spread too. Pointers returned by Find stay valid until the next Insert or Erase.
//
// Not thread-safe: each shard uses its map under the shard's lock.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace dte {

template <class V>
class FlatMap {
 public:
  FlatMap() { Rehash(16); }

  V* Find(uint64_t key) {
    for (size_t i = Home(key);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == key) return &s.value;
    }
  }
  bool Contains(uint64_t key) { return Find(key) != nullptr; }

  // Inserts `key`, which must not be present.
  V& Insert(uint64_t key, V value) {
    if ((size_ + 1) * 2 > slots_.size()) Rehash(slots_.size() * 2);
    ++size_;
    return Place(key, std::move(value));
  }

  bool Erase(uint64_t key) {
    size_t i = Home(key);
    for (;; i = (i + 1) & mask_) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == key) break;
    }
    // Backward shift: pull later members of the probe run into the hole while that keeps each
    // of them at or after its home slot.
    for (size_t j = (i + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
      size_t home = Home(slots_[j].key);
      bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (stays) continue;
      slots_[i].key = slots_[j].key;
      slots_[i].value = std::move(slots_[j].value);
      i = j;
    }
    slots_[i].used = false;
    slots_[i].value = V{};
    --size_;
    return true;
  }

  void Clear() {
    slots_.clear();
    size_ = 0;
    Rehash(16);
  }

  size_t size() const { return size_; }

  template <class F>
  void ForEach(F&& f) {
    for (Slot& s : slots_)
      if (s.used) f(s.key, s.value);
  }

 private:
  struct Slot {
    uint64_t key = 0;
    bool used = false;
    V value{};
  };

  size_t Home(uint64_t key) const { return static_cast<size_t>((key * 0x9e3779b97f4a7c15ull) >> shift_); }

  V& Place(uint64_t key, V value) {
    size_t i = Home(key);
    while (slots_[i].used) i = (i + 1) & mask_;
    slots_[i].key = key;
    slots_[i].used = true;
    slots_[i].value = std::move(value);
    return slots_[i].value;
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.resize(capacity);
    mask_ = capacity - 1;
    shift_ = 64;
    for (size_t c = capacity; c > 1; c >>= 1) --shift_;
    for (Slot& s : old)
      if (s.used) Place(s.key, std::move(s.value));
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  int shift_ = 64;
};

}  // namespace dte
