#pragma once
// One structured log line per attempt and per state change of a delivery, its fields as JSON
// members ("msg":"attempt","delivery_id":...), so that --log-format json writes them as one
// object and text shows the same fields. Ids, status codes, errors and the trace id only:
// never a payload, a body, a key or a secret.
#include <cstdint>

#include "delivery/attempt.hpp"
#include "delivery/sender.hpp"
#include "queue/queue.hpp"

namespace sealhook::delivery {

// An attempt's answer (info).
void log_attempt(const QueuedDelivery& d, int attempt, const SendResult& r, const Outcome& o);
// The queue has the outcome: delivered (info), retry scheduled (info), dead-lettered (warn).
void log_delivered(const QueuedDelivery& d, int attempt);
void log_retry_scheduled(const QueuedDelivery& d, int attempt, int64_t at_ms);
void log_dead_lettered(const QueuedDelivery& d, int attempt, const std::string& error);
// The lease expired before the outcome was recorded: the outcome is dropped (warn).
void log_lease_lost(const QueuedDelivery& d);

}  // namespace sealhook::delivery
