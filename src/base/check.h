#pragma once
// Always-on invariant checks. A failed CHECK is a bug of ours, never a reaction to bad input
// (bad input gets a Status). It prints the place and message and aborts.

#include <string_view>

namespace dte::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, std::string_view msg);
}

#define DTE_CHECK(cond, ...)                                                        \
  do {                                                                              \
    if (!(cond)) [[unlikely]]                                                       \
      ::dte::internal::CheckFailed(__FILE__, __LINE__, #cond, std::string_view{__VA_ARGS__}); \
  } while (0)
