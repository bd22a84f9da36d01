#pragma once
// One finished span, as the exporter takes it: ids, name, kind, times (Unix nanoseconds),
// attributes (string or integer values) and status.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "trace/span_context.hpp"

namespace sealhook::trace {

// OTLP's SpanKind and Status codes.
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };
enum class StatusCode { kUnset = 0, kOk = 1, kError = 2 };

using AttributeValue = std::variant<std::string, int64_t>;
// A resource's attributes (OTEL_RESOURCE_ATTRIBUTES names them at run time).
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;
// A span's: their keys are the code's own string literals (semantic-convention names), never
// copied, so that a span on the hot path allocates for its values only.
using SpanAttributes = std::vector<std::pair<std::string_view, AttributeValue>>;

struct Span {
  SpanContext context;
  std::optional<SpanId> parent;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  SpanAttributes attributes;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;
};

// Unix time in nanoseconds, as span times are given.
uint64_t now_ns();

}  // namespace sealhook::trace
