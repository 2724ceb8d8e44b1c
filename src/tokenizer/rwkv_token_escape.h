#pragma once
// The escaped text form of RWKV World tokens inside GGUF files (llama.cpp's converter stores
// each token as `repr(token_bytes)[2:-1]`, the body of a Python bytes literal, because GGUF
// strings are meant to be text). Pure functions; thread-safe.

#include <string>
#include <string_view>

#include "base/status.h"

namespace dte {

// Raw bytes -> the exact text Python's repr(bytes)[2:-1] gives: `\\` for a backslash, `\t`
// `\n` `\r`, `\xhh` (lowercase) for other bytes below 0x20 or from 0x7f, and `\'` for a
// single quote only when the token also holds a double quote (repr then quotes with ').
std::string EscapeRwkvToken(std::string_view bytes);

// The inverse: accepts `\\` `\'` `\"` `\t` `\n` `\r` `\xhh` (either case) and any other
// character as itself. A lone trailing backslash, a bad \x escape or an unknown escape is an
// InvalidArgument error naming the offset.
Result<std::string> UnescapeRwkvToken(std::string_view escaped);

}  // namespace dte
