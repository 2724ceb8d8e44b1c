#pragma once
// The tensors of one model under canonical names, plus whatever keeps their bytes alive
// (a memory-mapped file, buffers made while undoing a converter's transform).
//
// Canonical names and value conventions are rwkv.cpp's (see docs/formats.md): every file
// reader (rwkv.cpp .bin, GGUF, safetensors) translates into them, and every writer out of them,
// so the forward pass knows one layout. Immutable after loading; safe to share across threads.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/tensor.h"

namespace dte {

class TensorStore {
 public:
  // Adds a view; `keep_alive` (may be null) owns its bytes.
  void Add(Tensor t, std::shared_ptr<const void> keep_alive = nullptr);
  // Keeps `owner` (a mapping, a buffer) alive as long as this store.
  void KeepAlive(std::shared_ptr<const void> owner) { keep_alive_.push_back(std::move(owner)); }
  // Adds a tensor whose bytes this store owns.
  void AddOwned(std::string name, DType type, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  // Same, from floats (type F32).
  void AddOwnedF32(std::string name, std::vector<int64_t> shape, const std::vector<float>& values);
  // Removes a tensor (used when a reader replaces a transformed one). Returns false if absent.
  bool Remove(std::string_view name);

  const Tensor* Find(std::string_view name) const;
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  // The tensor, or a Corrupt/NotFound status naming it and what was expected.
  Result<const Tensor*> Get(std::string_view name) const;
  Result<const Tensor*> GetWithShape(std::string_view name, const std::vector<int64_t>& shape) const;

  // Tensors in insertion order.
  const std::vector<Tensor>& tensors() const { return tensors_; }
  size_t total_bytes() const;

 private:
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::vector<std::shared_ptr<const void>> keep_alive_;
};

// Reads an F32 (or F16/BF16, converted) 1-D/vector tensor into floats.
Result<std::vector<float>> TensorToFloats(const Tensor& t);

}  // namespace dte
