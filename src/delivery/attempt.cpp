#include "delivery/attempt.hpp"

namespace sealhook::delivery {

SendRequest build_request(const QueuedDelivery& d, const EndpointView& endpoint, int64_t now_ms,
                          std::chrono::milliseconds timeout) {
  int64_t ts = now_ms / 1000;
  // During a rotation's grace both secrets sign, the new one first: Standard Webhooks libraries
  // accept a header when any of its space-separated signatures verifies.
  std::string signature = endpoint.secret.sign(d.id, ts, *d.body);
  if (const crypto::SigningSecret* previous = endpoint.previous_at(now_ms))
    signature.append(" ").append(previous->sign(d.id, ts, *d.body));
  SendRequest req;
  req.url = endpoint.endpoint.url;
  req.body = d.body;
  req.timeout = timeout;
  req.headers = {
      {"Content-Type", "application/jose"},
      {"webhook-id", d.id},
      {"webhook-timestamp", std::to_string(ts)},
      {"webhook-signature", std::move(signature)},
  };
  return req;
}

Outcome classify(const SendResult& result, int attempt, int max_attempts, const RetryPolicy& policy,
                 int64_t now_ms) {
  Outcome out;
  if (result.error.empty() && result.status >= 200 && result.status < 300) {
    out.verdict = Verdict::kDelivered;
    return out;
  }
  out.error = result.error.empty() ? "http " + std::to_string(result.status) : result.error;
  if (attempt >= max_attempts) {
    out.verdict = Verdict::kDead;
    return out;
  }
  std::optional<int64_t> retry_after;
  if ((result.status == 429 || result.status == 503) && result.retry_after)
    retry_after = parse_retry_after(*result.retry_after, now_ms);
  out.verdict = Verdict::kRetry;
  out.next_attempt_at_ms = now_ms + policy.delay_ms(attempt, retry_after);
  return out;
}

}  // namespace sealhook::delivery
