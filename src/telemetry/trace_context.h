#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): trace and span ids, the
// `traceparent` header (version 00) and fast random id generation.
// Value types; id generation is thread-safe (one generator per thread, no locks).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace dte {

// 16 bytes; all zero means "invalid" (W3C).
struct TraceId {
  std::array<uint8_t, 16> bytes{};
  bool IsValid() const;
  std::string Hex() const;  // 32 lowercase hex digits
  // Accepts exactly 32 hex digits (either case); all-zero is InvalidArgument.
  static Result<TraceId> FromHex(std::string_view hex);
  static TraceId Random();  // never all zero
  // The low 8 bytes as a big-endian integer (used for ratio sampling, like OpenTelemetry).
  uint64_t LowBits() const;
  bool operator==(const TraceId&) const = default;
};

// 8 bytes; all zero means "no span" (a root span has an all-zero parent).
struct SpanId {
  std::array<uint8_t, 8> bytes{};
  bool IsValid() const;
  std::string Hex() const;  // 16 lowercase hex digits
  static Result<SpanId> FromHex(std::string_view hex);
  static SpanId Random();  // never all zero
  bool operator==(const SpanId&) const = default;
};

// What crosses a process boundary: the ids of the calling span and its sampled flag.
struct TraceContext {
  TraceId trace_id;
  SpanId span_id;
  bool sampled = false;
  bool IsValid() const { return trace_id.IsValid() && span_id.IsValid(); }
};

// Parses a `traceparent` header: "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>".
// Lowercase hex only; version ff, all-zero ids and malformed fields are InvalidArgument.
// Versions above 00 are parsed as 00 when the prefix matches (W3C forward compatibility).
Result<TraceContext> ParseTraceparent(std::string_view header);

// "00-<trace id>-<span id>-01" (sampled) or "...-00".
std::string FormatTraceparent(const TraceContext& context);

// Lowercase hex of arbitrary bytes.
std::string HexEncode(const uint8_t* data, size_t size);

// A fast per-thread pseudo-random 64-bit number (xoshiro256**, seeded from std::random_device).
uint64_t FastRandom64();

}  // namespace dte
