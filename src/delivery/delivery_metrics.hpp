#pragma once
// What the dispatcher counts for /metrics, beside its outcome counters: attempts by the class of
// their answer, and two histograms. Updated on the io threads with relaxed atomics only.
#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/histogram.hpp"
#include "delivery/attempt.hpp"
#include "delivery/sender.hpp"

namespace sealhook::delivery {

// The class of an attempt's answer: the HTTP status's hundred, or why there was none.
enum class StatusClass : uint8_t { k1xx, k2xx, k3xx, k4xx, k5xx, kTimeout, kNetworkError };
inline constexpr size_t kStatusClasses = 7;

StatusClass status_class(const SendResult& result);
// "2xx", ..., "timeout", "network_error": the `class` label's values.
std::string_view status_class_label(StatusClass c);

struct AttemptMetrics {
  std::array<std::atomic<uint64_t>, kStatusClasses> by_class{};
  // Each attempt's duration (connect to last byte, or to its timeout or error).
  Histogram duration{Histogram::default_bounds_ms()};
  // From the publish that accepted the event to the attempt that delivered it (retries and
  // time queued included): one observation per delivered delivery.
  Histogram publish_to_delivery{Histogram::default_bounds_ms()};

  // One finished attempt, `since_publish_ms` after the publish that accepted its event.
  void count(const SendResult& result, Verdict verdict, int64_t since_publish_ms) {
    by_class[static_cast<size_t>(status_class(result))].fetch_add(1, std::memory_order_relaxed);
    duration.observe_ms(result.duration.count());
    if (verdict == Verdict::kDelivered) publish_to_delivery.observe_ms(since_publish_ms);
  }
};

}  // namespace sealhook::delivery
