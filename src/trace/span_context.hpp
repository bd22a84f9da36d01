#pragma once
// W3C Trace Context: the `traceparent` header (version 00) as a value, and fresh ids.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sealhook::trace {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  bool sampled = false;
  bool operator==(const SpanContext&) const = default;
};

// "00-<32 hex>-<16 hex>-<2 hex>" (lowercase). Anything else, an all-zero id, version ff, or a
// version 00 header with more after the flags, is not a trace context: nullopt (the caller
// ignores it, as the W3C spec says). A later version is read by its first four fields.
std::optional<SpanContext> parse_traceparent(std::string_view header);
// The header for `ctx`, version 00, with the sampled flag alone.
std::string to_traceparent(const SpanContext& ctx);

// Lowercase hex, as OTLP/JSON and the header spell ids.
std::string hex(const uint8_t* bytes, size_t n);
template <size_t N>
std::string hex(const std::array<uint8_t, N>& id) {
  return hex(id.data(), N);
}

// Random, never all zero (a per-thread generator seeded once from the system's entropy).
TraceId new_trace_id();
SpanId new_span_id();

}  // namespace sealhook::trace
