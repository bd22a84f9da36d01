#pragma once
// The OTLP/HTTP JSON encoding of an ExportTraceServiceRequest (opentelemetry-proto
// collector/trace/v1): one resource, one instrumentation scope, the spans. Per the OTLP/JSON
// rules, ids are lowercase hex strings, 64-bit integers (times, int attributes) are decimal
// strings, enums are their numbers, and field names are lowerCamelCase.
#include <string>
#include <vector>

#include "trace/span.hpp"

namespace sealhook::trace {

std::string encode_otlp_json(const Attributes& resource, const std::vector<Span>& spans);

}  // namespace sealhook::trace
