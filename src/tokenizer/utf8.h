#pragma once
// Minimal UTF-8 helpers for the tokenizer layer. Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dte {

// Appends the UTF-8 encoding of `code_point` (which must be <= U+10FFFF; surrogates are encoded
// as their 3-byte form, callers reject them first when they must).
void AppendUtf8(uint32_t code_point, std::string* out);

// Length (1-4) of the well-formed UTF-8 sequence at the start of `s`, or 0 when `s` is empty or
// does not start with one (overlong forms, surrogates and values past U+10FFFF are ill-formed).
size_t Utf8SequenceLength(std::string_view s);

// True when all of `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

}  // namespace dte
