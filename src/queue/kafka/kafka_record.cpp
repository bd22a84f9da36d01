#include "queue/kafka/kafka_record.hpp"

#include <array>
#include <charconv>
#include <memory>

namespace sealhook::kafka {

namespace {

// d1: the version and nine fields, then the body. d2 (written since): a tenth field, the
// traceparent ('' when none), before the body. Both are read.
constexpr std::string_view kDeliveryV1 = "d1";
constexpr std::string_view kDeliveryV2 = "d2";
constexpr size_t kDeliveryFields = 10;

template <typename T>
bool number(std::string_view text, T& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size();
}

// Splits off `n` newline-terminated fields; `rest` keeps what follows the last one.
template <size_t N>
bool fields(std::string_view value, std::array<std::string_view, N>& out, std::string_view& rest) {
  for (size_t i = 0; i < N; ++i) {
    size_t nl = value.find('\n');
    if (nl == std::string_view::npos) return false;
    out[i] = value.substr(0, nl);
    value.remove_prefix(nl + 1);
  }
  rest = value;
  return true;
}

}  // namespace

std::string encode_delivery(const QueuedDelivery& d) {
  std::string out;
  out.reserve(128 + d.id.size() + d.tenant_id.size() + d.endpoint_id.size() + d.event_id.size() +
              d.event_type.size() + (d.body ? d.body->size() : 0));
  for (std::string_view f : {kDeliveryV2, std::string_view(d.id), std::string_view(d.tenant_id),
                             std::string_view(d.endpoint_id), std::string_view(d.event_id),
                             std::string_view(d.event_type)}) {
    out += f;
    out += '\n';
  }
  out += d.ordered ? "1\n" : "0\n";
  for (int64_t n : {int64_t{d.prior_attempts}, d.not_before_ms, d.published_at_ms}) {
    out += std::to_string(n);
    out += '\n';
  }
  out += d.traceparent;  // header characters only: no newline
  out += '\n';
  if (d.body) out += *d.body;
  return out;
}

std::optional<QueuedDelivery> decode_delivery(std::string_view value) {
  std::array<std::string_view, kDeliveryFields> f;
  std::string_view body;
  if (!fields(value, f, body) || (f[0] != kDeliveryV1 && f[0] != kDeliveryV2)) return std::nullopt;
  QueuedDelivery d;
  d.id = f[1];
  d.tenant_id = f[2];
  d.endpoint_id = f[3];
  d.event_id = f[4];
  d.event_type = f[5];
  if (f[6] != "0" && f[6] != "1") return std::nullopt;
  d.ordered = f[6] == "1";
  if (!number(f[7], d.prior_attempts) || !number(f[8], d.not_before_ms) ||
      !number(f[9], d.published_at_ms))
    return std::nullopt;
  if (f[0] == kDeliveryV2) {
    const size_t nl = body.find('\n');
    if (nl == std::string_view::npos) return std::nullopt;
    d.traceparent = body.substr(0, nl);
    body.remove_prefix(nl + 1);
  }
  d.body = std::make_shared<const std::string>(body);
  return d;
}

namespace {

// The source: "OFFSET" in the deliveries topic, "rOFFSET:ORIGIN" in the retries topic.
std::string source_of(const DeliveryState& s) {
  if (!s.retried) return std::to_string(s.offset);
  return "r" + std::to_string(s.offset) + ":" + std::to_string(s.origin);
}

bool parse_source(std::string_view text, DeliveryState& s) {
  if (!text.starts_with('r')) return number(text, s.offset);
  text.remove_prefix(1);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  s.retried = true;
  return number(text.substr(0, colon), s.offset) && number(text.substr(colon + 1), s.origin);
}

}  // namespace

std::string encode_state(const DeliveryState& s) {
  using K = DeliveryState::Kind;
  switch (s.kind) {
    case K::kHandout:
      return "H " + std::to_string(s.attempt) + " " + source_of(s);
    case K::kRetry:
      return "R " + std::to_string(s.attempt) + " " + std::to_string(s.at_ms) + " " + source_of(s);
    case K::kAcked:
      return "A " + source_of(s);
    case K::kDead:
      return "D " + source_of(s);
  }
  return {};
}

std::optional<DeliveryState> decode_state(std::string_view value) {
  if (value.size() < 3 || value[1] != ' ') return std::nullopt;
  const char kind = value[0];
  value.remove_prefix(2);
  std::array<std::string_view, 3> parts;
  size_t n = 0;
  while (!value.empty() && n < parts.size()) {
    size_t sp = value.find(' ');
    parts[n++] = value.substr(0, sp);
    value = sp == std::string_view::npos ? std::string_view() : value.substr(sp + 1);
  }
  if (!value.empty()) return std::nullopt;
  DeliveryState s;
  using K = DeliveryState::Kind;
  bool ok = false;
  switch (kind) {
    case 'H':
      s.kind = K::kHandout;
      ok = n == 2 && number(parts[0], s.attempt) && parse_source(parts[1], s);
      break;
    case 'R':
      s.kind = K::kRetry;
      ok = n == 3 && number(parts[0], s.attempt) && number(parts[1], s.at_ms) &&
           parse_source(parts[2], s);
      break;
    case 'A':
    case 'D':
      s.kind = kind == 'A' ? K::kAcked : K::kDead;
      ok = n == 1 && parse_source(parts[0], s);
      break;
    default:
      break;
  }
  if (!ok) return std::nullopt;
  return s;
}

std::string encode_handout_mark(int64_t through) { return "W " + std::to_string(through); }

std::optional<int64_t> decode_handout_mark(std::string_view value) {
  int64_t through = 0;
  if (!value.starts_with("W ") || !number(value.substr(2), through) || through < -1)
    return std::nullopt;
  return through;
}

std::string encode_ordering(const EndpointOrdering& o) {
  return (o.ordered ? "o " : "u ") + o.tenant_id;
}

std::optional<EndpointOrdering> decode_ordering(std::string_view endpoint_id,
                                                std::string_view value) {
  if (value.size() < 2 || value[1] != ' ' || (value[0] != 'o' && value[0] != 'u'))
    return std::nullopt;
  return EndpointOrdering{std::string(value.substr(2)), std::string(endpoint_id), value[0] == 'o'};
}

}  // namespace sealhook::kafka
