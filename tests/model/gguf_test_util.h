#pragma once
// Helpers for the format tests (GGUF, safetensors, rwkv.cpp .bin writers, conversions).

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "model/model_file.h"
#include "model/tensor_store.h"

namespace dte::testing {

inline std::string TinyPath(const std::string& stem, const std::string& type) {
  return std::string(DTE_SHARED_DIR) + "/models/tiny/tiny-rwkv-" + stem + "-" + type + ".bin";
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("dte_") +
                       (info ? info->test_suite_name() + std::string("_") + info->name() : "t");
    for (char& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void WriteBytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Every tensor of `a` is in `b` with the same type, shape and bytes, and the other way round.
inline ::testing::AssertionResult SameTensors(const TensorStore& a, const TensorStore& b) {
  if (a.tensors().size() != b.tensors().size()) {
    return ::testing::AssertionFailure()
           << a.tensors().size() << " tensors vs " << b.tensors().size();
  }
  for (const Tensor& t : a.tensors()) {
    const Tensor* u = b.Find(t.name);
    if (u == nullptr) return ::testing::AssertionFailure() << "missing '" << t.name << "'";
    if (u->type != t.type) {
      return ::testing::AssertionFailure()
             << "'" << t.name << "' type " << DTypeName(u->type) << " vs " << DTypeName(t.type);
    }
    if (u->shape != t.shape) {
      return ::testing::AssertionFailure()
             << "'" << t.name << "' shape " << u->ShapeString() << " vs " << t.ShapeString();
    }
    if (u->bytes != t.bytes || std::memcmp(u->data, t.data, t.bytes) != 0)
      return ::testing::AssertionFailure() << "'" << t.name << "' bytes differ";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace dte::testing
