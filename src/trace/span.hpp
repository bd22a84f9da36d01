#pragma once
// One finished span, as the exporter takes it: ids, name, kind, times (Unix nanoseconds),
// attributes (string or integer values) and status.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "trace/span_context.hpp"

namespace sealhook::trace {

// OTLP's SpanKind and Status codes.
enum class SpanKind { kInternal = 1, kServer = 2, kClient = 3, kProducer = 4, kConsumer = 5 };
enum class StatusCode { kUnset = 0, kOk = 1, kError = 2 };

using AttributeValue = std::variant<std::string, int64_t>;
using Attributes = std::vector<std::pair<std::string, AttributeValue>>;

struct Span {
  SpanContext context;
  std::optional<SpanId> parent;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  uint64_t start_ns = 0;
  uint64_t end_ns = 0;
  Attributes attributes;
  StatusCode status = StatusCode::kUnset;
  std::string status_message;
};

// Unix time in nanoseconds, as span times are given.
uint64_t now_ns();

}  // namespace sealhook::trace
