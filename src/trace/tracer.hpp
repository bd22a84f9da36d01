#pragma once
// Tracing as a process has it: the OTEL_* environment read once at start (endpoint, service
// name, resource attributes, headers, sampler), the sampler, and the exporter. Absent (no
// endpoint set) means tracing is off; callers then only pass a `traceparent` through.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "trace/exporter.hpp"
#include "trace/sampler.hpp"
#include "trace/span.hpp"

namespace sealhook::trace {

// sealhook's own bounds on the exporter (--trace-* options).
struct TraceLimits {
  size_t max_queue = 2048;
  size_t max_batch = 512;
  int64_t delay_ms = 5'000;
  int64_t timeout_ms = 10'000;
};

struct TraceSettings {
  ExporterOptions exporter;
  Sampler sampler;
};

using Getenv = std::function<const char*(const char*)>;

// nullopt when tracing is off: neither OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is) nor
// OTEL_EXPORTER_OTLP_ENDPOINT (to which /v1/traces is added) is set, OTEL_SDK_DISABLED is true,
// or OTEL_TRACES_EXPORTER is none. `role` names the process in the resource
// (sealhook.role = serve | worker). A bad value is an error.
Result<std::optional<TraceSettings>> settings_from_env(const Getenv& getenv,
                                                       const TraceLimits& limits,
                                                       const std::string& role);

// "k=v,k2=v2" with percent-encoded values (OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS);
// an entry without '=' is an error.
Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(const std::string& text);

class Tracer {
 public:
  static Result<std::unique_ptr<Tracer>> start(TraceSettings settings);
  // A new span's context under `parent` (the same trace; a new trace when none), with the
  // sampler's verdict as its sampled flag.
  SpanContext child_of(const std::optional<SpanContext>& parent) const;
  // Exports the span if it is sampled; never blocks.
  void end(Span&& span);
  void stop() { exporter_->stop(); }
  const ExporterCounters& counters() const { return exporter_->counters(); }
  const std::string& url() const { return url_; }

 private:
  Tracer(Sampler sampler, std::unique_ptr<Exporter> exporter, std::string url)
      : sampler_(sampler), exporter_(std::move(exporter)), url_(std::move(url)) {}
  Sampler sampler_;
  std::unique_ptr<Exporter> exporter_;
  std::string url_;
};

}  // namespace sealhook::trace
