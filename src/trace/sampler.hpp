#pragma once
// The OpenTelemetry samplers that OTEL_TRACES_SAMPLER names: always_on, always_off,
// traceidratio, and parentbased_{always_on,always_off,traceidratio} (the default is
// parentbased_always_on). A ratio decides on the trace id alone, so that every process that
// sees a trace decides alike.
#include <optional>
#include <string>

#include "core/result.hpp"
#include "trace/span_context.hpp"

namespace sealhook::trace {

class Sampler {
 public:
  enum class Root { kAlwaysOn, kAlwaysOff, kRatio };
  // OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (the ratio, 0..1, default 1). An unknown
  // name or a bad ratio is an error (the process says so at start rather than guessing).
  static Result<Sampler> parse(const std::string& name, const std::string& arg);
  Sampler() = default;
  Sampler(Root root, bool parent_based, double ratio = 1.0);

  // Whether a span of trace `trace_id` is recorded and exported, given its parent (nullopt: a
  // root span). A parent-based sampler follows the parent's sampled flag.
  bool sample(const std::optional<SpanContext>& parent, const TraceId& trace_id) const;
  std::string description() const;

 private:
  Root root_ = Root::kAlwaysOn;
  bool parent_based_ = true;
  double ratio_ = 1.0;
  uint64_t bound_ = 0;  // ratio_ * 2^63: a trace id whose low 63 bits fall below it is sampled
};

}  // namespace sealhook::trace
