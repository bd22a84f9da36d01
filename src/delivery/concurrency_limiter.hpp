#pragma once
// Adaptive concurrency per endpoint: how many attempts this process keeps in flight to one
// endpoint, between 1 and a maximum (--max-inflight-per-endpoint), by additive increase and
// multiplicative decrease (AIMD, as TCP does with its window):
// - an answer that says the receiver is overloaded (429, 502, 503, 504, or no answer within the
//   attempt's timeout) halves the limit, once a round: answers to attempts started before the
//   cut cut no further (the ones sent together with the first failure fail together);
// - a 2xx answered within `fast_ms` adds 1/limit (one a round of `limit` successes);
// - every other answer (another 4xx or 5xx, a refused connection, a slow 2xx) leaves it.
// A Retry-After with a 429 or a 503 also holds every attempt to that endpoint until then.
// Ordered endpoints are not looked at: their queue lane has one delivery in flight at most.
// A delivery over the limit goes back to the queue (Queue::defer), its attempt unspent: it waits
// there, not here, until a slot is expected to be free. Those turns come one after another, an
// endpoint's (smoothed) answer time over its limit apart, so that the deliveries waiting come
// back at the pace the endpoint answers, not all at once; `max_wait_ms` bounds the wait. The limit
// is this process's own: with several processes on a shared queue, each adapts on its own, and
// together they back off as TCP flows sharing a link do.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "delivery/sender.hpp"

namespace sealhook::delivery {

struct ConcurrencyOptions {
  bool enabled = true;
  int max = 64;                  // the limit's top, and where each endpoint starts
  int64_t fast_ms = 1'000;       // a 2xx within this grows the limit; a slower one leaves it
  int64_t max_wait_ms = 1'000;   // a delivery over the limit waits for a slot this long at most
  int64_t max_hold_ms = 60'000;  // a Retry-After holds an endpoint this long at most
};

class ConcurrencyLimiter {
 public:
  explicit ConcurrencyLimiter(ConcurrencyOptions options) : options_(options) {}

  struct Admission {
    bool go = false;      // a slot taken: release() it with the answer, or give_back() it
    int64_t wait_ms = 0;  // else: try again at this time (Unix ms)
    bool held = false;    // ...because of a Retry-After (else the limit is reached)
    int limit = 0;        // the limit in force
    uint64_t round = 0;   // for release()
  };
  Admission acquire(const std::string& endpoint_id, int64_t now_ms);
  // The answer of an attempt that had a slot: adapts the limit and frees the slot.
  void release(const std::string& endpoint_id, uint64_t round, const SendResult& r, int64_t now_ms);
  // A slot taken but not used (the delivery went back for its rate limit): frees it only.
  void give_back(const std::string& endpoint_id);

  int limit(const std::string& endpoint_id) const;
  // Endpoints whose limit is below the maximum now.
  size_t reduced() const;
  uint64_t cuts() const;
  const ConcurrencyOptions& options() const { return options_; }

 private:
  struct State {
    double limit;
    int inflight = 0;
    uint64_t round = 0;       // one more at each cut
    int64_t hold_until = 0;   // a Retry-After's time
    double answer_ms = -1;    // smoothed answer time (-1: none yet)
    double next_turn_ms = 0;  // the last turn given to a delivery over the limit
  };
  int whole(const State& s) const;
  // Forgets an endpoint back at the top with nothing in flight and no hold.
  void forget_if_idle(std::unordered_map<std::string, State>::iterator it, int64_t now_ms);

  const ConcurrencyOptions options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, State> states_;
  uint64_t cuts_ = 0;
};

// Whether an answer says the receiver is overloaded: 429, 502, 503, 504, or a timeout.
bool is_overload(const SendResult& r);

}  // namespace sealhook::delivery
