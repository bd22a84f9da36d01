#pragma once
// Per-endpoint rate limits (an endpoint's `rate_limit`: deliveries per second, with a burst),
// by the generic cell rate algorithm: a delivery over the limit is told when its turn comes and
// that turn is kept for it (reserved), so that the deliveries waiting for one endpoint go one
// after another at the rate, not all at once when the next token comes. The caller puts a
// delivery told to wait back in the queue until then (Queue::defer): it waits there, not here.
// This process's own state: it holds across processes where one process owns every delivery
// of an endpoint (sqlite and memory queues, and kafka, whose partitions are keyed by endpoint).
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace sealhook::delivery {

class RateLimiter {
 public:
  // 0: the delivery may go now (its slot is taken). Otherwise the time (Unix ms) it may go: its
  // slot is reserved until then, and admit() at that time (up to one interval after) lets it
  // go without another; later than that, it asks again like a new one.
  int64_t admit(const std::string& endpoint_id, const std::string& delivery_id, double per_second,
                int burst, int64_t now_ms);
  size_t reserved() const;

 private:
  struct Bucket {
    double tat_ms = 0;  // the theoretical arrival time of the next delivery
    std::unordered_map<std::string, int64_t> reserved;  // delivery id -> its turn
  };
  void prune(Bucket& b, int64_t now_ms);
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  int64_t pruned_at_ms_ = 0;
};

}  // namespace sealhook::delivery
