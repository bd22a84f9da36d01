#include "delivery/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace sealhook::delivery {

namespace {
// A reserved turn not claimed this long after it came (its delivery went to another process,
// was deleted or dead-lettered) is dropped.
constexpr int64_t kReservationTtlMs = 60'000;
// Turns are reserved this far ahead at most; a delivery further back is told to come back then,
// unreserved. So this process holds at most the rate times this many reservations an endpoint.
constexpr int64_t kHorizonMs = 60'000;
}  // namespace

int64_t RateLimiter::admit(const std::string& endpoint_id, const std::string& delivery_id,
                           double per_second, int burst, int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (now_ms - pruned_at_ms_ >= kReservationTtlMs) {
    pruned_at_ms_ = now_ms;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      prune(it->second, now_ms);
      const bool idle =
          it->second.reserved.empty() && it->second.tat_ms < static_cast<double>(now_ms);
      it = idle ? buckets_.erase(it) : std::next(it);
    }
  }
  Bucket& b = buckets_[endpoint_id];
  const double interval = 1000.0 / per_second;
  if (auto r = b.reserved.find(delivery_id); r != b.reserved.end()) {
    const int64_t turn = r->second;
    if (now_ms < turn) return turn;  // back early: its turn stays
    b.reserved.erase(r);
    // On time (within one interval of its turn): it goes. Later (its process was slow to come
    // back for it), the turn is gone: it asks again like any, so that deliveries whose turns
    // all passed meanwhile do not go at once.
    if (static_cast<double>(now_ms - turn) <= interval) return 0;
  }
  const double tolerance = (std::max(burst, 1) - 1) * interval;
  const double now = static_cast<double>(now_ms);
  b.tat_ms = std::max(b.tat_ms, now);
  const double turn = b.tat_ms - tolerance;
  if (turn <= now) {
    b.tat_ms += interval;
    return 0;
  }
  if (turn > now + kHorizonMs) return now_ms + kHorizonMs;
  b.tat_ms += interval;
  const auto at = static_cast<int64_t>(std::ceil(turn));
  b.reserved[delivery_id] = at;
  return at;
}

void RateLimiter::prune(Bucket& b, int64_t now_ms) {
  std::erase_if(b.reserved, [&](const auto& r) { return r.second + kReservationTtlMs < now_ms; });
}

size_t RateLimiter::reserved() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, b] : buckets_) n += b.reserved.size();
  return n;
}

}  // namespace sealhook::delivery
