#include "model/output_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace dte {

Result<OutputFile> OutputFile::Create(const std::string& path) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return Status::IoError("cannot create '" + tmp + "': " + std::strerror(errno));
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return OutputFile(path, std::move(tmp), f);
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : path_(std::move(other.path_)),
      tmp_(std::move(other.tmp_)),
      f_(other.f_),
      written_(other.written_) {
  other.f_ = nullptr;
}

OutputFile::~OutputFile() {
  if (f_ != nullptr) {
    std::fclose(f_);
    std::remove(tmp_.c_str());
  }
}

Status OutputFile::Write(const void* data, size_t n) {
  if (f_ == nullptr) return Status::Internal("write to a closed output file '" + path_ + "'");
  if (n > 0 && std::fwrite(data, 1, n, f_) != n)
    return Status::IoError("writing '" + tmp_ + "': " + std::strerror(errno));
  written_ += n;
  return Status::Ok();
}

Status OutputFile::Commit() {
  if (f_ == nullptr) return Status::Internal("commit of a closed output file '" + path_ + "'");
  bool ok = std::fflush(f_) == 0 && ::fsync(::fileno(f_)) == 0;
  int err = errno;
  ok = (std::fclose(f_) == 0) && ok;
  f_ = nullptr;
  if (!ok) {
    std::remove(tmp_.c_str());
    return Status::IoError("writing '" + tmp_ + "': " + std::strerror(err));
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
    err = errno;
    std::remove(tmp_.c_str());
    return Status::IoError("renaming '" + tmp_ + "' to '" + path_ + "': " + std::strerror(err));
  }
  return Status::Ok();
}

}  // namespace dte
