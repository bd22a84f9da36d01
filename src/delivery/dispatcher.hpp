#pragma once
// The delivery loop: lease due deliveries from the queue, POST each through the sender, and
// route the outcome — ack, retry with backoff, or dead-letter — back to the queue and the
// journal. One thread leases; the HTTP work runs on the sender's io_context.
#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "catalog/registry.hpp"
#include "core/clock.hpp"
#include "delivery/attempt.hpp"
#include "delivery/sender.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"

namespace sealhook::delivery {

struct DispatcherOptions {
  size_t max_inflight = 1024;  // attempts in flight, all endpoints
  std::chrono::milliseconds attempt_timeout{30'000};
  int default_max_attempts = 6;
};

struct DispatcherCounters {
  std::atomic<uint64_t> attempts{0}, delivered{0}, retried{0}, dead{0};
  std::atomic<uint64_t> attempt_ms_total{0};
};

class Dispatcher {
 public:
  Dispatcher(Queue& queue, Sender& sender, const Registry& registry, Journal& journal,
             const RetryPolicy& policy, const Clock& clock, DispatcherOptions options);
  ~Dispatcher();

  void start();
  // Stops leasing and waits for the loop thread; in-flight attempts finish on their own.
  void stop();
  // Keeps delivering until nothing is due and nothing is in flight, or `deadline` passes.
  // Returns true when drained.
  bool drain(std::chrono::steady_clock::time_point deadline);
  size_t inflight() const { return inflight_.load(); }
  const DispatcherCounters& counters() const { return counters_; }

 private:
  void run();
  void attempt(QueuedDelivery&& d);
  void finish(QueuedDelivery&& d, const Outcome& outcome, const SendResult& result, int64_t at_ms);

  Queue& queue_;
  Sender& sender_;
  const Registry& registry_;
  Journal& journal_;
  const RetryPolicy& policy_;
  const Clock& clock_;
  DispatcherOptions options_;
  DispatcherCounters counters_;
  std::atomic<size_t> inflight_{0};
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace sealhook::delivery
