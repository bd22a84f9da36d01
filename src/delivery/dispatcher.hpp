#pragma once
// The delivery loop: lease due deliveries from the queue, POST each through the sender, and
// route the outcome — ack, retry with backoff, or dead-letter — back to the queue and the
// journal. There is no thread of its own: work is pumped on the io threads, when the queue
// says work is available (its ready listener posts a pump), when an attempt completes, and when
// the timer for the queue's next due time fires.
// Write order: a dead letter is durable (journal callback) before its lease is released; an
// ack or a retry goes to the queue and the journal together (recovery reconciles the two).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "catalog/registry.hpp"
#include "core/clock.hpp"
#include "delivery/attempt.hpp"
#include "delivery/concurrency_limiter.hpp"
#include "delivery/delivery_metrics.hpp"
#include "delivery/endpoint_health.hpp"
#include "delivery/rate_limiter.hpp"
#include "delivery/sender.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "trace/tracer.hpp"

namespace sealhook::delivery {

struct DispatcherOptions {
  size_t max_inflight = 1024;  // attempts in flight, all endpoints
  std::chrono::milliseconds attempt_timeout{30'000};
  // A lease lasts the attempt's timeout plus this (time to record the outcome).
  std::chrono::milliseconds lease_grace{10'000};
  int default_max_attempts = 6;
  // A delivery for an endpoint the catalog does not know yet (created through another process
  // after its last check) waits this long for the catalog feed, holding its lease (no attempt
  // spent), then is looked at again.
  int64_t unknown_endpoint_hold_ms = 100;
  // A CLIENT span per attempt when set; else a delivery's traceparent is only passed on.
  trace::Tracer* tracer = nullptr;
  // A delivery for a disabled endpoint goes back to the queue for this long, its hand-out given
  // back (Queue::defer): it waits without spending attempts, and goes once the endpoint is
  // enabled again (within this long).
  int64_t disabled_recheck_ms = 30'000;
  // Disables an endpoint (tenant id, endpoint id, why), stored for every process; answers
  // whether it changed (false when it was disabled already, or the store refused). Unset: an
  // answer 410 Gone is only a failed attempt.
  std::function<bool(const std::string&, const std::string&, StateReason)> disable_endpoint =
      nullptr;
  // Told of every attempt's answer, to disable an endpoint that keeps failing; unset: none is.
  EndpointHealthTracker* health = nullptr;
  // Adaptive concurrency per unordered endpoint (its `max` is --max-inflight-per-endpoint).
  ConcurrencyOptions concurrency{};
};

struct DispatcherCounters {
  std::atomic<uint64_t> attempts{0}, delivered{0}, retried{0}, dead{0}, leases_lost{0};
  std::atomic<uint64_t> held_unknown{0};          // deliveries held for an endpoint not yet loaded
  std::atomic<uint64_t> deferred_disabled{0};     // hand-outs given back: endpoint disabled
  std::atomic<uint64_t> deferred_rate{0};         // hand-outs given back: over the rate limit
  std::atomic<uint64_t> deferred_concurrency{0};  // ...: its endpoint's concurrency limit reached
  std::atomic<uint64_t> deferred_retry_after{0};  // ...: its endpoint asked for a pause
  // The concurrency limit of the endpoint each attempt went to, at its start (unordered ones).
  Histogram concurrency_limit{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}, 1.0};
  AttemptMetrics attempts_by;  // answer classes and the histograms
};

class Dispatcher {
 public:
  Dispatcher(Queue& queue, Sender& sender, const Registry& registry, Journal& journal,
             const RetryPolicy& policy, const Clock& clock, boost::asio::io_context& io,
             DispatcherOptions options);
  ~Dispatcher();

  void start();
  // Starts no new attempts from now on; in-flight attempts finish on their own.
  void stop();
  // Keeps delivering until nothing is queued and nothing is in flight (`whole_queue`), or only
  // until nothing is in flight, or `deadline` passes. Returns true when done.
  bool drain(std::chrono::steady_clock::time_point deadline, bool whole_queue = true);
  // Starts attempts while there is room and due work. Thread-safe; cheap when idle.
  void pump();
  // Attempts in flight (and settles pending), not the slots a lease call in flight reserved.
  size_t inflight() const {
    size_t all = inflight_.load(), reserved = reserved_.load();
    return all > reserved ? all - reserved : 0;
  }
  const DispatcherCounters& counters() const { return counters_; }
  const ConcurrencyLimiter& concurrency() const { return concurrency_; }

 private:
  void attempt(Lease&& lease);
  // The attempt itself, once its endpoint may be sent to (on an io thread); `slot`: the
  // concurrency slot it holds (none for an ordered endpoint, or adaptive concurrency off).
  void send(Lease&& lease, EndpointPtr endpoint, int64_t now,
            std::optional<ConcurrencyLimiter::Admission> slot);
  // A delivery for an endpoint the catalog has not loaded yet waits for the catalog feed.
  void hold(Lease&& lease, int64_t now);
  // A delivery for a disabled endpoint, or over its endpoint's rate limit, goes back to the
  // queue until `at_ms`, its attempt unspent.
  void defer(Lease&& lease, int64_t at_ms);
  // The endpoint answered 410 Gone: disabled (once, whoever saw it first).
  void gone(const QueuedDelivery& d);
  // Records the outcome and settles the lease; `then` runs once the settle is done or dropped
  // (a dead letter: once it is handed to the journal), on whichever thread answered it.
  void finish(Lease&& lease, const Outcome& outcome, const SendResult& result, int64_t at_ms,
              std::function<void()> then);
  // The queue's answer to a settle: false (counted, logged) when the lease was lost.
  bool settled(const Status& st, const Lease& lease);
  // A settle of a lease, started without waiting (Queue::ack_async and the like).
  using SettleOp = std::function<void(Queue::Settled)>;
  // Runs `op` (a settle of `lease`), then `on_settled` if it was done, then `then` in any case.
  // A settle refused because the queue is unreachable (Redis down) is tried again every 250 ms
  // while the lease lasts and the dispatcher runs, rather than dropped; a lost lease, or the
  // lease's end, drops it as settled() says.
  void settle_then(SettleOp op, const Lease& lease, std::function<void()> on_settled,
                   std::function<void()> then);
  // An attempt's slot is free again: pumps at once on an io thread, else posts a pump.
  void release_slot();
  void post_pump();
  // The answer to pump()'s lease call: starts the attempts, then pumps again if more may wait.
  void leased(std::vector<Lease> batch, size_t want);
  // Makes sure the timer fires by `due_ms` (an earlier wake-up is never replaced by a later one).
  void wake_at(int64_t due_ms);
  void on_timer();

  Queue& queue_;
  Sender& sender_;
  const Registry& registry_;
  Journal& journal_;
  const RetryPolicy& policy_;
  const Clock& clock_;
  DispatcherOptions options_;
  DispatcherCounters counters_;
  std::atomic<size_t> inflight_{0};  // attempts, pending settles and reserved slots
  std::atomic<size_t> reserved_{0};  // slots reserved for the lease call in flight
  std::atomic<bool> running_{false};
  std::atomic<int64_t> armed_for_ms_{0};  // when the timer fires; 0: not armed
  std::atomic<bool> pump_posted_{false};
  std::atomic<bool> leasing_{false};      // a lease call is in flight
  std::atomic<bool> pump_wanted_{false};  // a pump came meanwhile: lease again after it
  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;
  RateLimiter limiter_;
  ConcurrencyLimiter concurrency_;
};

}  // namespace sealhook::delivery
