#pragma once
// An attempt's CLIENT span (HTTP semantic conventions), child of the context its delivery
// carries from the publish, and the `traceparent` the endpoint gets: the publish's trace id
// with this attempt's span as the parent, so that the customer's own spans join the trace.
// With tracing off, a carried traceparent is sent as it is.
#include <string>

#include "delivery/attempt.hpp"
#include "delivery/sender.hpp"
#include "queue/queue.hpp"
#include "trace/tracer.hpp"

namespace sealhook::delivery {

class AttemptTrace {
 public:
  // Before the request goes: adds its traceparent header, if any, to `request`.
  AttemptTrace(trace::Tracer* tracer, const QueuedDelivery& d, int attempt, SendRequest& request);
  // The attempt's result and what it means.
  void ended(const SendResult& result, const Outcome& outcome);

 private:
  trace::Tracer* tracer_;
  trace::Span span_;
};

}  // namespace sealhook::delivery
