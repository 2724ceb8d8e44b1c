#pragma once
// Shared pieces of the libFuzzer targets (tests/fuzz/*_fuzz.cc) that need only the base layer.
// The readers take paths and mmap them, so each input goes into one memfd that is reopened as
// /proc/self/fd/N (no disk, no temp-file cleanup). Every check failure prints what broke and
// aborts, which libFuzzer reports as a crash. Single-threaded, like libFuzzer's default mode.

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace dte::fuzz {

// Prints "fuzz check failed: <what>" and aborts.
[[noreturn]] void Fail(const std::string& what);

// Fails unless `status` is an error with a message (readers must explain what they refused).
void CheckError(const Status& status);

// One memfd reused for every input of the process.
class MemFile {
 public:
  MemFile();
  // Replaces the file's contents with `data` and returns a path that opens it.
  const std::string& Write(const uint8_t* data, size_t size);
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace dte::fuzz
