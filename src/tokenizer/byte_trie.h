#pragma once
// A double-array trie over byte strings, built once and then read-only: the lookup structure
// behind greedy longest-match tokenization. Each step of a lookup is two loads from one flat
// array (cell t = base[s] + byte belongs to state s iff check[t] == s), so matching costs a few
// nanoseconds per byte and the whole World vocabulary (~116K trie nodes) fits in ~2 MB.
// Immutable after Build; safe to share across threads.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dte {

class ByteTrie {
 public:
  struct Match {
    int32_t id = -1;     // -1: no key is a prefix of the text
    int32_t length = 0;  // bytes matched
  };

  ByteTrie() = default;  // empty: matches nothing

  // keys[id] is the byte string of `id`. Empty keys are skipped; when several ids share the same
  // bytes, the lowest id is the one matched.
  static ByteTrie Build(std::span<const std::string> keys);

  // The longest key that is a prefix of `text`.
  Match LongestPrefix(std::string_view text) const {
    const Cell* cells = cells_.data();
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    Match best;
    if (cells_.empty()) return best;
    int32_t state = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      // In bounds by construction: cells_ extends 256 past the largest base.
      const int32_t next = cells[state].base + bytes[i];
      if (cells[next].check != state) break;
      state = next;
      if (cells[state].value >= 0) best = {cells[state].value, static_cast<int32_t>(i + 1)};
    }
    return best;
  }

  size_t cell_count() const { return cells_.size(); }
  size_t memory_bytes() const { return cells_.size() * sizeof(Cell); }

 private:
  struct Cell {
    int32_t base = 0;    // children of this state live at base + byte
    int32_t check = -1;  // the state whose child this cell is; -1 = free
    int32_t value = -1;  // token id ending here, or -1
  };
  std::vector<Cell> cells_;
};

}  // namespace dte
