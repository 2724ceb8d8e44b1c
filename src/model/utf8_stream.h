#pragma once
// Turns a stream of byte chunks (one token's bytes at a time) into valid UTF-8 text that never
// splits a character: an incomplete sequence at the end of a chunk is held back until the bytes
// that complete it arrive. Ill-formed bytes become U+FFFD, one per maximal ill-formed subpart
// (the Unicode "best practice" also used by browsers and Python's errors="replace"); a sequence
// still incomplete at Flush becomes one U+FFFD.
//
// Holds at most 3 bytes; never allocates (output goes to the caller's string, which does not
// allocate once it has the capacity). One owner, one thread at a time.

#include <cstdint>
#include <string>
#include <string_view>

namespace dte {

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

class Utf8StreamBuffer {
 public:
  // Appends to `out` every character of (held bytes + bytes) that is now complete.
  void Append(std::string_view bytes, std::string* out);
  // End of stream: a held incomplete sequence is appended to `out` as U+FFFD.
  void Flush(std::string* out);
  // Drops held bytes.
  void Reset() {
    held_len_ = 0;
    need_ = 0;
  }
  // Bytes held back, waiting for the rest of their character.
  size_t held() const { return held_len_; }

 private:
  void Push(uint8_t byte, std::string* out);

  char held_[4] = {};
  uint8_t held_len_ = 0;
  uint8_t need_ = 0;               // continuation bytes still expected
  uint8_t lo_ = 0x80, hi_ = 0xBF;  // allowed range of the next continuation byte
};

}  // namespace dte
