#include "tokenizer/trie_tokenizer.h"

#include <array>
#include <cstdio>
#include <limits>

#include "base/check.h"
#include "tokenizer/byte_trie.h"

namespace dte {
namespace {

class TrieTokenizer final : public Tokenizer {
 public:
  TrieTokenizer(const std::vector<std::string>& tokens, std::string kind)
      : trie_(ByteTrie::Build(tokens)), kind_(std::move(kind)) {
    offsets_.reserve(tokens.size() + 1);
    offsets_.push_back(0);
    for (const std::string& t : tokens) {
      bytes_ += t;
      offsets_.push_back(static_cast<uint32_t>(bytes_.size()));
    }
  }

  std::vector<int32_t> Encode(std::string_view text) const override {
    std::vector<int32_t> ids;
    // World averages ~3-4 bytes per token on prose; over-reserving is cheaper than regrowing.
    ids.reserve(text.size() / 2 + 1);
    size_t pos = 0;
    while (pos < text.size()) {
      ByteTrie::Match m = trie_.LongestPrefix(text.substr(pos));
      // Every single byte is a token (checked at construction), so a match always exists.
      DTE_CHECK(m.length > 0, "trie tokenizer without a token for some byte");
      ids.push_back(m.id);
      pos += static_cast<size_t>(m.length);
    }
    return ids;
  }

  std::string Decode(std::span<const int32_t> ids) const override {
    std::string out;
    const int64_t n = vocab_size();
    for (int32_t id : ids) {
      if (id < 0 || id >= n) continue;
      out.append(bytes_, offsets_[id], offsets_[id + 1] - offsets_[id]);
    }
    return out;
  }

  int64_t vocab_size() const override { return static_cast<int64_t>(offsets_.size()) - 1; }
  std::string_view kind() const override { return kind_; }

 private:
  ByteTrie trie_;
  std::string kind_;
  std::string bytes_;              // all token bytes, concatenated in id order
  std::vector<uint32_t> offsets_;  // token id's bytes are bytes_[offsets_[id], offsets_[id+1])
};

}  // namespace

Result<std::unique_ptr<Tokenizer>> MakeTrieTokenizer(const std::vector<std::string>& tokens,
                                                     std::string_view kind) {
  if (tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("token list too long");
  }
  size_t total = 0;
  std::array<bool, 256> has_byte{};
  for (const std::string& t : tokens) {
    total += t.size();
    if (t.size() == 1) has_byte[static_cast<unsigned char>(t[0])] = true;
  }
  if (total > std::numeric_limits<uint32_t>::max()) {
    return Status::InvalidArgument("token list holds more than 4 GiB of bytes");
  }
  for (int b = 0; b < 256; ++b) {
    if (!has_byte[b]) {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "0x%02X", b);
      return Status::InvalidArgument(
          std::string(kind) + " token list has no token for the single byte " + hex +
          "; greedy byte matching needs all 256 (is this a BPE vocabulary?)");
    }
  }
  return std::unique_ptr<Tokenizer>(new TrieTokenizer(tokens, std::string(kind)));
}

Result<std::unique_ptr<Tokenizer>> MakeTokenListTokenizer(std::vector<std::string> tokens) {
  return MakeTrieTokenizer(tokens, "gguf");
}

}  // namespace dte
