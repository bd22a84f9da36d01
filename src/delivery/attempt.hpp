#pragma once
// One attempt, as pure functions: the signed request for a delivery, and what its result means
// (delivered, retry at a time, or dead-letter). The dispatcher only wires these together.
#include <cstdint>
#include <string>

#include "catalog/registry.hpp"
#include "delivery/retry_policy.hpp"
#include "delivery/sender.hpp"
#include "queue/queue.hpp"

namespace sealhook::delivery {

// Content-Type application/jose, webhook-id, webhook-timestamp (seconds of this attempt),
// webhook-signature (Standard Webhooks v1 over the JWE body: "v1,<new> v1,<previous>" while a
// rotated-out secret is in its grace period at `now_ms`).
SendRequest build_request(const QueuedDelivery& d, const EndpointView& endpoint, int64_t now_ms,
                          std::chrono::milliseconds timeout);

enum class Verdict { kDelivered, kRetry, kDead };

struct Outcome {
  Verdict verdict = Verdict::kRetry;
  int64_t next_attempt_at_ms = 0;  // for kRetry
  std::string error;               // "" when delivered; else "http 500", "timeout", ...
};

// `attempt` is the 1-based number of the attempt that produced `result`.
Outcome classify(const SendResult& result, int attempt, int max_attempts, const RetryPolicy& policy,
                 int64_t now_ms);

}  // namespace sealhook::delivery
