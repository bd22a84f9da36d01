#include "delivery/dispatcher.hpp"

#include <algorithm>
#include <thread>

namespace sealhook::delivery {

namespace asio = boost::asio;

namespace {
constexpr size_t kLeaseBatch = 64;
// A safety net: even without any known retry, look at the queue this often.
constexpr int64_t kIdleTickMs = 1000;
}  // namespace

Dispatcher::Dispatcher(Queue& queue, Sender& sender, const Registry& registry, Journal& journal,
                       const RetryPolicy& policy, const Clock& clock, asio::io_context& io,
                       DispatcherOptions options)
    : queue_(queue),
      sender_(sender),
      registry_(registry),
      journal_(journal),
      policy_(policy),
      clock_(clock),
      options_(options),
      strand_(asio::make_strand(io)),
      timer_(strand_) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  running_ = true;
  queue_.set_ready_listener([this] { pump(); });
  wake_at(clock_.now_ms());
}

void Dispatcher::stop() {
  if (!running_.exchange(false)) return;
  asio::post(strand_, [this] { timer_.cancel(); });
}

void Dispatcher::pump() {
  while (running_) {
    size_t busy = inflight_.load();
    if (busy >= options_.max_inflight) return;  // a completion pumps again
    size_t want = std::min(options_.max_inflight - busy, kLeaseBatch);
    if (!inflight_.compare_exchange_weak(busy, busy + want)) continue;  // reserve the slots
    auto batch = queue_.lease(clock_.now_ms(), want);
    inflight_ -= want - batch.size();
    for (auto& d : batch) attempt(std::move(d));
    if (batch.size() < want) return;
  }
}

void Dispatcher::wake_at(int64_t due_ms) {
  int64_t armed = armed_for_ms_.load();
  while (armed == 0 || due_ms < armed) {
    if (armed_for_ms_.compare_exchange_weak(armed, due_ms)) {
      asio::post(strand_, [this, due_ms] {
        if (!running_ || armed_for_ms_.load() != due_ms) return;  // superseded
        int64_t delay = std::max<int64_t>(0, due_ms - clock_.now_ms());
        timer_.expires_after(std::chrono::milliseconds(delay));
        timer_.async_wait([this](const boost::system::error_code& ec) {
          if (!ec) on_timer();
        });
      });
      return;
    }
  }
}

void Dispatcher::on_timer() {
  armed_for_ms_.store(0);
  pump();
  wake_at(clock_.now_ms() + kIdleTickMs);
}

void Dispatcher::attempt(QueuedDelivery&& d) {
  int64_t now = clock_.now_ms();
  auto snap = registry_.snapshot();
  const EndpointPtr* found = snap->endpoints.find(d.endpoint_id);
  if (!found) {
    // The endpoint was deleted while this delivery waited: nothing left to send it to.
    finish(std::move(d), Outcome{Verdict::kDead, 0, "endpoint deleted"}, SendResult{}, now);
    inflight_--;
    return;
  }
  EndpointPtr endpoint = *found;
  SendRequest request = build_request(d, *endpoint, now, options_.attempt_timeout);
  int max_attempts = endpoint->endpoint.max_attempts;
  counters_.attempts++;
  sender_.send(
      std::move(request), [this, d = std::move(d), max_attempts, now](SendResult r) mutable {
        Outcome outcome =
            classify(r, d.attempts + 1 - d.round_start, max_attempts, policy_, clock_.now_ms());
        d.attempts++;
        counters_.attempt_ms_total += static_cast<uint64_t>(r.duration.count());
        finish(std::move(d), outcome, r, now);
        inflight_--;
        pump();
      });
}

void Dispatcher::finish(QueuedDelivery&& d, const Outcome& outcome, const SendResult& result,
                        int64_t at_ms) {
  const bool done = outcome.verdict != Verdict::kRetry;
  if (done) queue_.complete(d);  // first: the record below takes d's strings
  DeliveryUpdate u;
  if (result.status != 0 || !result.error.empty())
    u.attempts.push_back(AttemptRecord{d.id, d.attempts, at_ms, result.duration.count(),
                                       result.status, outcome.error});
  if (outcome.verdict == Verdict::kDead) u.dead_body = *d.body;  // kept for replay
  DeliveryStatus status = DeliveryStatus::kPending;
  switch (outcome.verdict) {
    case Verdict::kDelivered:
      status = DeliveryStatus::kDelivered;
      counters_.delivered++;
      break;
    case Verdict::kDead:
      status = DeliveryStatus::kDead;
      counters_.dead++;
      break;
    case Verdict::kRetry:
      counters_.retried++;
      break;
  }
  const int64_t now = clock_.now_ms();
  u.record = done ? to_record(std::move(d), status, now) : to_record(d, status, now);
  u.record.last_error = outcome.error;
  if (!done) u.record.next_attempt_at_ms = outcome.next_attempt_at_ms;
  journal_.submit(std::move(u));
  if (!done) {
    d.not_before_ms = outcome.next_attempt_at_ms;
    queue_.retry(std::move(d));
    wake_at(outcome.next_attempt_at_ms);
  }
}

bool Dispatcher::drain(std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) {
    if (queue_.stats().depth == 0 && inflight_.load() == 0) return true;
    // Shutdown only: poll; the io threads keep delivering meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return queue_.stats().depth == 0 && inflight_.load() == 0;
}

}  // namespace sealhook::delivery
