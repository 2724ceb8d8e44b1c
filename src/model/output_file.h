#pragma once
// A file written front to back and published atomically: bytes go to `<path>.tmp.<pid>`, and
// Commit() flushes, fsyncs and renames it onto `path`. Destroyed without Commit (an error on
// the way), the temporary file is removed and `path` is untouched. One thread at a time.

#include <cstddef>
#include <cstdio>
#include <string>

#include "base/status.h"

namespace dte {

class OutputFile {
 public:
  static Result<OutputFile> Create(const std::string& path);
  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  ~OutputFile();

  Status Write(const void* data, size_t n);
  Status Commit();
  uint64_t written() const { return written_; }

 private:
  OutputFile(std::string path, std::string tmp, std::FILE* f)
      : path_(std::move(path)), tmp_(std::move(tmp)), f_(f) {}
  std::string path_;
  std::string tmp_;
  std::FILE* f_ = nullptr;
  uint64_t written_ = 0;
};

}  // namespace dte
