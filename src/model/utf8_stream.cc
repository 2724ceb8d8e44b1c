#include "model/utf8_stream.h"

namespace dte {

void Utf8StreamBuffer::Append(std::string_view bytes, std::string* out) {
  size_t i = 0;
  while (i < bytes.size()) {
    // Fast path: runs of ASCII outside a sequence are copied as they are.
    if (need_ == 0) {
      size_t j = i;
      while (j < bytes.size() && static_cast<uint8_t>(bytes[j]) < 0x80) ++j;
      out->append(bytes.data() + i, j - i);
      i = j;
      if (i == bytes.size()) break;
    }
    Push(static_cast<uint8_t>(bytes[i++]), out);
  }
}

void Utf8StreamBuffer::Flush(std::string* out) {
  if (need_ != 0) out->append(kReplacementChar);
  held_len_ = 0;
  need_ = 0;
}

// Well-formed sequences (Unicode Table 3-7): the second byte's range depends on the lead byte
// (excluding overlongs, surrogates and code points above U+10FFFF); later bytes are 80..BF.
void Utf8StreamBuffer::Push(uint8_t byte, std::string* out) {
  if (need_ != 0) {
    if (byte >= lo_ && byte <= hi_) {
      held_[held_len_++] = static_cast<char>(byte);
      lo_ = 0x80;
      hi_ = 0xBF;
      if (--need_ == 0) {
        out->append(held_, held_len_);
        held_len_ = 0;
      }
      return;
    }
    // The held bytes are a maximal ill-formed subpart; `byte` starts afresh.
    out->append(kReplacementChar);
    held_len_ = 0;
    need_ = 0;
  }
  if (byte < 0x80) {
    out->push_back(static_cast<char>(byte));
    return;
  }
  lo_ = 0x80;
  hi_ = 0xBF;
  if (byte >= 0xC2 && byte <= 0xDF) {
    need_ = 1;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    need_ = 2;
    if (byte == 0xE0) lo_ = 0xA0;
    if (byte == 0xED) hi_ = 0x9F;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    need_ = 3;
    if (byte == 0xF0) lo_ = 0x90;
    if (byte == 0xF4) hi_ = 0x8F;
  } else {
    out->append(kReplacementChar);  // stray continuation byte, C0/C1, F5..FF
    return;
  }
  held_[0] = static_cast<char>(byte);
  held_len_ = 1;
}

}  // namespace dte
