#include "cli/convert_util.h"

#include <unistd.h>

#include <cstdio>

namespace dte::cli {

WriteProgressFn StderrProgress() {
  const bool tty = ::isatty(2) != 0;
  return [tty](size_t done, size_t count, uint64_t bytes, uint64_t total) {
    const bool last = done == count;
    if (!tty && !last) return;
    std::fprintf(stderr, "%stensor %zu/%zu, %.1f/%.1f MB%s", tty ? "\r" : "", done, count,
                 static_cast<double>(bytes) / 1e6, static_cast<double>(total) / 1e6,
                 last ? "\n" : "");
    std::fflush(stderr);
  };
}

}  // namespace dte::cli
