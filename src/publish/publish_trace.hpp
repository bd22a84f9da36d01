#pragma once
// A publish's spans: SERVER (the request, under the caller's `traceparent` when it sent a
// valid one), and under it INTERNAL `fan-out` (who subscribes, one JWE per tenant) and
// PRODUCER `enqueue` (the push, until the queue has it durably). Each delivery carries the
// enqueue span's context, so that its attempts, in whichever process, join the trace. With
// tracing off, a caller's valid traceparent is carried as it came.
#include <optional>
#include <string>

#include "core/result.hpp"
#include "trace/span.hpp"
#include "trace/tracer.hpp"

namespace sealhook {

class PublishTrace {
 public:
  // At the start of a publish of `route` (e.g. "/v1/events") with the request's `traceparent`
  // header ("" when none; an invalid one is ignored).
  PublishTrace(trace::Tracer* tracer, const std::string& route, const std::string& traceparent);
  // What each delivery carries (""; nothing to carry).
  const std::string& delivery_traceparent() const { return carried_; }
  // Fan-out and sealing are done: `deliveries` made for events of `type`.
  void sealed(const std::string& type, size_t deliveries);
  // The publish is answered (a failed one with its error).
  void answered(const Status& outcome);

 private:
  trace::Tracer* tracer_;
  std::string carried_;
  trace::Span server_, fan_out_, enqueue_;
  bool sealed_ = false;
};

}  // namespace sealhook
