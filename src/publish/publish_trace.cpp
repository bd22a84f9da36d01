#include "publish/publish_trace.hpp"

namespace sealhook {

namespace {

trace::Span child_span(trace::Tracer& tracer, const trace::Span& parent, std::string name,
                       trace::SpanKind kind) {
  trace::Span s;
  s.context = tracer.child_of(parent.context);
  s.parent = parent.context.span_id;
  s.name = std::move(name);
  s.kind = kind;
  s.start_ns = trace::now_ns();
  return s;
}

}  // namespace

PublishTrace::PublishTrace(trace::Tracer* tracer, const std::string& route,
                           const std::string& traceparent)
    : tracer_(tracer) {
  auto incoming = traceparent.empty() ? std::nullopt : trace::parse_traceparent(traceparent);
  if (!tracer_) {
    if (incoming) carried_ = trace::to_traceparent(*incoming);
    return;
  }
  server_.context = tracer_->child_of(incoming);
  if (incoming) server_.parent = incoming->span_id;
  server_.name = "POST " + route;
  server_.kind = trace::SpanKind::kServer;
  server_.start_ns = trace::now_ns();
  server_.attributes = {
      {"http.request.method", std::string("POST")}, {"http.route", route}, {"url.path", route}};
  fan_out_ = child_span(*tracer_, server_, "fan-out", trace::SpanKind::kInternal);
}

void PublishTrace::sealed(const std::string& type, size_t deliveries) {
  if (!tracer_) return;
  sealed_ = true;
  fan_out_.end_ns = trace::now_ns();
  fan_out_.attributes = {{"sealhook.event.type", type},
                         {"sealhook.deliveries", static_cast<int64_t>(deliveries)}};
  enqueue_ = child_span(*tracer_, server_, "enqueue", trace::SpanKind::kProducer);
  enqueue_.start_ns = fan_out_.end_ns;
  enqueue_.attributes = {{"sealhook.deliveries", static_cast<int64_t>(deliveries)}};
  carried_ = trace::to_traceparent(enqueue_.context);
}

void PublishTrace::answered(const Status& outcome) {
  if (!tracer_) return;
  const uint64_t now = trace::now_ns();
  const int status = outcome ? 202 : http_status(outcome.error().kind);
  server_.attributes.emplace_back("http.response.status_code", int64_t{status});
  if (!outcome) {
    // A 4xx is the caller's error, not the server's (semantic conventions): status unset.
    if (status >= 500) {
      server_.status = trace::StatusCode::kError;
      server_.status_message = outcome.error().message;
    }
    server_.attributes.emplace_back("error.type", outcome.error().code);
  }
  if (!sealed_) {
    fan_out_.end_ns = now;
    if (!outcome) fan_out_.status = trace::StatusCode::kError;
  } else {
    enqueue_.end_ns = now;
    if (!outcome) {
      enqueue_.status = trace::StatusCode::kError;
      enqueue_.status_message = outcome.error().message;
    }
    tracer_->end(std::move(enqueue_));
  }
  tracer_->end(std::move(fan_out_));
  server_.end_ns = now;
  tracer_->end(std::move(server_));
}

}  // namespace sealhook
