// The queue contract over every backend: memory, sqlite and redis (kafka joins here).
#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "contract/queue_backends.hpp"

namespace sealhook::contract {
namespace {

using Ids = std::vector<std::string>;

TEST_P(QueueContract, LeasedDeliveryIsAckedOnceThenTheLeaseIsLost) {
  ASSERT_TRUE(q->push({make("a", "e1"), make("b", "e2")}).ok());
  auto got = lease_n(2);
  ASSERT_EQ(got.size(), 2u);
  for (const auto& l : got) {
    EXPECT_EQ(l.handouts, 1);
    EXPECT_EQ(l.attempt(), 1);
    EXPECT_EQ(*l.delivery->body, "cipher-" + l.delivery->id);
    EXPECT_GT(l.deadline_ms, clock.now_ms());
  }
  EXPECT_NE(got[0].token, got[1].token);
  EXPECT_EQ(q->stats().leased, 2u);
  ASSERT_TRUE(q->ack(got[0]).ok());
  ASSERT_TRUE(q->dead(got[1]).ok());
  Status again = q->ack(got[0]);
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(is_lease_lost(again.error()));
  EXPECT_TRUE(is_lease_lost(q->retry(got[1], clock.now_ms()).error()));
  EXPECT_EQ(q->stats().depth, 0u);
  EXPECT_TRUE(lease_quiet().empty());
}

TEST_P(QueueContract, FullQueueRefusesTheWholeBatch) {
  std::vector<QueuedDelivery> batch;
  for (int i = 0; i < 8; ++i)
    batch.push_back(make("m" + std::to_string(i), "ep" + std::to_string(i)));
  ASSERT_TRUE(q->push(std::move(batch)).ok());
  Status s = q->push({make("x0", "epx"), make("x1", "epx"), make("x2", "epx")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(s.error().code, "queue_full");
  EXPECT_EQ(q->stats().depth, 8u);  // nothing of the refused batch entered
  auto got = lease_n(8);
  EXPECT_EQ(got.size(), 8u);
  for (const auto& id : ids(got)) EXPECT_EQ(id[0], 'm');
  EXPECT_TRUE(lease_quiet().empty());
}

// A body of `n` bytes for deliveries to `endpoints` of one tenant: one ciphertext, shared.
std::vector<QueuedDelivery> sharing(const std::string& id, size_t n, int endpoints) {
  auto body = std::make_shared<const std::string>(n, 'c');
  std::vector<QueuedDelivery> batch;
  for (int i = 0; i < endpoints; ++i) {
    QueuedDelivery d;
    d.id = id + "-" + std::to_string(i);
    d.tenant_id = "tn";
    d.endpoint_id = id + "-ep" + std::to_string(i);
    d.event_id = "evt_" + id;
    d.event_type = "a";
    d.body = body;
    batch.push_back(std::move(d));
  }
  return batch;
}

TEST_P(QueueContract, BytesAreBoundedAndASharedBodyCountsOnce) {
  open(QueueOptions{.capacity = 100, .max_bytes = 100, .max_inflight_per_endpoint = 2});
  ASSERT_TRUE(q->push(sharing("s", 40, 3)).ok());  // three deliveries, one 40-byte body
  ASSERT_TRUE(q->push(sharing("b", 50, 1)).ok());
  EXPECT_EQ(q->stats().bytes, 90u);
  EXPECT_EQ(q->stats().max_bytes, 100u);
  Status s = q->push(sharing("x", 20, 1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, "queue_full");
  EXPECT_EQ(q->stats().depth, 4u);  // nothing of the refused push entered
  EXPECT_EQ(q->stats().bytes, 90u);

  auto got = lease_n(4);
  ASSERT_EQ(got.size(), 4u);
  std::vector<Lease> shared;
  for (auto& l : got) {
    if (l.delivery->event_id == "evt_b")
      ASSERT_TRUE(q->retry(l, clock.now_ms() + 1000).ok());  // still held, bytes and all
    else
      shared.push_back(l);
  }
  ASSERT_EQ(shared.size(), 3u);
  ASSERT_TRUE(q->ack(shared[0]).ok());
  ASSERT_TRUE(q->dead(shared[1]).ok());
  EXPECT_EQ(q->stats().bytes, 90u);  // one delivery still holds the shared body
  ASSERT_TRUE(q->ack(shared[2]).ok());
  EXPECT_EQ(q->stats().bytes, 50u);  // its last delivery took it (the leases still live)
  ASSERT_TRUE(q->push(sharing("x", 20, 1)).ok());
  EXPECT_EQ(q->stats().bytes, 70u);
  if (GetParam().durable) {
    reopen();
    EXPECT_EQ(q->stats().bytes, 70u);  // recovered from the file
    EXPECT_FALSE(q->push(sharing("y", 31, 1)).ok());
  }
}

TEST_P(QueueContract, UnorderedEndpointIsBoundedByItsConcurrency) {
  ASSERT_TRUE(q->push({make("a", "ep"), make("b", "ep"), make("c", "ep")}).ok());
  auto first = lease_n(2);
  EXPECT_EQ(ids(first), (Ids{"a", "b"}));
  EXPECT_TRUE(lease_quiet().empty());  // two out: c waits
  ASSERT_TRUE(q->ack(first[0]).ok());
  EXPECT_EQ(ids(lease_n(1)), Ids{"c"});
}

// One lane handing out several deliveries in one lease() call, over several calls that each
// stop at their `max` (a redis lease call once lost such a lane from its rotation when it
// stopped at max: what remained of the lane was never handed out).
TEST_P(QueueContract, ALaneServedSeveralTimesPerCallKeepsItsTurn) {
  open(QueueOptions{.capacity = 100, .max_inflight_per_endpoint = 8});
  std::vector<QueuedDelivery> batch;
  for (int i = 0; i < 7; ++i) batch.push_back(make("d" + std::to_string(i), "ep"));
  ASSERT_TRUE(q->push(std::move(batch)).ok());
  std::vector<Lease> got;
  for (int call = 0; call < 3; ++call) {
    auto part = lease_n(2);
    ASSERT_EQ(part.size(), 2u) << "call " << call;
    got.insert(got.end(), part.begin(), part.end());
  }
  auto last = lease_n(1);
  ASSERT_EQ(last.size(), 1u);
  got.push_back(last[0]);
  EXPECT_EQ(ids(got), (Ids{"d0", "d1", "d2", "d3", "d4", "d5", "d6"}));
  for (const auto& l : got) ASSERT_TRUE(q->ack(l).ok());
  EXPECT_TRUE(lease_quiet().empty());
  EXPECT_EQ(q->stats().depth, 0u);
}

// A tenant whose endpoints hang (leases never settled) holds only its cap; another tenant's
// deliveries still go at once.
TEST_P(QueueContract, ATenantHoldsOnlyItsShareAndOtherTenantsGoOn) {
  open(QueueOptions{.capacity = 100, .max_inflight_per_endpoint = 2, .max_inflight_per_tenant = 4});
  std::vector<QueuedDelivery> batch;
  for (int e = 0; e < 4; ++e)
    for (int i = 0; i < 3; ++i) {
      auto d = make("s" + std::to_string(e) + std::to_string(i), "slow-" + std::to_string(e));
      d.tenant_id = "slow";
      batch.push_back(std::move(d));
    }
  ASSERT_TRUE(q->push(std::move(batch)).ok());
  auto slow = lease_n(4);
  ASSERT_EQ(slow.size(), 4u);
  std::set<std::string> lanes;
  for (const auto& l : slow) lanes.insert(l.delivery->endpoint_id);
  EXPECT_GE(lanes.size(), 2u);         // no endpoint over its own bound of 2
  EXPECT_TRUE(lease_quiet().empty());  // the tenant is at its cap: 8 wait
  auto f1 = make("f1", "fast-ep"), f2 = make("f2", "fast-ep");
  f1.tenant_id = f2.tenant_id = "fast";
  ASSERT_TRUE(q->push({f1, f2}).ok());
  EXPECT_EQ(ids(lease_n(2)), (Ids{"f1", "f2"}));  // not behind the hanging tenant
  // One of the slow tenant's leases settles: exactly one more of its deliveries goes.
  ASSERT_TRUE(q->ack(slow[0]).ok());
  auto next = lease_n(1);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].delivery->tenant_id, "slow");
  EXPECT_TRUE(lease_quiet().empty());
  // An expired lease gives its slot back too.
  clock.advance_ms(60'001);
  EXPECT_EQ(lease_n(4).size(), 4u);
}

// Fairness: one endpoint's backlog delays no other endpoint, of its tenant or another. Lanes
// take turns (one delivery per lane per turn), so what is pushed after 20,000 deliveries for
// one endpoint is in the first hand-outs, not behind them.
TEST_P(QueueContract, ABigBacklogOfOneEndpointDelaysNoOther) {
  constexpr int kBacklog = 20'000;
  open(QueueOptions{.capacity = kBacklog + 10, .max_inflight_per_endpoint = 2});
  for (int b = 0; b < kBacklog / 1000; ++b) {
    std::vector<QueuedDelivery> batch;
    for (int i = 0; i < 1000; ++i)
      batch.push_back(make("big" + std::to_string(b * 1000 + i), "big"));
    ASSERT_TRUE(q->push(std::move(batch)).ok());
  }
  auto same_tenant = make("mine", "small");
  auto other_tenant = make("theirs", "their-ep");
  other_tenant.tenant_id = "tn-2";
  ASSERT_TRUE(q->push({same_tenant, other_tenant}).ok());
  // At most the big endpoint's bound of 2, then one each for the two other lanes.
  auto first = ids(lease_n(4));
  std::set<std::string> got(first.begin(), first.end());
  EXPECT_TRUE(got.contains("mine"));
  EXPECT_TRUE(got.contains("theirs"));
  EXPECT_EQ(q->stats().depth, static_cast<size_t>(kBacklog + 2));
}

TEST_P(QueueContract, RetryWaitsForItsTimeWhileLaterDeliveriesGoOn) {
  ASSERT_TRUE(q->push({make("a", "ep"), make("b", "ep"), make("c", "ep")}).ok());
  auto got = lease_n(1);
  ASSERT_EQ(ids(got), Ids{"a"});
  ASSERT_TRUE(q->retry(got[0], clock.now_ms() + 1000).ok());
  auto next = lease_n(2);
  auto next_ids = ids(next);
  EXPECT_EQ(std::set<std::string>(next_ids.begin(), next_ids.end()),
            (std::set<std::string>{"b", "c"}));
  for (auto& l : next) ASSERT_TRUE(q->ack(l).ok());
  // A local backend counts its scheduled retry (/metrics) until its time; a shared one's stats()
  // count theirs.
  auto expect_scheduled = [&](size_t n) {
    if (auto scheduled = q->count_scheduled(clock.now_ms())) {
      EXPECT_EQ(*scheduled, n);
    }
  };
  expect_scheduled(1);
  clock.advance_ms(999);
  EXPECT_TRUE(lease_quiet().empty());
  expect_scheduled(1);
  clock.advance_ms(1);
  expect_scheduled(0);
  auto again = lease_n(1);
  ASSERT_EQ(ids(again), Ids{"a"});
  EXPECT_EQ(again[0].handouts, 2);
  expect_scheduled(0);
}

// A disabled endpoint's deliveries wait this way however long it stays disabled: each deferral
// gives its hand-out back, so the next hand-out makes the same attempt (none is spent), and an
// ordered head stays the head.
TEST_P(QueueContract, DeferredDeliveryComesBackAtItsTimeWithItsHandOutGivenBack) {
  ASSERT_TRUE(q->push({make("a", "ep"), make("o1", "oep", true), make("o2", "oep", true)}).ok());
  auto got = lease_n(2);
  auto v = ids(got);
  ASSERT_EQ(std::set<std::string>(v.begin(), v.end()), (std::set<std::string>{"a", "o1"}));
  for (int round = 1; round <= 3; ++round) {
    for (auto& l : got) {
      EXPECT_EQ(l.handouts, 1) << l.delivery->id << " round " << round;
      EXPECT_EQ(l.attempt(), 1) << l.delivery->id << " round " << round;
      ASSERT_TRUE(q->defer(l, clock.now_ms() + 1000).ok());
    }
    EXPECT_TRUE(is_lease_lost(q->defer(got[0], clock.now_ms() + 1000).error()));
    clock.advance_ms(999);
    EXPECT_TRUE(lease_quiet().empty()) << "round " << round;  // o2 waits behind its head
    clock.advance_ms(1);
    got = lease_n(2);
    v = ids(got);
    ASSERT_EQ(std::set<std::string>(v.begin(), v.end()), (std::set<std::string>{"a", "o1"}))
        << "round " << round;
  }
  // A retry after deferrals counts from the same attempt: the deferrals spent none.
  for (auto& l : got) {
    if (l.delivery->id == "a")
      ASSERT_TRUE(q->retry(l, clock.now_ms()).ok());
    else
      ASSERT_TRUE(q->ack(l).ok());
  }
  auto next = lease_n(2);
  v = ids(next);
  ASSERT_EQ(std::set<std::string>(v.begin(), v.end()), (std::set<std::string>{"a", "o2"}));
  for (auto& l : next) EXPECT_EQ(l.handouts, l.delivery->id == "a" ? 2 : 1) << l.delivery->id;
}

TEST_P(QueueContract, OrderedHeadBlocksOnlyItsOwnEndpoint) {
  ASSERT_TRUE(q->push({make("o1", "ordered", true), make("o2", "ordered", true),
                       make("u1", "other"), make("u2", "other")})
                  .ok());
  auto got = lease_n(3);
  auto v = ids(got);
  EXPECT_EQ(std::set<std::string>(v.begin(), v.end()), (std::set<std::string>{"o1", "u1", "u2"}));
  EXPECT_TRUE(lease_quiet().empty());  // o2 waits behind o1
  for (auto& l : got) {
    if (l.delivery->id == "o1")
      ASSERT_TRUE(q->retry(l, clock.now_ms() + 5000).ok());
    else
      ASSERT_TRUE(q->ack(l).ok());
  }
  ASSERT_TRUE(q->push({make("u3", "other")}).ok());
  EXPECT_EQ(ids(lease_n(1)), Ids{"u3"});
  EXPECT_TRUE(lease_quiet().empty());  // o2 still blocked by its waiting head
  clock.advance_ms(5000);
  auto again = lease_n(1);
  ASSERT_EQ(ids(again), Ids{"o1"});  // the head again, not o2
  EXPECT_EQ(again[0].handouts, 2);
  ASSERT_TRUE(q->ack(again[0]).ok());
  EXPECT_EQ(ids(lease_n(1)), Ids{"o2"});
}

TEST_P(QueueContract, ExpiredLeaseIsReclaimedAndItsAckIsLost) {
  ASSERT_TRUE(q->push({make("a", "ep")}).ok());
  auto first = lease_n(1, 1000);
  ASSERT_EQ(first.size(), 1u);
  clock.advance_ms(999);
  EXPECT_TRUE(lease_quiet().empty());
  clock.advance_ms(2);
  auto second = lease_n(1, 1000);
  ASSERT_EQ(ids(second), Ids{"a"});
  EXPECT_EQ(second[0].handouts, 2);  // every hand-out counts
  EXPECT_NE(second[0].token, first[0].token);
  Status late = q->ack(first[0]);
  ASSERT_FALSE(late.ok());
  EXPECT_TRUE(is_lease_lost(late.error()));
  EXPECT_TRUE(is_lease_lost(q->extend(first[0], clock.now_ms() + 5000).error()));
  ASSERT_TRUE(q->ack(second[0]).ok());
  EXPECT_EQ(q->stats().depth, 0u);
}

TEST_P(QueueContract, ExtendedLeaseDoesNotExpire) {
  ASSERT_TRUE(q->push({make("a", "ep")}).ok());
  auto got = lease_n(1, 1000);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(q->extend(got[0], clock.now_ms() + 10'000).ok());
  clock.advance_ms(5000);
  EXPECT_TRUE(lease_quiet().empty());
  ASSERT_TRUE(q->ack(got[0]).ok());
}

TEST_P(QueueContract, HandOutsAreCountedAcrossExpiries) {
  ASSERT_TRUE(q->push({make("poison", "ep")}).ok());
  for (int n = 1; n <= 4; ++n) {
    auto got = lease_n(1, 100);
    ASSERT_EQ(got.size(), 1u) << n;
    EXPECT_EQ(got[0].handouts, n);
    clock.advance_ms(101);  // the worker "died": nobody settles
  }
}

TEST_P(QueueContract, ExpiredOrderedHeadComesBackAsTheHead) {
  ASSERT_TRUE(q->push({make("o1", "ep", true), make("o2", "ep", true)}).ok());
  auto got = lease_n(1, 100);
  ASSERT_EQ(ids(got), Ids{"o1"});
  clock.advance_ms(101);
  auto again = lease_n(1, 100);
  EXPECT_EQ(ids(again), Ids{"o1"});
  EXPECT_TRUE(lease_quiet().empty());
}

TEST_P(QueueContract, FutureDeliveryWaitsUntilDue) {
  ASSERT_TRUE(q->push({make("later", "ep", false, clock.now_ms() + 10)}).ok());
  EXPECT_TRUE(lease_quiet().empty());
  clock.advance_ms(10);
  EXPECT_EQ(ids(lease_n(1)), Ids{"later"});
}

TEST_P(QueueContract, ClosedQueueRefusesPushesAndStillLeases) {
  ASSERT_TRUE(q->push({make("a", "ep")}).ok());
  q->close();
  Status s = q->push({make("b", "ep")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(ids(lease_n(1)), Ids{"a"});
}

// ack_async / retry_async / dead_async, from several threads at once (a networked backend
// sends them together): each gets exactly the answer its synchronous call would give.
TEST_P(QueueContract, AsyncSettlesFromManyThreadsEachGetTheirOwnAnswer) {
  std::vector<QueuedDelivery> batch;
  for (int i = 0; i < 8; ++i)
    batch.push_back(make("d" + std::to_string(i), "e" + std::to_string(i)));
  ASSERT_TRUE(q->push(std::move(batch)).ok());
  auto got = lease_n(8);
  ASSERT_EQ(got.size(), 8u);
  std::sort(got.begin(), got.end(),
            [](const Lease& a, const Lease& b) { return a.delivery->id < b.delivery->id; });
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::optional<Status>> answers(16);
  size_t answered = 0;
  auto answer = [&](size_t slot) {
    return [&, slot](Status st) {
      std::lock_guard lock(mu);
      answers[slot] = std::move(st);
      answered++;
      cv.notify_all();
    };
  };
  const int64_t later = clock.now_ms() + 5000;
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < 8; i += 4) {
        if (i % 4 == 0) q->ack_async(got[i], answer(i));
        if (i % 4 == 1) q->retry_async(got[i], later, answer(i));
        if (i % 4 == 2) q->dead_async(got[i], answer(i));
        if (i % 4 == 3) q->ack_async(got[i], answer(i));
      }
    });
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return answered == 8; }));
  }
  for (size_t i = 0; i < 8; ++i) EXPECT_TRUE(answers[i]->ok()) << i;
  // Settled already: every settle of these leases again is a lost lease, each told so.
  for (size_t i = 0; i < 8; ++i) q->ack_async(got[i], answer(8 + i));
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return answered == 16; }));
  }
  for (size_t i = 8; i < 16; ++i) {
    ASSERT_FALSE(answers[i]->ok()) << i;
    EXPECT_TRUE(is_lease_lost(answers[i]->error())) << i;
  }
  EXPECT_EQ(q->stats().depth, 2u);  // the two retried
  EXPECT_TRUE(lease_quiet().empty());
  clock.advance_ms(5000);
  auto back = lease_n(2);
  std::set<std::string> back_ids;
  for (const auto& l : back) back_ids.insert(l.delivery->id);
  EXPECT_EQ(back_ids, (std::set<std::string>{"d1", "d5"}));
}

// Pushes from many threads at once (a networked backend may send them together): each batch is
// still all or nothing on its own and gets its own answer.
TEST_P(QueueContract, ConcurrentPushesEachGetTheirOwnVerdict) {
  std::mutex mu;
  std::condition_variable cv;
  size_t answered = 0, accepted = 0, full = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&, t] {
      std::vector<QueuedDelivery> batch;
      for (int i = 0; i < 3; ++i)
        batch.push_back(
            make("p" + std::to_string(t) + "-" + std::to_string(i), "e" + std::to_string(t)));
      q->push_async(std::move(batch), [&](Status st) {
        std::lock_guard lock(mu);
        answered++;
        if (st.ok()) accepted++;
        if (!st.ok() && st.error().code == "queue_full") full++;
        cv.notify_all();
      });
    });
  for (auto& th : threads) th.join();
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return answered == 6; }));
  }
  EXPECT_EQ(accepted, 3u);  // capacity 10: three batches of 3 fit, a fourth would not
  EXPECT_EQ(full, 3u);
  EXPECT_EQ(q->stats().depth, 9u);
  auto got = lease_n(6);  // two per endpoint (its cap here), in push order
  ASSERT_EQ(got.size(), 6u);
  std::map<std::string, std::vector<std::string>> by_endpoint;  // whole batches
  for (const auto& l : got) by_endpoint[l.delivery->endpoint_id].push_back(l.delivery->id);
  EXPECT_EQ(by_endpoint.size(), 3u);
  for (auto& [ep, got_ids] : by_endpoint) {
    std::string t = ep.substr(1);
    EXPECT_EQ(got_ids, (Ids{"p" + t + "-0", "p" + t + "-1"})) << ep;
  }
}

// Only for durable backends (memory is volatile by contract, PRODUCT.md §5).
class DurableQueueContract : public QueueContract {};

TEST_P(DurableQueueContract, ReopeningKeepsEverythingAndScheduledTimes) {
  ASSERT_TRUE(q->push({make("due", "e1"), make("later", "e2", false, clock.now_ms() + 10'000),
                       make("acked", "e3"), make("inflight", "e4")})
                  .ok());
  auto got = lease_n(3);
  ASSERT_EQ(got.size(), 3u);
  for (auto& l : got) {
    if (l.delivery->id == "acked") {
      ASSERT_TRUE(q->ack(l).ok());
    } else if (l.delivery->id == "due") {
      ASSERT_TRUE(q->retry(l, clock.now_ms() + 3000).ok());
    }
  }
  reopen();  // "inflight" was leased and never settled: its lease died with the process
  EXPECT_EQ(q->stats().depth, 3u);
  auto after = lease_n(1);
  ASSERT_EQ(ids(after), Ids{"inflight"});
  EXPECT_EQ(after[0].handouts, 2);  // its first hand-out was counted before the "crash"
  EXPECT_EQ(*after[0].delivery->body, "cipher-inflight");
  clock.advance_ms(2999);
  EXPECT_TRUE(lease_quiet().empty());  // the retry keeps its time
  clock.advance_ms(1);
  auto due = lease_n(1);
  ASSERT_EQ(ids(due), Ids{"due"});
  EXPECT_EQ(due[0].handouts, 2);
  clock.advance_ms(7000);
  EXPECT_EQ(ids(lease_n(1)), Ids{"later"});
  EXPECT_TRUE(q->holding({"later", "acked", "nope"}).value() == Ids{"later"});
}

TEST_P(DurableQueueContract, ADeferralKeepsItsTimeAndItsUnspentAttemptAcrossAReopen) {
  ASSERT_TRUE(q->push({make("a", "e1"), make("o1", "e2", true)}).ok());
  auto got = lease_n(2);
  ASSERT_EQ(got.size(), 2u);
  for (auto& l : got) ASSERT_TRUE(q->defer(l, clock.now_ms() + 3000).ok());
  reopen();
  clock.advance_ms(2999);
  EXPECT_TRUE(lease_quiet().empty());
  clock.advance_ms(1);
  auto again = lease_n(2);
  ASSERT_EQ(again.size(), 2u);
  for (auto& l : again) EXPECT_EQ(l.handouts, 1) << l.delivery->id;
}

// Every backend meets every clause; a backend that cannot would say so here, visibly.
INSTANTIATE_TEST_SUITE_P(Backends, QueueContract,
                         ::testing::Values(kMemory, kSqlite, kRedis, kKafka),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Durable, DurableQueueContract, ::testing::Values(kSqlite, kRedis, kKafka),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sealhook::contract
