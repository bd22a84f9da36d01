#include "delivery/attempt_trace.hpp"

#include "delivery/ssrf_guard.hpp"

namespace sealhook::delivery {

namespace {

// url.full without the query (it may hold a customer's token) and with the port spelled out.
void add_url(trace::SpanAttributes& a, const std::string& url) {
  auto parsed = parse_url(url);
  if (!parsed) return;
  const std::string path = parsed->target.substr(0, parsed->target.find('?'));
  a.emplace_back("url.full", parsed->origin() + path);
  a.emplace_back("server.address", parsed->host);
  a.emplace_back("server.port", int64_t{parsed->port});
}

// error.type: the status code for an HTTP answer, else the error's class ("timeout", "connect").
std::string error_type(const SendResult& r) {
  if (r.error.empty()) return std::to_string(r.status);
  return r.error.substr(0, r.error.find(':'));
}

}  // namespace

AttemptTrace::AttemptTrace(trace::Tracer* tracer, const QueuedDelivery& d, int attempt,
                           SendRequest& request)
    : tracer_(tracer) {
  auto carried = d.traceparent.empty() ? std::nullopt : trace::parse_traceparent(d.traceparent);
  if (!tracer_) {
    if (carried) request.headers.emplace_back("traceparent", d.traceparent);
    return;
  }
  span_.context = tracer_->child_of(carried);
  if (carried) span_.parent = carried->span_id;
  span_.name = "POST";
  span_.kind = trace::SpanKind::kClient;
  span_.start_ns = trace::now_ns();
  auto& a = span_.attributes;
  a.reserve(16);  // those below and ended()'s: one allocation
  a.emplace_back("http.request.method", std::string("POST"));
  add_url(a, request.url);
  if (attempt > 1) a.emplace_back("http.request.resend_count", int64_t{attempt - 1});
  a.emplace_back("sealhook.delivery.id", d.id);
  a.emplace_back("sealhook.event.id", d.event_id);
  a.emplace_back("sealhook.endpoint.id", d.endpoint_id);
  a.emplace_back("sealhook.tenant.id", d.tenant_id);
  a.emplace_back("sealhook.attempt", int64_t{attempt});
  request.headers.emplace_back("traceparent", trace::to_traceparent(span_.context));
}

void AttemptTrace::ended(const SendResult& result, const Outcome& outcome) {
  if (!tracer_) return;
  span_.end_ns = trace::now_ns();
  auto& a = span_.attributes;
  if (result.status != 0) a.emplace_back("http.response.status_code", int64_t{result.status});
  if (outcome.verdict != Verdict::kDelivered) {
    span_.status = trace::StatusCode::kError;
    span_.status_message = outcome.error;
    a.emplace_back("error.type", error_type(result));
  }
  a.emplace_back("sealhook.outcome",
                 std::string(outcome.verdict == Verdict::kDelivered ? "delivered"
                             : outcome.verdict == Verdict::kRetry   ? "retry"
                                                                    : "dead"));
  tracer_->end(std::move(span_));
}

}  // namespace sealhook::delivery
