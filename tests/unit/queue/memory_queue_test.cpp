#include "queue/memory/memory_queue.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sealhook {
namespace {

QueuedDelivery make(std::string id, std::string ep, bool ordered = false, int64_t at = 0) {
  QueuedDelivery d;
  d.id = std::move(id);
  d.endpoint_id = std::move(ep);
  d.tenant_id = "tn";
  d.body = std::make_shared<const std::string>("cipher");
  d.ordered = ordered;
  d.not_before_ms = at;
  return d;
}

std::vector<std::string> ids(const std::vector<QueuedDelivery>& v) {
  std::vector<std::string> out;
  for (auto& d : v) out.push_back(d.id);
  return out;
}

class MemoryQueueTest : public ::testing::Test {
 protected:
  ManualClock clock{1'000'000};
  QueueOptions options{.capacity = 10, .max_inflight_per_endpoint = 2};
  MemoryQueue q{options, clock};
};

TEST_F(MemoryQueueTest, FullQueueRefusesWholeBatchWithUnavailable) {
  std::vector<QueuedDelivery> batch;
  for (int i = 0; i < 8; ++i)
    batch.push_back(make("m" + std::to_string(i), "ep" + std::to_string(i)));
  ASSERT_TRUE(q.push(std::move(batch)).ok());
  std::vector<QueuedDelivery> three;
  for (int i = 0; i < 3; ++i) three.push_back(make("x" + std::to_string(i), "epx"));
  Status s = q.push(std::move(three));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(s.error().code, "queue_full");
  EXPECT_EQ(q.stats().depth, 8u);  // nothing of the refused batch entered
  EXPECT_EQ(q.lease(clock.now_ms(), 100).size(), 8u);
}

TEST_F(MemoryQueueTest, UnorderedEndpointIsBoundedByInflightLimit) {
  ASSERT_TRUE(q.push({make("a", "ep"), make("b", "ep"), make("c", "ep")}).ok());
  auto first = q.lease(clock.now_ms(), 100);
  EXPECT_EQ(ids(first), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(q.lease(clock.now_ms(), 100).empty());
  q.complete(first[0]);
  EXPECT_EQ(ids(q.lease(clock.now_ms(), 100)), (std::vector<std::string>{"c"}));
  EXPECT_EQ(q.stats().leased, 2u);
}

TEST_F(MemoryQueueTest, UnorderedRetryWaitsForItsTimeWhileLaterDeliveriesGoOn) {
  ASSERT_TRUE(q.push({make("a", "ep"), make("b", "ep"), make("c", "ep")}).ok());
  auto got = q.lease(clock.now_ms(), 1);
  ASSERT_EQ(ids(got), std::vector<std::string>{"a"});
  got[0].attempts = 1;
  got[0].not_before_ms = clock.now_ms() + 1000;
  q.retry(std::move(got[0]));
  EXPECT_EQ(ids(q.lease(clock.now_ms(), 100)), (std::vector<std::string>{"b", "c"}));
  clock.advance_ms(999);
  EXPECT_TRUE(q.lease(clock.now_ms(), 100).empty());
}

TEST_F(MemoryQueueTest, RetryBecomesDueAtItsTime) {
  ASSERT_TRUE(q.push({make("a", "ep")}).ok());
  auto got = q.lease(clock.now_ms(), 1);
  got[0].not_before_ms = clock.now_ms() + 1000;
  q.retry(std::move(got[0]));
  clock.advance_ms(999);
  EXPECT_TRUE(q.lease(clock.now_ms(), 100).empty());
  clock.advance_ms(1);
  EXPECT_EQ(ids(q.lease(clock.now_ms(), 100)), std::vector<std::string>{"a"});
}

TEST_F(MemoryQueueTest, OrderedHeadBlocksOnlyItsOwnEndpoint) {
  ASSERT_TRUE(q.push({make("o1", "ordered", true), make("o2", "ordered", true), make("u1", "other"),
                      make("u2", "other")})
                  .ok());
  auto got = q.lease(clock.now_ms(), 100);
  auto v = ids(got);
  std::set<std::string> first(v.begin(), v.end());
  EXPECT_EQ(first, (std::set<std::string>{"o1", "u1", "u2"}));  // o2 waits behind o1
  QueuedDelivery o1;
  for (auto& d : got) {
    if (d.id == "o1")
      o1 = d;
    else
      q.complete(d);
  }
  o1.attempts = 1;
  o1.not_before_ms = clock.now_ms() + 5000;
  q.retry(std::move(o1));
  ASSERT_TRUE(q.push({make("u3", "other")}).ok());
  EXPECT_EQ(ids(q.lease(clock.now_ms(), 100)), std::vector<std::string>{"u3"});  // o2 still blocked
  clock.advance_ms(5000);
  auto again = q.lease(clock.now_ms(), 100);
  ASSERT_EQ(ids(again), std::vector<std::string>{"o1"});  // the head again, not o2
  EXPECT_EQ(again[0].attempts, 1);
  q.complete(again[0]);
  EXPECT_EQ(ids(q.lease(clock.now_ms(), 100)), std::vector<std::string>{"o2"});
}

TEST_F(MemoryQueueTest, CompletingEverythingEmptiesTheQueue) {
  ASSERT_TRUE(q.push({make("a", "e1"), make("b", "e2")}).ok());
  for (auto& d : q.lease(clock.now_ms(), 100)) q.complete(d);
  EXPECT_EQ(q.stats().depth, 0u);
  EXPECT_EQ(q.stats().leased, 0u);
}

TEST_F(MemoryQueueTest, FutureDeliveryWaitsUntilDue) {
  ASSERT_TRUE(q.push({make("later", "ep", false, clock.now_ms() + 10)}).ok());
  EXPECT_TRUE(q.lease(clock.now_ms(), 100).empty());
  clock.advance_ms(10);
  EXPECT_EQ(ids(q.lease(clock.now_ms(), 100)), std::vector<std::string>{"later"});
}

TEST_F(MemoryQueueTest, ClosedQueueRefusesPushes) {
  q.close();
  Status s = q.push({make("a", "ep")});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
}

TEST_F(MemoryQueueTest, FactoryKnowsMemoryAndRefusesUnknown) {
  EXPECT_TRUE(make_queue("memory", options, clock).ok());
  auto bad = make_queue("rabbit", options, clock);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "invalid_queue");
}

}  // namespace
}  // namespace sealhook
