#pragma once
// The delivery queue: ciphertext and a small fixed record per delivery, never plaintext.
// One implementation per folder (memory/, later redis/ and kafka/), chosen in queue_factory.
//
// Contract:
//  - push() is all-or-nothing; a full queue answers kUnavailable (HTTP 503, backpressure).
//  - lease() hands out deliveries whose time has come. For an `ordered` endpoint it hands out
//    only the head, and nothing more of that endpoint until the head is acked or dead;
//    an `unordered` endpoint gets up to `max_inflight_per_endpoint` at once.
//  - Every leased delivery comes back exactly once through complete() or retry().
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/model.hpp"
#include "core/result.hpp"

namespace sealhook {

struct QueuedDelivery {
  std::string id;  // msg_..., the webhook-id, the same on every retry
  std::string tenant_id;
  std::string endpoint_id;
  std::string event_id;
  std::string event_type;
  std::shared_ptr<const std::string> body;  // JWE compact; shared by a tenant's endpoints
  bool ordered = false;
  int attempts = 0;     // attempts already made
  int round_start = 0;  // attempts made before the last replay (max_attempts counts from here)
  int64_t not_before_ms = 0;    // not to be tried before
  int64_t published_at_ms = 0;  // for ordering and latency
};

// What the store keeps of a queued delivery, in `status` as of `now_ms` (no error yet, no
// next attempt time: the caller sets those that apply).
// The rvalue form takes d's strings instead of copying them (a finished delivery).
template <class Delivery>
requires std::same_as<std::remove_cvref_t<Delivery>, QueuedDelivery> DeliveryRecord
to_record(Delivery&& d, DeliveryStatus status, int64_t now_ms) {
  DeliveryRecord r;
  r.id = std::forward<Delivery>(d).id;
  r.tenant_id = std::forward<Delivery>(d).tenant_id;
  r.endpoint_id = std::forward<Delivery>(d).endpoint_id;
  r.event_id = std::forward<Delivery>(d).event_id;
  r.event_type = std::forward<Delivery>(d).event_type;
  r.status = status;
  r.attempts = d.attempts;
  r.created_at_ms = d.published_at_ms;
  r.updated_at_ms = now_ms;
  return r;
}

struct QueueStats {
  size_t depth = 0;   // everything held: waiting, scheduled and leased
  size_t leased = 0;  // handed out, not yet completed or retried
  size_t capacity = 0;
};

struct QueueOptions {
  size_t capacity = 100'000;
  int max_inflight_per_endpoint = 64;
};

class Queue {
 public:
  virtual ~Queue() = default;
  virtual Status push(std::vector<QueuedDelivery>&& batch) = 0;
  // Up to `max` deliveries due at `now_ms`.
  virtual std::vector<QueuedDelivery> lease(int64_t now_ms, size_t max) = 0;
  // The leased delivery is finished (acknowledged, or dead-lettered).
  virtual void complete(const QueuedDelivery& d) = 0;
  // The leased delivery failed and is tried again at `d.not_before_ms` (attempts already counted).
  virtual void retry(QueuedDelivery&& d) = 0;
  virtual void close() = 0;  // push() fails afterwards; leasing goes on (drain)
  // Called (outside any queue lock, on the pushing thread) after a push made work available,
  // so an in-process dispatcher can start it at once instead of polling. Set before use.
  virtual void set_ready_listener(std::function<void()> listener) = 0;
  virtual QueueStats stats() const = 0;
  virtual Status ping() = 0;
};

// kind: "memory" (later "redis", "kafka").
Result<std::unique_ptr<Queue>> make_queue(const std::string& kind, const QueueOptions& options,
                                          const Clock& clock);

}  // namespace sealhook
