#include "model/tensor_store.h"

#include <cstring>

#include "kernels/quant.h"

namespace dte {

std::string Tensor::ShapeString() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

void TensorStore::Add(Tensor t, std::shared_ptr<const void> keep_alive) {
  if (keep_alive) keep_alive_.push_back(std::move(keep_alive));
  auto it = index_.find(t.name);
  if (it != index_.end()) {
    tensors_[it->second] = std::move(t);
    return;
  }
  index_.emplace(t.name, tensors_.size());
  tensors_.push_back(std::move(t));
}

void TensorStore::AddOwned(std::string name, DType type, std::vector<int64_t> shape,
                           std::vector<uint8_t> bytes) {
  auto owned = std::make_shared<const std::vector<uint8_t>>(std::move(bytes));
  Tensor t{std::move(name), type, std::move(shape), owned->data(), owned->size()};
  Add(std::move(t), owned);
}

void TensorStore::AddOwnedF32(std::string name, std::vector<int64_t> shape,
                              const std::vector<float>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(float));
  std::memcpy(bytes.data(), values.data(), bytes.size());
  AddOwned(std::move(name), DType::kF32, std::move(shape), std::move(bytes));
}

bool TensorStore::Remove(std::string_view name) {
  auto it = index_.find(name);
  if (it == index_.end()) return false;
  size_t pos = it->second;
  tensors_.erase(tensors_.begin() + static_cast<std::ptrdiff_t>(pos));
  index_.erase(it);
  for (auto& [n, i] : index_)
    if (i > pos) --i;
  return true;
}

const Tensor* TensorStore::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<const Tensor*> TensorStore::Get(std::string_view name) const {
  const Tensor* t = Find(name);
  if (t == nullptr) return Status::NotFound("missing tensor '" + std::string(name) + "'");
  return t;
}

Result<const Tensor*> TensorStore::GetWithShape(std::string_view name,
                                                const std::vector<int64_t>& shape) const {
  DTE_ASSIGN_OR_RETURN(const Tensor* t, Get(name));
  // Trailing dimensions of size 1 are not significant ([64,1,1] == [64]).
  auto trim = [](std::vector<int64_t> s) {
    while (s.size() > 1 && s.back() == 1) s.pop_back();
    return s;
  };
  if (trim(t->shape) != trim(shape)) {
    Tensor want{std::string(name), t->type, shape, nullptr, 0};
    return Status::Corrupt("tensor '" + std::string(name) + "' has shape " + t->ShapeString() +
                           ", expected " + want.ShapeString());
  }
  return t;
}

size_t TensorStore::total_bytes() const {
  size_t n = 0;
  for (const auto& t : tensors_) n += t.bytes;
  return n;
}

Result<std::vector<float>> TensorToFloats(const Tensor& t) {
  int64_t n = t.elements();
  if (n % DTypeBlockSize(t.type) != 0)
    return Status::Corrupt("tensor '" + t.name + "' length is not a multiple of its block size");
  std::vector<float> out(static_cast<size_t>(n));
  DequantizeRow(t.type, t.data, out.data(), n);
  return out;
}

}  // namespace dte
