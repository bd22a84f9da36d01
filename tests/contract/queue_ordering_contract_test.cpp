// The queue contract's ordering switch (Queue::set_ordering) over every backend: a switch
// applies at once to everything queued for the endpoint and to later pushes, whatever ordering
// those carry (a publish that read the catalog before the switch).
#include <algorithm>
#include <set>

#include "contract/queue_backends.hpp"

namespace sealhook::contract {
namespace {

using Ids = std::vector<std::string>;

EndpointOrdering ordering(const std::string& ep, bool ordered) { return {"tn", ep, ordered}; }

class OrderingContract : public QueueContract {};

// Ordered -> unordered: the deliveries behind a failing head go at once, the two pushed after
// the switch too (one still flagged ordered), while the head waits for its own retry time.
TEST_P(OrderingContract, SwitchToUnorderedFreesWhatWaitsBehindAFailingHead) {
  ASSERT_TRUE(q->push({make("h", "ep", true), make("o1", "ep", true), make("o2", "ep", true),
                       make("other", "ep2", true)})
                  .ok());
  auto head = lease_n(2);
  ASSERT_EQ(head.size(), 2u);
  if (head[0].delivery->id != "h") std::swap(head[0], head[1]);
  ASSERT_EQ(ids(head), (Ids{"h", "other"}));
  ASSERT_TRUE(q->retry(head[0], clock.now_ms() + 10'000).ok());
  ASSERT_TRUE(q->ack(head[1]).ok());
  EXPECT_TRUE(lease_quiet().empty());  // ordered: o1 and o2 wait behind h

  ASSERT_TRUE(q->set_ordering(ordering("ep", false)).ok());
  ASSERT_TRUE(q->push({make("n1", "ep", true), make("n2", "ep")}).ok());
  Ids got;
  for (int round = 0; round < 2; ++round) {  // two at a time (max_inflight_per_endpoint)
    auto l = lease_n(2);
    for (auto& x : l) {
      got.push_back(x.delivery->id);
      ASSERT_TRUE(q->ack(x).ok());
    }
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (Ids{"n1", "n2", "o1", "o2"}));
  EXPECT_TRUE(lease_quiet().empty());  // h keeps its retry time
  clock.advance_ms(10'000);
  auto again = lease_n(1);
  ASSERT_EQ(ids(again), Ids{"h"});
  EXPECT_EQ(again[0].handouts, 2);
  ASSERT_EQ(q->orderings().size(), 1u);
  EXPECT_FALSE(q->orderings()[0].ordered);
}

// Unordered -> ordered: what is leased at the switch finishes first; then one at a time in
// publish order, the scheduled retries and the delivery retried after the switch included,
// and a later push still flagged unordered last.
TEST_P(OrderingContract, SwitchToOrderedGoesInPublishOrderAfterWhatIsInFlight) {
  ASSERT_TRUE(q->push({make("u0", "ep"), make("u1", "ep"), make("u2", "ep"), make("u3", "ep"),
                       make("u4", "ep"), make("u5", "ep")})
                  .ok());
  const int64_t t0 = clock.now_ms();
  auto first = lease_n(2);
  ASSERT_EQ(ids(first), (Ids{"u0", "u1"}));
  ASSERT_TRUE(q->retry(first[0], t0 + 300).ok());
  ASSERT_TRUE(q->retry(first[1], t0 + 100).ok());
  auto second = lease_n(2);
  ASSERT_EQ(ids(second), (Ids{"u2", "u3"}));
  ASSERT_TRUE(q->retry(second[0], t0 + 200).ok());  // u3 stays leased across the switch

  ASSERT_TRUE(q->set_ordering(ordering("ep", true)).ok());
  ASSERT_TRUE(q->push({make("u6", "ep")}).ok());  // published before the switch reached it
  EXPECT_TRUE(lease_quiet().empty());             // u3 is in flight: nothing more of ep
  ASSERT_TRUE(q->retry(second[1], t0).ok());      // u3 failed: back to its place
  clock.advance_ms(299);
  EXPECT_TRUE(lease_quiet().empty());  // the head u0 waits for its retry time
  clock.advance_ms(1);
  Ids got;
  for (int i = 0; i < 7; ++i) {
    auto l = lease_n(1);
    ASSERT_EQ(l.size(), 1u) << i;
    EXPECT_TRUE(lease_quiet().empty()) << "one at a time, behind " << l[0].delivery->id;
    got.push_back(l[0].delivery->id);
    ASSERT_TRUE(q->ack(l[0]).ok());
  }
  EXPECT_EQ(got, (Ids{"u0", "u1", "u2", "u3", "u4", "u5", "u6"}));
}

// An ordered lane whose next head waits for a retry time set before the switch goes on by
// itself when that time comes.
TEST_P(OrderingContract, SwitchedLaneWakesForALaterHeadsRetryTime) {
  ASSERT_TRUE(q->push({make("a", "ep"), make("b", "ep"), make("c", "ep")}).ok());
  auto got = lease_n(2);
  ASSERT_EQ(ids(got), (Ids{"a", "b"}));
  ASSERT_TRUE(q->retry(got[0], clock.now_ms()).ok());
  ASSERT_TRUE(q->retry(got[1], clock.now_ms() + 500).ok());
  ASSERT_TRUE(q->set_ordering(ordering("ep", true)).ok());
  auto a = lease_n(1);
  ASSERT_EQ(ids(a), Ids{"a"});
  ASSERT_TRUE(q->ack(a[0]).ok());
  EXPECT_TRUE(lease_quiet().empty());  // b, the head now, waits for its time; c behind it
  clock.advance_ms(500);
  auto b = lease_n(1);
  ASSERT_EQ(ids(b), Ids{"b"});
  ASSERT_TRUE(q->ack(b[0]).ok());
  EXPECT_EQ(ids(lease_n(1)), Ids{"c"});
}

// A switch before anything is queued holds for later pushes, whatever they carry.
TEST_P(OrderingContract, SwitchOfAnEmptyEndpointHoldsForLaterPushes) {
  ASSERT_TRUE(q->set_ordering(ordering("ep", true)).ok());
  ASSERT_TRUE(q->push({make("a", "ep"), make("b", "ep")}).ok());
  EXPECT_EQ(ids(lease_n(1)), Ids{"a"});
  EXPECT_TRUE(lease_quiet().empty());
}

class DurableOrderingContract : public QueueContract {};

// The ordering is the queue's state: it survives the process, for what is queued and later.
TEST_P(DurableOrderingContract, ASwitchIsKeptAcrossAReopen) {
  ASSERT_TRUE(q->push({make("a", "ep"), make("b", "ep")}).ok());
  ASSERT_TRUE(q->set_ordering(ordering("ep", true)).ok());
  ASSERT_TRUE(q->set_ordering(ordering("idle", true)).ok());
  reopen();
  ASSERT_EQ(q->orderings().size(), 2u);
  ASSERT_TRUE(q->push({make("c", "idle"), make("d", "idle")}).ok());
  auto got = lease_n(2);
  auto v = ids(got);
  EXPECT_EQ(std::set<std::string>(v.begin(), v.end()), (std::set<std::string>{"a", "c"}));
  EXPECT_TRUE(lease_quiet().empty());
}

INSTANTIATE_TEST_SUITE_P(Backends, OrderingContract,
                         ::testing::Values(kMemory, kSqlite, kRedis, kKafka),
                         [](const auto& info) { return info.param.name; });
INSTANTIATE_TEST_SUITE_P(Durable, DurableOrderingContract,
                         ::testing::Values(kSqlite, kRedis, kKafka),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sealhook::contract
