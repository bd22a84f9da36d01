#include "trace/span_context.hpp"

#include <algorithm>
#include <random>

namespace sealhook::trace {

namespace {

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // uppercase is invalid in traceparent
}

template <size_t N>
bool unhex(std::string_view text, std::array<uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    int hi = nibble(text[2 * i]), lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return std::any_of(out.begin(), out.end(), [](uint8_t b) { return b != 0; });
}

std::mt19937_64& generator() {
  thread_local std::mt19937_64 g([] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }());
  return g;
}

template <size_t N>
std::array<uint8_t, N> random_id() {
  std::array<uint8_t, N> id{};
  do {
    for (size_t i = 0; i < N; i += 8) {
      uint64_t r = generator()();
      for (size_t j = 0; j < 8 && i + j < N; ++j) id[i + j] = static_cast<uint8_t>(r >> (8 * j));
    }
  } while (std::all_of(id.begin(), id.end(), [](uint8_t b) { return b == 0; }));
  return id;
}

}  // namespace

std::optional<SpanContext> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2.
  constexpr size_t kLength = 55;
  if (h.size() < kLength || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  std::array<uint8_t, 1> version{}, flags{};
  const std::string_view v = h.substr(0, 2);
  if (v == "00") {
    if (h.size() != kLength) return std::nullopt;
  } else {
    // A later version: more may follow, after a dash. "ff" is forbidden.
    if (v == "ff" || (h.size() > kLength && h[kLength] != '-')) return std::nullopt;
    if (!unhex(v, version)) return std::nullopt;
  }
  SpanContext ctx;
  if (!unhex(h.substr(3, 32), ctx.trace_id) || !unhex(h.substr(36, 16), ctx.span_id))
    return std::nullopt;
  if (nibble(h[53]) < 0 || nibble(h[54]) < 0) return std::nullopt;
  flags[0] = static_cast<uint8_t>(nibble(h[53]) << 4 | nibble(h[54]));
  ctx.sampled = (flags[0] & 1) != 0;
  return ctx;
}

std::string to_traceparent(const SpanContext& ctx) {
  return "00-" + hex(ctx.trace_id) + "-" + hex(ctx.span_id) + (ctx.sampled ? "-01" : "-00");
}

std::string hex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return out;
}

TraceId new_trace_id() { return random_id<16>(); }
SpanId new_span_id() { return random_id<8>(); }

}  // namespace sealhook::trace
