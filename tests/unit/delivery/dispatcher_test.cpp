// The dispatcher with real parts around it (memory queue, SQLite journal, retry policy) and a
// scripted Sender in place of the network, so every retry time is exact (ManualClock).
#include "delivery/dispatcher.hpp"

#include <gtest/gtest.h>

#include "queue/memory/memory_queue.hpp"

namespace sealhook::delivery {
namespace {

class ScriptedSender final : public Sender {
 public:
  void send(SendRequest request, std::function<void(SendResult)> done) override {
    sent.push_back(std::move(request));
    pending.push_back(std::move(done));
    in_flight_at_arrival.push_back(pending.size());
  }
  // Answers the oldest unanswered request.
  void answer(int status, std::optional<std::string> retry_after = std::nullopt) {
    auto done = std::move(pending.front());
    pending.erase(pending.begin());
    done(SendResult{status, "", std::move(retry_after), std::chrono::milliseconds(3)});
  }
  std::vector<SendRequest> sent;
  std::vector<std::function<void(SendResult)>> pending;
  std::vector<size_t> in_flight_at_arrival;  // per request sent: how many were unanswered
};

std::string header(const SendRequest& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store = std::move(make_store("sqlite::memory:").value());
    ASSERT_TRUE(store->insert_tenant(Tenant{"tn_1", "t", 1}, ApiKey{"ak_1", "tn_1", "h", 1}).ok());
    add_endpoint("ep_1", Ordering::kUnordered, 3);
    journal = std::make_unique<Journal>(*store, clock);
    dispatcher = std::make_unique<Dispatcher>(
        queue, sender, registry, *journal, policy, clock, io,
        DispatcherOptions{.max_inflight = 64,
                          .attempt_timeout = std::chrono::milliseconds(1000),
                          .lease_grace = std::chrono::milliseconds(500),
                          .default_max_attempts = 3,
                          .unknown_endpoint_hold_ms = 10,
                          .disabled_recheck_ms = 5000,
                          .disable_endpoint = [this](const std::string&, const std::string& ep,
                                                     StateReason reason) {
                            disables.push_back(ep + ":" + std::string(to_string(reason)));
                            return set_disabled(ep, true);
                          }});
    dispatcher->start();
  }

  // What the catalog does (CatalogService::set_endpoint_state): the endpoint in the snapshot
  // with its new state. Answers whether it changed.
  bool set_disabled(const std::string& id, bool disabled) {
    bool changed = false;
    EXPECT_TRUE(registry
                    .update([&](Snapshot& s) {
                      EndpointView next = **s.endpoints.find(id);
                      changed = next.endpoint.state.disabled != disabled;
                      next.endpoint.state.disabled = disabled;
                      s.endpoints.set(id, std::make_shared<const EndpointView>(std::move(next)));
                      return Status{};
                    })
                    .ok());
    return changed;
  }

  void add_endpoint(const std::string& id, Ordering ordering, int max_attempts) {
    Endpoint e;
    e.id = id;
    e.tenant_id = "tn_1";
    e.url = "http://192.0.2.1/hook";
    e.ordering = ordering;
    e.max_attempts = max_attempts;
    auto secret = crypto::SigningSecret::generate();
    e.secret = secret.to_string();
    ASSERT_TRUE(registry
                    .update([&](Snapshot& s) {
                      s.endpoints.set(id, std::make_shared<const EndpointView>(
                                              EndpointView{e, secret, std::nullopt}));
                      return Status{};
                    })
                    .ok());
  }

  void publish(const std::string& id, const std::string& endpoint, bool ordered = false) {
    QueuedDelivery d;
    d.id = id;
    d.tenant_id = "tn_1";
    d.endpoint_id = endpoint;
    d.event_id = "evt_" + id;
    d.event_type = "a";
    d.body = std::make_shared<const std::string>("jwe-" + id);
    d.ordered = ordered;
    d.not_before_ms = d.published_at_ms = clock.now_ms();
    ASSERT_TRUE(queue.push({d}).ok());
    run_posted();  // the ready listener posted a pump
  }

  // Runs what was posted to the io_context (pumps, timer arming), not waiting for timers.
  // A dispatcher of its own on `q` (a queue wrapping the fixture's), started.
  std::unique_ptr<Dispatcher> on_deferred(Queue& q) {
    auto d = std::make_unique<Dispatcher>(
        q, sender, registry, *journal, policy, clock, io,
        DispatcherOptions{.max_inflight = 64,
                          .attempt_timeout = std::chrono::milliseconds(1000),
                          .lease_grace = std::chrono::milliseconds(500)});
    d->start();
    return d;
  }

  void run_posted() {
    io.restart();
    io.poll();
  }

  // Runs the io_context (real timers: a held delivery's) until `done`, within a deadline.
  template <class F>
  void run_until(F done) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "condition never met";
      io.restart();
      io.run_one_for(std::chrono::milliseconds(20));
    }
  }

  DeliveryRecord record(const std::string& id) {
    journal->flush();
    return store->get_delivery("tn_1", id).value().value();
  }

  ManualClock clock{1'700'000'000'000};
  MemoryQueue queue{QueueOptions{.capacity = 5000, .max_inflight_per_endpoint = 64}, clock};
  ScriptedSender sender;
  Registry registry;
  std::unique_ptr<Store> store;
  std::unique_ptr<Journal> journal;
  RetryPolicy policy{{.base_ms = 1000, .max_delay_ms = 60'000, .jitter = 0.2}, [] { return 0.0; }};
  boost::asio::io_context io;  // polled by hand: the tests drive the clock and the pumps
  std::unique_ptr<Dispatcher> dispatcher;
  std::vector<std::string> disables;  // the disable hook's calls, "endpoint:reason"
};

TEST_F(DispatcherTest, RetriesAtTheExactBackoffThenDelivers) {
  publish("msg_a", "ep_1");
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(*sender.sent[0].body, "jwe-msg_a");
  sender.answer(500);
  clock.advance_ms(999);
  dispatcher->pump();
  EXPECT_EQ(sender.sent.size(), 1u);  // 1 s backoff not over yet
  clock.advance_ms(1);
  dispatcher->pump();
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(header(sender.sent[1], "webhook-id"), "msg_a");  // same id on every retry
  sender.answer(200);
  auto rec = record("msg_a");
  EXPECT_EQ(rec.status, DeliveryStatus::kDelivered);
  EXPECT_EQ(rec.attempts, 2);
  auto attempts = store->get_attempts("msg_a").value();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].status_code, 500);
  EXPECT_EQ(attempts[1].status_code, 200);
  EXPECT_EQ(dispatcher->inflight(), 0u);
  EXPECT_EQ(queue.stats().depth, 0u);
}

TEST_F(DispatcherTest, GoneDisablesTheEndpointAndItsDeliveriesWaitWithoutSpendingAttempts) {
  publish("msg_a", "ep_1");  // max_attempts 3
  publish("msg_x", "ep_1");
  ASSERT_EQ(sender.sent.size(), 2u);
  sender.answer(410);
  sender.answer(410);  // both in flight saw it: disabled once
  EXPECT_EQ(disables, std::vector<std::string>{"ep_1:gone"});
  EXPECT_EQ(record("msg_a").status, DeliveryStatus::kPending);
  EXPECT_EQ(record("msg_a").attempts, 1);
  publish("msg_b", "ep_1");  // queued before the disable reached its publisher
  // Ten minutes disabled, far past three attempts' backoff: nothing is sent, nothing spent.
  for (int i = 0; i < 120; ++i) {
    clock.advance_ms(5000);
    dispatcher->pump();
    run_posted();
  }
  EXPECT_EQ(sender.sent.size(), 2u);
  EXPECT_GE(dispatcher->counters().deferred_disabled.load(), 3u * 100);
  EXPECT_EQ(record("msg_a").status, DeliveryStatus::kPending);
  EXPECT_EQ(queue.stats().depth, 3u);
  // Enabled again: within the recheck time each goes, making the attempt it would have made.
  set_disabled("ep_1", false);
  clock.advance_ms(5000);
  dispatcher->pump();
  run_posted();
  ASSERT_EQ(sender.sent.size(), 5u);
  for (int i = 0; i < 3; ++i) sender.answer(200);
  EXPECT_EQ(record("msg_a").status, DeliveryStatus::kDelivered);
  EXPECT_EQ(record("msg_a").attempts, 2);
  EXPECT_EQ(record("msg_x").attempts, 2);
  EXPECT_EQ(record("msg_b").attempts, 1);
  EXPECT_EQ(queue.stats().depth, 0u);
}

TEST_F(DispatcherTest, DeadLettersAfterMaxAttemptsKeepingTheCiphertext) {
  publish("msg_b", "ep_1");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(sender.sent.size(), static_cast<size_t>(i + 1));
    sender.answer(503);
    clock.advance_ms(60'000);
    dispatcher->pump();
  }
  EXPECT_EQ(sender.sent.size(), 3u);
  EXPECT_EQ(record("msg_b").status, DeliveryStatus::kDead);
  auto letter = store->get_dead_letter("tn_1", "msg_b").value();
  ASSERT_TRUE(letter.has_value());
  EXPECT_EQ(letter->body, "jwe-msg_b");
}

TEST_F(DispatcherTest, HonoursRetryAfter) {
  publish("msg_c", "ep_1");
  sender.answer(429, "30");
  clock.advance_ms(29'999);
  dispatcher->pump();
  EXPECT_EQ(sender.sent.size(), 1u);
  clock.advance_ms(1);
  dispatcher->pump();
  EXPECT_EQ(sender.sent.size(), 2u);
}

// The clock starts at 1700000000 s, Tue, 14 Nov 2023 22:13:20 GMT; each form asks for 20 s more.
TEST_F(DispatcherTest, HonoursRetryAfterAsAnHttpDateInEachForm) {
  int n = 0;
  for (const char* date : {"Tue, 14 Nov 2023 22:13:40 GMT", "Tuesday, 14-Nov-23 22:14:00 GMT",
                           "Tue Nov 14 22:14:20 2023"}) {
    publish("msg_d" + std::to_string(n), "ep_1");
    ASSERT_EQ(sender.sent.size(), static_cast<size_t>(2 * n + 1)) << date;
    sender.answer(503, date);
    clock.advance_ms(19'999);
    dispatcher->pump();
    EXPECT_EQ(sender.sent.size(), static_cast<size_t>(2 * n + 1)) << date;  // backoff: 1 s
    clock.advance_ms(1);
    dispatcher->pump();
    ASSERT_EQ(sender.sent.size(), static_cast<size_t>(2 * n + 2)) << date;
    sender.answer(200);
    ++n;
  }
}

// A date further away than the max delay (60 s here) waits the max delay.
TEST_F(DispatcherTest, RetryAfterDateIsBoundedByTheMaxDelay) {
  publish("msg_e", "ep_1");
  sender.answer(429, "Wed, 15 Nov 2023 22:13:20 GMT");  // a day away
  clock.advance_ms(60'000);
  dispatcher->pump();
  EXPECT_EQ(sender.sent.size(), 2u);
}

TEST_F(DispatcherTest, OrderedEndpointWaitsForItsHead) {
  add_endpoint("ep_o", Ordering::kOrdered, 5);
  publish("msg_1", "ep_o", true);
  publish("msg_2", "ep_o", true);
  publish("msg_x", "ep_1");  // another endpoint is not held up
  ASSERT_EQ(sender.sent.size(), 2u);
  EXPECT_EQ(header(sender.sent[0], "webhook-id"), "msg_1");
  EXPECT_EQ(header(sender.sent[1], "webhook-id"), "msg_x");
  sender.answer(500);  // msg_1 fails
  sender.answer(200);  // msg_x delivered
  clock.advance_ms(1000);
  dispatcher->pump();
  ASSERT_EQ(sender.sent.size(), 3u);
  EXPECT_EQ(header(sender.sent[2], "webhook-id"), "msg_1");  // the head again, not msg_2
  sender.answer(200);
  ASSERT_EQ(sender.sent.size(), 4u);  // completion pumped the next one
  EXPECT_EQ(header(sender.sent[3], "webhook-id"), "msg_2");
}

TEST_F(DispatcherTest, LeaseThatKeepsExpiringEndsInTheDlqWithoutLooping) {
  publish("msg_p", "ep_1");  // max_attempts 3; the receiver never answers, nobody settles
  for (int handout = 1; handout <= 3; ++handout) {
    ASSERT_EQ(sender.sent.size(), static_cast<size_t>(handout));
    clock.advance_ms(1501);  // past the lease: attempt timeout 1000 + grace 500
    dispatcher->pump();
  }
  EXPECT_EQ(sender.sent.size(), 3u);  // the 4th hand-out is not sent: it is dead-lettered
  auto rec = record("msg_p");
  EXPECT_EQ(rec.status, DeliveryStatus::kDead);
  EXPECT_NE(rec.last_error.find("handed out 3 times"), std::string::npos) << rec.last_error;
  EXPECT_TRUE(store->get_dead_letter("tn_1", "msg_p").value().has_value());
  // The stale attempts answer at last: their leases are lost, their outcomes dropped.
  for (int i = 0; i < 3; ++i) sender.answer(200);
  EXPECT_EQ(dispatcher->counters().leases_lost.load(), 3u);
  EXPECT_EQ(record("msg_p").status, DeliveryStatus::kDead);
  run_posted();
  EXPECT_EQ(queue.stats().depth, 0u);
}

TEST_F(DispatcherTest, DeletedEndpointDeadLettersWithoutSending) {
  publish("msg_d", "ep_gone");
  EXPECT_TRUE(sender.sent.empty());
  auto rec = record("msg_d");
  EXPECT_EQ(rec.status, DeliveryStatus::kDead);
  EXPECT_EQ(rec.last_error, "endpoint deleted");
}

// Published through another process to an endpoint created there after this catalog's last
// check: held for the feed with its lease (no attempt spent), never dead-lettered, and sent
// once the endpoint is loaded.
TEST_F(DispatcherTest, UnknownEndpointIsHeldUntilTheCatalogLoadsIt) {
  registry.set_synced_at_ms(clock.now_ms() - 1);  // the last check began before the publish
  publish("msg_u", "ep_new");
  EXPECT_TRUE(sender.sent.empty());
  EXPECT_EQ(dispatcher->counters().held_unknown.load(), 1u);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0u);
  EXPECT_EQ(queue.stats().depth, 1u);
  // Still unknown at the next look (no check since): held again.
  run_until([&] { return dispatcher->counters().held_unknown.load() >= 2; });
  EXPECT_TRUE(sender.sent.empty());
  add_endpoint("ep_new", Ordering::kUnordered, 3);  // the feed's next check loads it
  registry.set_synced_at_ms(clock.now_ms());
  run_until([&] { return !sender.sent.empty(); });
  ASSERT_EQ(sender.sent.size(), 1u);
  EXPECT_EQ(header(sender.sent[0], "webhook-id"), "msg_u");
  sender.answer(200);
  auto rec = record("msg_u");
  EXPECT_EQ(rec.status, DeliveryStatus::kDelivered);
  EXPECT_EQ(rec.attempts, 1);  // the holds spent none
}

// Still unknown after a check that began after the publish: the endpoint is gone.
TEST_F(DispatcherTest, UnknownEndpointStillUnknownAfterACheckIsDeadLettered) {
  registry.set_synced_at_ms(clock.now_ms() - 1);
  publish("msg_g", "ep_gone");
  EXPECT_EQ(dispatcher->counters().held_unknown.load(), 1u);
  clock.advance_ms(100);
  registry.set_synced_at_ms(clock.now_ms());
  run_until([&] { return dispatcher->counters().dead.load() == 1; });
  EXPECT_TRUE(sender.sent.empty());
  auto rec = record("msg_g");
  EXPECT_EQ(rec.status, DeliveryStatus::kDead);
  EXPECT_EQ(rec.last_error, "endpoint deleted");
}

// A networked backend's asynchronous answers, played by hand: settles and leases on the
// memory queue, each answered only when the test says (not on an io thread, not inside the
// call), or refused as unreachable.
class DeferredQueue final : public Queue {
 public:
  explicit DeferredQueue(Queue& inner) : q(inner) {}
  Status push(std::vector<QueuedDelivery>&& b) override { return q.push(std::move(b)); }
  std::vector<Lease> lease(int64_t now, size_t max, int64_t ms) override {
    return q.lease(now, max, ms);
  }
  void lease_async(int64_t now, size_t max, int64_t ms, Leased done) override {
    deferred.push_back([=, this] { done(q.lease(now, max, ms)); });
  }
  Status ack(const Lease& l) override { return q.ack(l); }
  Status retry(const Lease& l, int64_t at) override { return q.retry(l, at); }
  Status defer(const Lease& l, int64_t at) override { return q.defer(l, at); }
  Status dead(const Lease& l) override { return q.dead(l); }
  Status extend(const Lease& l, int64_t at) override { return q.extend(l, at); }
  void ack_async(const Lease& l, Settled done) override {
    acks++;
    if (refuse > 0) {
      refuse--;
      deferred.push_back([done] {
        done(make_error(ErrorKind::kUnavailable, "queue_unavailable", "down for the test"));
      });
      return;
    }
    deferred.push_back([=, this] { done(q.ack(l)); });
  }
  Status set_ordering(const EndpointOrdering& o) override { return q.set_ordering(o); }
  std::vector<EndpointOrdering> orderings() const override { return q.orderings(); }
  void close() override { q.close(); }
  void set_ready_listener(std::function<void()> l) override { q.set_ready_listener(l); }
  std::optional<int64_t> next_due_ms() const override { return q.next_due_ms(); }
  QueueStats stats() const override { return q.stats(); }
  Status ping() override { return q.ping(); }
  Result<std::vector<std::string>> holding(const std::vector<std::string>& ids) override {
    return q.holding(ids);
  }
  bool durable() const override { return q.durable(); }
  // Answers everything deferred so far, in order; how many.
  size_t release() {
    auto now = std::move(deferred);
    deferred.clear();
    for (auto& f : now) f();
    return now.size();
  }

  Queue& q;
  std::vector<std::function<void()>> deferred;
  int refuse = 0;  // the next this many acks are refused as unreachable
  int acks = 0;
};

TEST_F(DispatcherTest, AsyncSettleHoldsItsSlotAndDrainWaitsForIt) {
  dispatcher->stop();
  DeferredQueue deferred(queue);
  auto owned = on_deferred(deferred);
  Dispatcher& d = *owned;
  publish("msg_s", "ep_1");
  run_posted();
  EXPECT_TRUE(sender.sent.empty());  // the lease is not answered yet
  EXPECT_EQ(deferred.release(), 1u);
  run_posted();
  ASSERT_EQ(sender.sent.size(), 1u);  // answered off the io thread: the attempt was posted
  sender.answer(200);
  EXPECT_EQ(deferred.acks, 1);
  EXPECT_EQ(d.inflight(), 1u);  // the slot is held until the queue has the outcome
  EXPECT_FALSE(d.drain(std::chrono::steady_clock::now() + std::chrono::milliseconds(50), false));
  EXPECT_GE(deferred.release(), 1u);  // the ack (and a lease call a pump asked for meanwhile)
  EXPECT_EQ(d.inflight(), 0u);
  EXPECT_TRUE(d.drain(std::chrono::steady_clock::now(), false));
  EXPECT_EQ(record("msg_s").status, DeliveryStatus::kDelivered);
  EXPECT_EQ(queue.stats().depth, 0u);
  d.stop();
}

TEST_F(DispatcherTest, AsyncAckRefusedAsUnreachableIsTriedAgainNotDropped) {
  dispatcher->stop();
  DeferredQueue deferred(queue);
  auto owned = on_deferred(deferred);
  Dispatcher& d = *owned;
  publish("msg_r", "ep_1");
  deferred.release();
  run_posted();
  ASSERT_EQ(sender.sent.size(), 1u);
  deferred.refuse = 1;
  sender.answer(200);
  deferred.release();  // refused: tried again in 250 ms (a real timer)
  run_until([&] { return deferred.acks == 2; });
  EXPECT_EQ(d.inflight(), 1u);
  deferred.release();
  EXPECT_EQ(d.inflight(), 0u);
  EXPECT_EQ(record("msg_r").status, DeliveryStatus::kDelivered);
  EXPECT_EQ(d.counters().leases_lost.load(), 0u);
  d.stop();
}

// A receiver that answers 503 to a request that arrives while more than 4 are in flight, each
// answer 5 ms after the one before: adaptive concurrency settles near 4 in flight, and nothing
// is dead-lettered (the 503s are retried, the deliveries over the limit wait unspent). Then the
// same receiver never overloaded: the limit climbs back to its maximum, 64.
TEST_F(DispatcherTest, AdaptiveConcurrencySettlesNearWhatTheReceiverTakesAndClimbsBack) {
  add_endpoint("ep_c", Ordering::kUnordered, 6);
  constexpr int kEvents = 600;
  for (int i = 0; i < kEvents; ++i) publish("c" + std::to_string(i), "ep_c");
  size_t answered = 0, overloaded = 0;
  // Answers the oldest request: 503 if it arrived with more than `capacity` in flight.
  auto answer_oldest = [&](size_t capacity) {
    const size_t at_arrival =
        sender.in_flight_at_arrival[sender.sent.size() - sender.pending.size()];
    const bool over = at_arrival > capacity;
    overloaded += over ? 1 : 0;
    answered++;
    clock.advance_ms(5);
    sender.answer(over ? 503 : 200);
  };
  auto drive = [&](size_t capacity, auto done) {
    for (int step = 0; step < 200'000 && !done(); ++step) {
      if (!sender.pending.empty()) {
        answer_oldest(capacity);
      } else {  // nothing in flight: time passes to the next retry or recheck
        clock.advance_ms(50);
        dispatcher->pump();
      }
      run_posted();
    }
  };
  auto delivered = [&] { return dispatcher->counters().delivered.load(); };
  drive(4, [&] { return delivered() == kEvents; });
  ASSERT_EQ(delivered(), kEvents);
  EXPECT_EQ(dispatcher->counters().dead.load(), 0u);
  // After the first rounds (64 at once, then 32, 16, 8), the requests arrive near 4 in flight:
  // the later half's arrivals average between 2 and 5, and few were refused.
  const auto& seen = sender.in_flight_at_arrival;
  const size_t half = seen.size() / 2;
  double sum = 0;
  size_t over = 0;
  for (size_t i = half; i < seen.size(); ++i) {
    sum += static_cast<double>(seen[i]);
    over += seen[i] > 4 ? 1 : 0;
  }
  const double mean = sum / static_cast<double>(seen.size() - half);
  // AIMD probes: each climb past 4 costs a refusal or two, then the limit halves.
  EXPECT_GE(mean, 2.5);
  EXPECT_LE(mean, 5.0);
  EXPECT_LT(static_cast<double>(over), static_cast<double>(seen.size() - half) / 3)
      << "of " << seen.size() - half << " later requests, " << over << " arrived over 4";
  EXPECT_LE(*std::max_element(seen.begin() + static_cast<ptrdiff_t>(half), seen.end()), 8u);
  EXPECT_GT(dispatcher->counters().deferred_concurrency.load(), 0u);
  EXPECT_EQ(queue.stats().depth, 0u);
  // Now it takes everything: the limit climbs back to 64, one a round of fast 2xx (from 4, some
  // 2,000 of them).
  const uint64_t before = delivered();
  for (int i = 0; i < 2500; ++i) publish("d" + std::to_string(i), "ep_c");
  size_t most = 0;
  drive(1000, [&] {
    most = std::max(most, sender.pending.size());
    return delivered() == before + 2500;
  });
  EXPECT_EQ(delivered(), before + 2500);
  EXPECT_EQ(most, 64u);
  EXPECT_EQ(dispatcher->concurrency().limit("ep_c"), 64);
  EXPECT_EQ(dispatcher->concurrency().reduced(), 0u);
  auto limits = dispatcher->counters().concurrency_limit.snapshot();
  EXPECT_EQ(limits.count, dispatcher->counters().attempts.load());  // one per attempt
}

}  // namespace
}  // namespace sealhook::delivery
