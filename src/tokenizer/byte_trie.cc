#include "tokenizer/byte_trie.h"

#include <algorithm>
#include <numeric>
#include <queue>
#include <utility>

#include "base/check.h"

namespace dte {
namespace {

// A plain pointer trie, built first; the double array is laid out from it.
struct BuildNode {
  std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
  int32_t value = -1;
};

std::vector<BuildNode> BuildPlainTrie(std::span<const std::string> keys) {
  // Inserting keys in sorted order means a new child is always the last (largest) one, so
  // children stay sorted and the existing child, if any, is the last one.
  std::vector<int32_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return keys[a] < keys[b]; });
  std::vector<BuildNode> nodes(1);
  for (int32_t id : order) {
    const std::string& key = keys[id];
    if (key.empty()) continue;
    int32_t node = 0;
    for (char ch : key) {
      auto byte = static_cast<uint8_t>(ch);
      auto& children = nodes[node].children;
      if (!children.empty() && children.back().first == byte) {
        node = children.back().second;
        continue;
      }
      DTE_CHECK(children.empty() || children.back().first < byte, "keys not sorted");
      auto child = static_cast<int32_t>(nodes.size());
      nodes[node].children.emplace_back(byte, child);  // `children` may dangle after this
      nodes.emplace_back();
      node = child;
    }
    // stable_sort keeps equal keys in id order: the lowest id is set first and kept.
    if (nodes[node].value < 0) nodes[node].value = id;
  }
  return nodes;
}

// Smallest free cell >= i, with path compression (cells only ever become used).
class FreeCells {
 public:
  int32_t Find(int32_t i) {
    Grow(i);
    int32_t root = i;
    while (next_[root] != root) root = next_[root];
    while (next_[i] != root) i = std::exchange(next_[i], root);
    return root;
  }
  void Use(int32_t i) {
    Grow(i + 1);
    next_[i] = i + 1;
  }
  bool IsFree(int32_t i) {
    Grow(i);
    return next_[i] == i;
  }

 private:
  void Grow(int32_t i) {
    while (static_cast<int32_t>(next_.size()) <= i)
      next_.push_back(static_cast<int32_t>(next_.size()));
  }
  std::vector<int32_t> next_;
};

}  // namespace

ByteTrie ByteTrie::Build(std::span<const std::string> keys) {
  std::vector<BuildNode> nodes = BuildPlainTrie(keys);
  ByteTrie trie;
  std::vector<Cell>& cells = trie.cells_;
  FreeCells free_cells;
  free_cells.Use(0);  // the root
  std::vector<int32_t> cell_of(nodes.size(), -1);
  cell_of[0] = 0;
  int32_t max_base = 0;
  auto cell_at = [&](int32_t i) -> Cell& {
    if (static_cast<int32_t>(cells.size()) <= i) cells.resize(i + 1);
    return cells[i];
  };
  cell_at(0).value = nodes[0].value;

  std::queue<int32_t> pending;  // breadth-first keeps siblings of busy nodes packed early
  pending.push(0);
  while (!pending.empty()) {
    int32_t node = pending.front();
    pending.pop();
    const auto& children = nodes[node].children;
    if (children.empty()) continue;
    const int32_t first = children.front().first;
    // Try each free cell for the first child; base = cell - first must be >= 1 so no child
    // lands on the root.
    int32_t base = 0;
    for (int32_t p = free_cells.Find(first + 1);; p = free_cells.Find(p + 1)) {
      base = p - first;
      bool fits = true;
      for (size_t k = 1; k < children.size() && fits; ++k) {
        fits = free_cells.IsFree(base + children[k].first);
      }
      if (fits) break;
    }
    const int32_t state = cell_of[node];
    cell_at(state).base = base;
    max_base = std::max(max_base, base);
    for (const auto& [byte, child] : children) {
      const int32_t t = base + byte;
      free_cells.Use(t);
      Cell& cell = cell_at(t);
      cell.check = state;
      cell.value = nodes[child].value;
      cell_of[child] = t;
      pending.push(child);
    }
  }
  // Pad so that base + any byte stays inside the array without a bounds check.
  cells.resize(std::max<size_t>(cells.size(), static_cast<size_t>(max_base) + 256));
  cells.shrink_to_fit();
  return trie;
}

}  // namespace dte
