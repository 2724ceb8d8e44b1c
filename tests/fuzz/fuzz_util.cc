#include "fuzz_util.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace dte::fuzz {

void Fail(const std::string& what) {
  std::fprintf(stderr, "fuzz check failed: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void CheckError(const Status& status) {
  if (status.ok()) Fail("error path returned an ok Status");
  if (status.message().empty()) Fail("error Status without a message: " + status.ToString());
}

MemFile::MemFile() {
  fd_ = ::memfd_create("dte_fuzz_input", MFD_CLOEXEC);
  if (fd_ < 0) Fail("memfd_create failed");
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

const std::string& MemFile::Write(const uint8_t* data, size_t size) {
  if (::ftruncate(fd_, 0) != 0) Fail("ftruncate failed");
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
    if (n <= 0) Fail("pwrite to the memfd failed");
    done += static_cast<size_t>(n);
  }
  return path_;
}

}  // namespace dte::fuzz
