#include "trace/tracer.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace sealhook::trace {

namespace {

std::string env(const Getenv& getenv, const char* name) {
  const char* v = getenv(name);
  return v ? std::string(v) : std::string();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

std::string percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_digit(s[i + 1]) >= 0 && hex_digit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The traces URL: the signal's own variable as it is, else the base with /v1/traces added.
std::string traces_url(const Getenv& getenv) {
  std::string url = env(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (!url.empty()) return url;
  url = env(getenv, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (url.empty()) return url;
  while (url.ends_with('/')) url.pop_back();
  return url + "/v1/traces";
}

}  // namespace

Result<std::vector<std::pair<std::string, std::string>>> parse_key_values(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (trim(item).empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || trim(item.substr(0, eq)).empty())
      return make_error(ErrorKind::kBadRequest, "invalid_config",
                        "'" + std::string(item) + "' is not a key=value pair");
    out.emplace_back(trim(percent_decoded(item.substr(0, eq))),
                     trim(percent_decoded(item.substr(eq + 1))));
  }
  return out;
}

Result<std::optional<TraceSettings>> settings_from_env(const Getenv& getenv,
                                                       const TraceLimits& limits,
                                                       const std::string& role) {
  std::string url = traces_url(getenv);
  if (url.empty() || env(getenv, "OTEL_SDK_DISABLED") == "true" ||
      env(getenv, "OTEL_TRACES_EXPORTER") == "none")
    return std::optional<TraceSettings>();
  const std::string protocol = env(getenv, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL").empty()
                                   ? env(getenv, "OTEL_EXPORTER_OTLP_PROTOCOL")
                                   : env(getenv, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL");
  if (!protocol.empty() && protocol != "http/json")
    spdlog::warn("traces: OTEL_EXPORTER_OTLP_PROTOCOL={} is not supported; exporting http/json",
                 protocol);
  auto sampler =
      Sampler::parse(env(getenv, "OTEL_TRACES_SAMPLER"), env(getenv, "OTEL_TRACES_SAMPLER_ARG"));
  if (!sampler) return sampler.error();
  auto resource = parse_key_values(env(getenv, "OTEL_RESOURCE_ATTRIBUTES"));
  if (!resource)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "OTEL_RESOURCE_ATTRIBUTES: " + resource.error().message);
  auto headers = parse_key_values(env(getenv, "OTEL_EXPORTER_OTLP_HEADERS"));
  if (!headers)
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "OTEL_EXPORTER_OTLP_HEADERS: " + headers.error().message);
  TraceSettings s;
  s.sampler = *sampler;
  ExporterOptions& e = s.exporter;
  e.url = std::move(url);
  e.headers = std::move(headers.value());
  // OTEL_SERVICE_NAME wins over a service.name among the attributes.
  std::string service = env(getenv, "OTEL_SERVICE_NAME");
  bool named = false;
  for (auto& [k, v] : *resource) {
    if (k == "service.name") {
      if (!service.empty()) v = service;
      named = true;
    }
    e.resource.emplace_back(k, v);
  }
  if (!named) e.resource.emplace_back("service.name", service.empty() ? "sealhook" : service);
  e.resource.emplace_back("sealhook.role", role);
  e.resource.emplace_back("telemetry.sdk.name", "sealhook");
  e.resource.emplace_back("telemetry.sdk.language", "cpp");
  e.max_queue = limits.max_queue;
  e.max_batch = limits.max_batch;
  e.delay = std::chrono::milliseconds(limits.delay_ms);
  e.timeout = std::chrono::milliseconds(limits.timeout_ms);
  return std::optional<TraceSettings>(std::move(s));
}

Result<std::unique_ptr<Tracer>> Tracer::start(TraceSettings settings) {
  std::string url = settings.exporter.url;
  auto exporter = Exporter::start(std::move(settings.exporter));
  if (!exporter) return exporter.error();
  return std::unique_ptr<Tracer>(
      new Tracer(settings.sampler, std::move(exporter.value()), std::move(url)));
}

SpanContext Tracer::child_of(const std::optional<SpanContext>& parent) const {
  SpanContext ctx;
  ctx.trace_id = parent ? parent->trace_id : new_trace_id();
  ctx.span_id = new_span_id();
  ctx.sampled = sampler_.sample(parent, ctx.trace_id);
  return ctx;
}

void Tracer::end(Span&& span) {
  if (span.context.sampled) exporter_->add(std::move(span));
}

}  // namespace sealhook::trace
