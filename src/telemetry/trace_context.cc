#include "telemetry/trace_context.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <random>

namespace dte {
namespace {

// xoshiro256** (Blackman & Vigna): small state, very fast, good enough for ids.
class Xoshiro256 {
 public:
  Xoshiro256() {
    std::random_device rd;
    static std::atomic<uint64_t> counter{0};
    uint64_t seed =
        (static_cast<uint64_t>(rd()) << 32) ^ rd() ^
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
        (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
    for (auto& s : s_) s = SplitMix(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

int HexValue(char c, bool allow_upper) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (allow_upper && c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool DecodeHex(std::string_view hex, uint8_t* out, size_t size, bool allow_upper) {
  if (hex.size() != size * 2) return false;
  for (size_t i = 0; i < size; ++i) {
    int hi = HexValue(hex[2 * i], allow_upper), lo = HexValue(hex[2 * i + 1], allow_upper);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& a) {
  return std::all_of(a.begin(), a.end(), [](uint8_t b) { return b == 0; });
}

template <size_t N>
void FillRandom(std::array<uint8_t, N>& a) {
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t r = FastRandom64();
      std::memcpy(a.data() + i, &r, std::min<size_t>(8, N - i));
    }
  } while (AllZero(a));
}

}  // namespace

uint64_t FastRandom64() {
  thread_local Xoshiro256 rng;
  return rng.Next();
}

std::string HexEncode(const uint8_t* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

bool TraceId::IsValid() const { return !AllZero(bytes); }
std::string TraceId::Hex() const { return HexEncode(bytes.data(), bytes.size()); }
TraceId TraceId::Random() {
  TraceId id;
  FillRandom(id.bytes);
  return id;
}
uint64_t TraceId::LowBits() const {
  uint64_t v = 0;
  for (size_t i = 8; i < 16; ++i) v = v << 8 | bytes[i];
  return v;
}
Result<TraceId> TraceId::FromHex(std::string_view hex) {
  TraceId id;
  if (!DecodeHex(hex, id.bytes.data(), id.bytes.size(), true))
    return Status::InvalidArgument("trace id must be 32 hex digits");
  if (!id.IsValid()) return Status::InvalidArgument("trace id is all zero");
  return id;
}

bool SpanId::IsValid() const { return !AllZero(bytes); }
std::string SpanId::Hex() const { return HexEncode(bytes.data(), bytes.size()); }
SpanId SpanId::Random() {
  SpanId id;
  FillRandom(id.bytes);
  return id;
}
Result<SpanId> SpanId::FromHex(std::string_view hex) {
  SpanId id;
  if (!DecodeHex(hex, id.bytes.data(), id.bytes.size(), true))
    return Status::InvalidArgument("span id must be 16 hex digits");
  if (!id.IsValid()) return Status::InvalidArgument("span id is all zero");
  return id;
}

Result<TraceContext> ParseTraceparent(std::string_view h) {
  // Surrounding optional whitespace is allowed in header values.
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  constexpr size_t kLength = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2
  if (h.size() < kLength) return Status::InvalidArgument("traceparent too short");
  uint8_t version = 0;
  if (!DecodeHex(h.substr(0, 2), &version, 1, false))
    return Status::InvalidArgument("traceparent version");
  if (version == 0xff) return Status::InvalidArgument("traceparent version ff is invalid");
  if (version == 0 && h.size() != kLength)
    return Status::InvalidArgument("traceparent version 00 has extra fields");
  if (version > 0 && h.size() > kLength && h[kLength] != '-')
    return Status::InvalidArgument("traceparent: malformed future-version fields");
  if (h[2] != '-' || h[35] != '-' || h[52] != '-')
    return Status::InvalidArgument("traceparent delimiters");
  TraceContext c;
  if (!DecodeHex(h.substr(3, 32), c.trace_id.bytes.data(), 16, false))
    return Status::InvalidArgument("traceparent trace-id is not 32 lowercase hex digits");
  if (!DecodeHex(h.substr(36, 16), c.span_id.bytes.data(), 8, false))
    return Status::InvalidArgument("traceparent parent-id is not 16 lowercase hex digits");
  uint8_t flags = 0;
  if (!DecodeHex(h.substr(53, 2), &flags, 1, false))
    return Status::InvalidArgument("traceparent flags");
  if (!c.trace_id.IsValid()) return Status::InvalidArgument("traceparent trace-id is all zero");
  if (!c.span_id.IsValid()) return Status::InvalidArgument("traceparent parent-id is all zero");
  c.sampled = (flags & 0x01) != 0;
  return c;
}

std::string FormatTraceparent(const TraceContext& c) {
  return "00-" + c.trace_id.Hex() + "-" + c.span_id.Hex() + (c.sampled ? "-01" : "-00");
}

}  // namespace dte
