#pragma once
// The gauges that cost a store query (COUNT(*) of dead-lettered and lost deliveries) or a walk
// of a local queue's timers (scheduled retries), counted by a background refresh every
// --metrics-refresh-ms on the blocking pool, so that a scrape only reads what the last refresh
// found: it never waits on the store, and never holds the queue's lock for a walk.
#include <atomic>
#include <cstdint>
#include <optional>

#include "queue/queue.hpp"
#include "store/store.hpp"

namespace sealhook::app {

class SlowGauges {
 public:
  // Counts now (blocking: the store is asked); a failed count keeps the last value.
  void refresh(Store& store, const Queue& queue, int64_t now_ms);

  struct Values {
    std::optional<uint64_t> dead, lost;  // unset until a count succeeded
    std::optional<uint64_t> scheduled;   // unset: the queue's stats() counts them
    int64_t refreshed_at_ms = 0;         // the last refresh that succeeded; 0: none yet
  };
  Values values() const;

  // A refresh in flight: another one is not started (a slow store never piles them up).
  bool try_begin() { return !busy_.exchange(true); }
  void end() { busy_ = false; }

 private:
  static constexpr int64_t kUnset = -1;
  std::atomic<int64_t> dead_{kUnset}, lost_{kUnset}, scheduled_{kUnset}, refreshed_at_ms_{0};
  std::atomic<bool> busy_{false};
};

}  // namespace sealhook::app
