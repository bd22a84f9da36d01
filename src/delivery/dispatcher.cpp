#include "delivery/dispatcher.hpp"

#include "delivery/attempt_trace.hpp"
#include "delivery/delivery_log.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace sealhook::delivery {

namespace asio = boost::asio;

namespace {
constexpr size_t kLeaseBatch = 64;
// A safety net: even without any known due time, look at the queue this often.
constexpr int64_t kIdleTickMs = 1000;
// A settle the queue could not take (its backend down) is tried again this often.
constexpr int64_t kSettleRetryMs = 250;
// > 0 while this thread is inside a settle call of settle_then (its answer may come at once).
thread_local int settling_here = 0;
// > 0 while this thread is inside the lease call of pump.
thread_local int leasing_here = 0;
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
      io_(io),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      concurrency_(options_.concurrency) {}

Dispatcher::~Dispatcher() { stop(); }

void Dispatcher::start() {
  running_ = true;
  queue_.set_ready_listener([this] { post_pump(); });
  wake_at(clock_.now_ms());
}

void Dispatcher::stop() {
  if (!running_.exchange(false)) return;
  asio::post(strand_, [this] { timer_.cancel(); });
}

// The listener may run on any thread (a publishing pool thread, the queue's own thread): the
// pump runs on an io thread, one pending post at a time.
void Dispatcher::post_pump() {
  if (pump_posted_.exchange(true)) return;
  asio::post(io_, [this] {
    pump_posted_ = false;
    pump();
  });
}

// One lease call in flight at a time: a pump that finds one going leaves pump_wanted_ set, and
// the call's answer pumps again. The answer may come at once (a local backend) or on the
// queue's own thread (Redis), whose attempts then start on an io thread: no io thread waits
// for a lease round trip.
void Dispatcher::pump() {
  const int64_t lease_ms = (options_.attempt_timeout + options_.lease_grace).count();
  pump_wanted_ = true;
  while (running_ && pump_wanted_.load()) {
    if (leasing_.exchange(true)) return;  // the call in flight pumps again when answered
    pump_wanted_ = false;
    size_t busy = inflight_.load();
    if (busy >= options_.max_inflight) {  // a completion pumps again
      leasing_ = false;
      return;
    }
    size_t want = std::min(options_.max_inflight - busy, kLeaseBatch);
    reserved_ += want;
    if (!inflight_.compare_exchange_strong(busy, busy + want)) {  // reserve the slots
      reserved_ -= want;
      leasing_ = false;
      pump_wanted_ = true;
      continue;
    }
    struct Here {  // marks this thread as inside the lease call while it runs
      Here() { leasing_here++; }
      ~Here() { leasing_here--; }
    } here;
    queue_.lease_async(clock_.now_ms(), want, lease_ms,
                       [this, want](std::vector<Lease> batch) { leased(std::move(batch), want); });
    return;
  }
}

void Dispatcher::leased(std::vector<Lease> batch, size_t want) {
  inflight_ -= want - batch.size();
  reserved_ -= want;
  const int64_t now = clock_.now_ms();
  if (auto due = queue_.next_due_ms(); due && *due > now) wake_at(*due);
  auto go = [this, want, batch = std::move(batch)]() mutable {
    const bool full = batch.size() == want;  // maybe more: lease again
    for (auto& l : batch) attempt(std::move(l));
    leasing_ = false;
    if (full) pump_wanted_ = true;
    if (pump_wanted_.load()) pump();
  };
  if (leasing_here > 0 || io_.get_executor().running_in_this_thread())
    go();
  else
    asio::post(io_, std::move(go));  // the queue's thread: attempts start on an io thread
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
  int64_t now = clock_.now_ms();
  int64_t next = now + kIdleTickMs;
  if (auto due = queue_.next_due_ms()) next = std::clamp(*due, now + 1, next);
  wake_at(next);
}

void Dispatcher::attempt(Lease&& lease) {
  int64_t now = clock_.now_ms();
  const QueuedDelivery& d = *lease.delivery;
  // When the catalog was last in step with the store, read before the snapshot (the feed
  // swaps the snapshot first), so the snapshot is at least that fresh.
  int64_t synced_at = registry_.synced_at_ms();
  auto snap = registry_.snapshot();
  const EndpointPtr* found = snap->endpoints.find(d.endpoint_id);
  if (!found && synced_at <= d.published_at_ms) {
    // Published (by another process) to an endpoint this catalog has not loaded yet: held
    // until the feed's next check, never dead-lettered for that.
    hold(std::move(lease), now);
    return;
  }
  if (!found) {
    // The endpoint was deleted while this delivery waited: nothing left to send it to.
    finish(std::move(lease), Outcome{Verdict::kDead, 0, "endpoint deleted"}, SendResult{}, now,
           [this] { inflight_--; });
    return;
  }
  EndpointPtr endpoint = *found;
  if (endpoint->endpoint.state.disabled) {
    counters_.deferred_disabled++;
    defer(std::move(lease), now + options_.disabled_recheck_ms);
    return;
  }
  int max_attempts = endpoint->endpoint.max_attempts;
  if (lease.handouts > max_attempts) {
    // Handed out max_attempts times already, each without an outcome (its worker died or the
    // lease expired): a poison delivery. Into the DLQ instead of looping.
    Outcome poison{Verdict::kDead, 0,
                   "handed out " + std::to_string(lease.handouts - 1) +
                       " times without an outcome (worker lost or lease expired)"};
    finish(std::move(lease), poison, SendResult{}, now, [this] { inflight_--; });
    return;
  }
  std::optional<ConcurrencyLimiter::Admission> slot;  // adaptive concurrency: the slot taken
  if (const Endpoint& e = endpoint->endpoint;
      concurrency_.options().enabled && e.ordering != Ordering::kOrdered && !d.ordered) {
    auto a = concurrency_.acquire(e.id, now);
    if (!a.go) {  // waits in the queue: for a free slot, or the time a Retry-After gave
      (a.held ? counters_.deferred_retry_after : counters_.deferred_concurrency)++;
      defer(std::move(lease), a.wait_ms);
      return;
    }
    slot = a;
  }
  if (const Endpoint& e = endpoint->endpoint; e.rate_milli_per_s > 0) {
    const double per_second = static_cast<double>(e.rate_milli_per_s) / 1000;
    auto shared = std::make_shared<Lease>(std::move(lease));
    Queue::Admitted admitted = [this, shared, endpoint, now, slot](int64_t turn) {
      if (turn > 0) {  // waits in the queue for its turn
        counters_.deferred_rate++;
        if (slot) concurrency_.give_back(endpoint->endpoint.id);
        return defer(std::move(*shared), turn);
      }
      send(std::move(*shared), endpoint, now, slot);
    };
    // A shared limit answers on the queue's thread: the attempt goes on on an io thread.
    Queue::Admitted on_io = [this, admitted](int64_t turn) {
      asio::post(io_, [admitted, turn] { admitted(turn); });
    };
    if (queue_.admit_async(e.id, d.id, per_second, e.rate_burst, now, on_io)) return;
    admitted(limiter_.admit(e.id, d.id, per_second, e.rate_burst, now));
    return;
  }
  send(std::move(lease), std::move(endpoint), now, slot);
}

void Dispatcher::send(Lease&& lease, EndpointPtr endpoint, int64_t now,
                      std::optional<ConcurrencyLimiter::Admission> slot) {
  const QueuedDelivery& d = *lease.delivery;
  int max_attempts = endpoint->endpoint.max_attempts;
  SendRequest request = build_request(d, *endpoint, now, options_.attempt_timeout);
  AttemptTrace trace(options_.tracer, d, lease.attempt(), request);
  counters_.attempts++;
  if (slot) counters_.concurrency_limit.observe(slot->limit);
  sender_.send(std::move(request), [this, lease = std::move(lease), max_attempts, now,
                                    trace = std::move(trace), endpoint = std::move(endpoint),
                                    slot](SendResult r) mutable {
    const int64_t at = clock_.now_ms();
    if (slot) concurrency_.release(endpoint->endpoint.id, slot->round, r, at);
    Outcome outcome = classify(r, lease.handouts, max_attempts, policy_, at);
    if (r.status == 410) gone(*lease.delivery);  // a failed attempt, and no more until enabled
    if (options_.health != nullptr) {
      if (outcome.verdict == Verdict::kDelivered)
        options_.health->succeeded(endpoint->endpoint);
      else
        options_.health->failed(endpoint->endpoint, at);
    }
    trace.ended(r, outcome);
    log_attempt(*lease.delivery, lease.attempt(), r, outcome);
    counters_.attempts_by.count(r, outcome.verdict, at - lease.delivery->published_at_ms);
    // The slot stays taken until the queue has the outcome: on a shared queue the lease counts
    // against its endpoint's and tenant's caps until then, so a pump before would find nothing.
    finish(std::move(lease), outcome, r, now, [this] { release_slot(); });
  });
}

void Dispatcher::release_slot() {
  inflight_--;
  // Answered inside the settle call (a local backend), or on an io thread: pump here, as an
  // attempt's completion always did. Answered on the queue's own thread (Redis): that thread
  // must not wait on the queue, so an io thread pumps.
  if (settling_here > 0 || io_.get_executor().running_in_this_thread())
    pump();
  else
    post_pump();
}

// The lease is kept (no hand-out is spent: a hand-out counts as an attempt) and the delivery
// looked at again after the hold; only a lease too short for another hold goes back to the
// queue for later.
void Dispatcher::hold(Lease&& lease, int64_t now) {
  counters_.held_unknown++;
  const int64_t wait = options_.unknown_endpoint_hold_ms;
  if (!running_ || now + wait + options_.attempt_timeout.count() >= lease.deadline_ms) {
    settled(queue_.retry(lease, now + wait), lease);
    wake_at(now + wait);
    inflight_--;
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(wait));
  timer->async_wait([this, timer, lease = std::move(lease)](
                        const boost::system::error_code&) mutable { attempt(std::move(lease)); });
}

void Dispatcher::defer(Lease&& lease, int64_t at) {
  settle_then(
      [this, lease, at](Queue::Settled done) { queue_.defer_async(lease, at, std::move(done)); },
      lease, [this, at] { wake_at(at); }, [this] { release_slot(); });
}

void Dispatcher::gone(const QueuedDelivery& d) {
  if (!options_.disable_endpoint) return;
  auto snap = registry_.snapshot();  // disabled already (another attempt saw it): nothing to do
  if (const EndpointPtr* ep = snap->endpoints.find(d.endpoint_id);
      ep && (*ep)->endpoint.state.disabled)
    return;
  options_.disable_endpoint(d.tenant_id, d.endpoint_id, StateReason::kGone);
}

bool Dispatcher::settled(const Status& st, const Lease& lease) {
  if (st) return true;
  if (is_lease_lost(st.error())) {
    counters_.leases_lost++;
    log_lease_lost(*lease.delivery);  // its outcome is dropped: the delivery is another's now
  } else {
    spdlog::error("delivery {}: the queue refused its outcome: {}", lease.delivery->id,
                  st.error().message);
  }
  return false;
}

void Dispatcher::settle_then(SettleOp op, const Lease& lease, std::function<void()> on_settled,
                             std::function<void()> then) {
  auto retry = op;  // kept for a try again
  struct Here {     // marks this thread as inside the settle call while it runs
    Here() { settling_here++; }
    ~Here() { settling_here--; }
  } here;
  op([this, retry = std::move(retry), lease, on_settled = std::move(on_settled),
      then = std::move(then)](Status st) mutable {
    if (st) {
      if (on_settled) on_settled();
      if (then) then();
      return;
    }
    const bool unreachable =
        st.error().kind == ErrorKind::kUnavailable && !is_lease_lost(st.error());
    if (!unreachable || !running_ || clock_.now_ms() + kSettleRetryMs >= lease.deadline_ms) {
      settled(st, lease);
      if (then) then();
      return;
    }
    auto timer =
        std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(kSettleRetryMs));
    timer->async_wait([this, timer, retry = std::move(retry), lease,
                       on_settled = std::move(on_settled), st,
                       then = std::move(then)](const boost::system::error_code& ec) mutable {
      if (!ec) return settle_then(std::move(retry), lease, std::move(on_settled), std::move(then));
      settled(st, lease);  // the io context stops: given up, as settled() says
      if (then) then();
    });
  });
}

void Dispatcher::finish(Lease&& lease, const Outcome& outcome, const SendResult& result,
                        int64_t at_ms, std::function<void()> then) {
  const QueuedDelivery& d = *lease.delivery;
  const int attempt = lease.attempt();
  const bool sent = result.status != 0 || !result.error.empty();
  DeliveryUpdate u;
  if (sent)
    u.attempts.push_back(
        AttemptRecord{d.id, attempt, at_ms, result.duration.count(), result.status, outcome.error});
  DeliveryStatus status = DeliveryStatus::kPending;
  const int64_t now = clock_.now_ms();
  switch (outcome.verdict) {
    case Verdict::kDelivered:
      status = DeliveryStatus::kDelivered;
      counters_.delivered++;
      break;
    case Verdict::kDead:
      status = DeliveryStatus::kDead;
      counters_.dead++;
      u.dead_body = *d.body;  // kept for replay
      break;
    case Verdict::kRetry:
      counters_.retried++;
      break;
  }
  u.record = to_record(d, status, sent ? attempt : attempt - 1, now);
  u.record.last_error = outcome.error;
  // A lost lease drops the outcome, record included: the delivery is someone else's now.
  switch (outcome.verdict) {
    case Verdict::kDelivered: {
      if (queue_.record_before_ack()) {
        // The record first: the queue cannot tell afterwards what it no longer holds. The slot
        // stays taken until the ack is answered (drain waits for it), and the lane's slot in
        // the queue is free only then: pumped then.
        journal_.submit(std::move(u), [this, lease = std::move(lease), then = std::move(then)] {
          settle_then(
              [this, lease](Queue::Settled done) { queue_.ack_async(lease, std::move(done)); },
              lease, [lease] { log_delivered(*lease.delivery, lease.attempt()); },
              [this, then] {
                if (then) then();
                post_pump();
              });
        });
        break;
      }
      auto update = std::make_shared<DeliveryUpdate>(std::move(u));
      settle_then([this, lease](Queue::Settled done) { queue_.ack_async(lease, std::move(done)); },
                  lease,
                  [this, update, lease] {
                    journal_.submit(std::move(*update));
                    log_delivered(*lease.delivery, lease.attempt());
                  },
                  std::move(then));
      break;
    }
    case Verdict::kRetry: {
      const int64_t at = outcome.next_attempt_at_ms;
      u.record.next_attempt_at_ms = at;
      auto update = std::make_shared<DeliveryUpdate>(std::move(u));
      settle_then([this, lease,
                   at](Queue::Settled done) { queue_.retry_async(lease, at, std::move(done)); },
                  lease,
                  [this, update, at, lease] {
                    journal_.submit(std::move(*update));
                    wake_at(at);
                    log_retry_scheduled(*lease.delivery, lease.attempt(), at);
                  },
                  std::move(then));
      break;
    }
    case Verdict::kDead:
      // The dead letter first, durable; only then does the queue let go of the delivery.
      // The slot is free once the journal has the dead letter (as before settles were async).
      journal_.submit(std::move(u), [this, lease = std::move(lease), error = outcome.error] {
        settle_then(
            [this, lease](Queue::Settled done) { queue_.dead_async(lease, std::move(done)); },
            lease, [lease, error] { log_dead_lettered(*lease.delivery, lease.attempt(), error); },
            [this] { post_pump(); });
      });
      if (then) then();
      break;
  }
}

bool Dispatcher::drain(std::chrono::steady_clock::time_point deadline, bool whole_queue) {
  auto done = [&] { return inflight_.load() == 0 && (!whole_queue || queue_.stats().depth == 0); };
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    // Shutdown only: poll; the io threads keep delivering meanwhile.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

}  // namespace sealhook::delivery
