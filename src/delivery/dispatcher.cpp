#include "delivery/dispatcher.hpp"

#include <algorithm>

namespace sealhook::delivery {

Dispatcher::Dispatcher(Queue& queue, Sender& sender, const Registry& registry, Journal& journal,
                       const RetryPolicy& policy, const Clock& clock, DispatcherOptions options)
    : queue_(queue),
      sender_(sender),
      registry_(registry),
      journal_(journal),
      policy_(policy),
      clock_(clock),
      options_(options) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  running_ = true;
  thread_ = std::thread([this] { run(); });
}

void Dispatcher::stop() {
  running_ = false;
  queue_.close();  // wakes the loop
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::run() {
  constexpr size_t kLeaseBatch = 256;
  while (running_) {
    size_t busy = inflight_.load();
    size_t room = busy >= options_.max_inflight ? 0 : options_.max_inflight - busy;
    if (room == 0) {
      queue_.wait(std::chrono::milliseconds(50));  // a completion signals the queue
      continue;
    }
    auto batch = queue_.lease(clock_.now_ms(), std::min(room, kLeaseBatch));
    if (batch.empty()) {
      queue_.wait(std::chrono::milliseconds(1000));
      continue;
    }
    for (auto& d : batch) attempt(std::move(d));
  }
}

void Dispatcher::attempt(QueuedDelivery&& d) {
  int64_t now = clock_.now_ms();
  auto snap = registry_.snapshot();
  auto it = snap->endpoints.find(d.endpoint_id);
  if (it == snap->endpoints.end()) {
    // The endpoint was deleted while this delivery waited: nothing left to send it to.
    finish(std::move(d), Outcome{Verdict::kDead, 0, "endpoint deleted"}, SendResult{}, now);
    return;
  }
  std::shared_ptr<const EndpointView> endpoint = it->second;
  SendRequest request = build_request(d, *endpoint, now, options_.attempt_timeout);
  int max_attempts = endpoint->endpoint.max_attempts;
  inflight_++;
  counters_.attempts++;
  sender_.send(
      std::move(request), [this, d = std::move(d), max_attempts, now](SendResult r) mutable {
        Outcome outcome =
            classify(r, d.attempts + 1 - d.round_start, max_attempts, policy_, clock_.now_ms());
        d.attempts++;
        counters_.attempt_ms_total += static_cast<uint64_t>(r.duration.count());
        finish(std::move(d), outcome, r, now);
        inflight_--;
      });
}

void Dispatcher::finish(QueuedDelivery&& d, const Outcome& outcome, const SendResult& result,
                        int64_t at_ms) {
  DeliveryUpdate u;
  DeliveryRecord& rec = u.record;
  rec.id = d.id;
  rec.tenant_id = d.tenant_id;
  rec.endpoint_id = d.endpoint_id;
  rec.event_id = d.event_id;
  rec.event_type = d.event_type;
  rec.attempts = d.attempts;
  rec.created_at_ms = d.published_at_ms;
  rec.updated_at_ms = clock_.now_ms();
  rec.last_error = outcome.error;
  if (result.status != 0 || !result.error.empty())
    u.attempts.push_back(AttemptRecord{d.id, d.attempts, at_ms, result.duration.count(),
                                       result.status, outcome.error});
  switch (outcome.verdict) {
    case Verdict::kDelivered:
      rec.status = DeliveryStatus::kDelivered;
      counters_.delivered++;
      journal_.submit(std::move(u));
      queue_.complete(d);
      break;
    case Verdict::kDead:
      rec.status = DeliveryStatus::kDead;
      u.dead_body = *d.body;
      counters_.dead++;
      journal_.submit(std::move(u));
      queue_.complete(d);
      break;
    case Verdict::kRetry:
      rec.status = DeliveryStatus::kPending;
      rec.next_attempt_at_ms = outcome.next_attempt_at_ms;
      counters_.retried++;
      journal_.submit(std::move(u));
      d.not_before_ms = outcome.next_attempt_at_ms;
      queue_.retry(std::move(d));
      break;
  }
}

bool Dispatcher::drain(std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (queue_.stats().depth == 0 && inflight_.load() == 0) return true;
    // Shutdown only: poll, and leave the queue's wake-ups to the leasing loop.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return queue_.stats().depth == 0 && inflight_.load() == 0;
}

}  // namespace sealhook::delivery
