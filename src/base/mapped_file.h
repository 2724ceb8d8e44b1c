#pragma once
// A read-only memory mapping of a whole file. Model weights point into it, so it is shared
// (shared_ptr<const MappedFile>) by everything that reads them and unmapped when the last
// reader goes. Thread-safe: immutable after Open.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"

namespace dte {

class MappedFile {
 public:
  static Result<std::shared_ptr<const MappedFile>> Open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

// Reads a whole (small) file into a string.
Result<std::string> ReadFileToString(const std::string& path);
// Writes atomically: temp file + fsync + rename.
Status WriteFileAtomically(const std::string& path, std::span<const uint8_t> bytes);

}  // namespace dte
