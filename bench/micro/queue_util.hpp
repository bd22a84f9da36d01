#pragma once
// Deliveries shaped like the ones the publisher queues: prefixed ids of real length (heap
// strings), one shared 1 KiB ciphertext.
#include <memory>
#include <string>
#include <vector>

#include "core/ids.hpp"
#include "queue/queue.hpp"

namespace sealhook::bench {

inline constexpr int64_t kNowMs = 1'700'000'000'000;

// The project's defaults (max_inflight_per_endpoint included) with room for `capacity`.
inline QueueOptions options(size_t capacity) {
  QueueOptions o;
  o.capacity = capacity;
  return o;
}

inline std::vector<std::string> endpoint_ids(size_t n) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) ids.push_back(new_id("ep_", kNowMs));
  return ids;
}

inline QueuedDelivery sample_delivery(std::shared_ptr<const std::string> body) {
  QueuedDelivery d;
  d.id = new_id("msg_", kNowMs);
  d.tenant_id = "tn_01HZY3K4V5W6X7Y8Z9A0B1C2D3";
  d.event_id = new_id("evt_", kNowMs);
  d.event_type = "order.created";
  d.body = std::move(body);
  d.not_before_ms = kNowMs;
  d.published_at_ms = kNowMs;
  return d;
}

inline std::shared_ptr<const std::string> shared_body() {
  return std::make_shared<const std::string>(1024, 'x');
}

}  // namespace sealhook::bench
