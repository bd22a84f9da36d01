// The redis queue's shared rate limit against the real redis-server of the `redis` fixture:
// two queue objects on one prefix (two processes) share one endpoint's bucket and its reserved
// turns, so the limit holds in total and a turn reserved by one is honoured by the other.
#include <gtest/gtest.h>
#include <unistd.h>

#include <future>

#include "queue/redis/redis_queue.hpp"
#include "test_redis_url.hpp"

namespace sealhook {
namespace {

int64_t admit(Queue& q, const std::string& id, int64_t now) {
  auto answer = std::make_shared<std::promise<int64_t>>();
  auto got = answer->get_future();
  Queue::Admitted done = [answer](int64_t turn) { answer->set_value(turn); };
  EXPECT_TRUE(q.admit_async("ep_rate", id, 10, 2, now, done));  // 10/s: one every 100 ms
  EXPECT_EQ(got.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  return got.get();
}

TEST(RedisRateLimit, TwoProcessesShareOneBucketAndItsReservedTurns) {
  const std::string url = testing::test_redis_url();
  ASSERT_FALSE(url.empty()) << "no test redis-server (run through ctest)";
  RedisQueueOptions o;
  o.address = parse_redis_url(url).value();
  o.prefix = "sealhook-test:" + std::to_string(::getpid()) + ":rate:";
  SystemClock clock;
  o.owner = "a";
  auto a = RedisQueue::open(o, clock);
  ASSERT_TRUE(a.ok());
  o.owner = "b";
  auto b = RedisQueue::open(o, clock);
  ASSERT_TRUE(b.ok());
  Queue& qa = *a.value();
  Queue& qb = *b.value();
  const int64_t t0 = 1'700'000'000'000;
  EXPECT_EQ(admit(qa, "d1", t0), 0);  // the burst of 2 ...
  EXPECT_EQ(admit(qb, "d2", t0), 0);  // ... taken by both together
  EXPECT_EQ(admit(qa, "d3", t0), t0 + 100);
  EXPECT_EQ(admit(qb, "d4", t0), t0 + 200);       // after a's reservation, not beside it
  EXPECT_EQ(admit(qb, "d3", t0 + 50), t0 + 100);  // early, elsewhere: its turn is kept
  EXPECT_EQ(admit(qb, "d3", t0 + 100), 0);        // its turn, in the other process: it goes
  EXPECT_EQ(admit(qa, "d5", t0 + 100), t0 + 300);
  EXPECT_EQ(admit(qa, "d4", t0 + 200), 0);
  // d5's turn (t0 + 300) claimed a second late: it asks again like a new one.
  EXPECT_EQ(admit(qb, "d5", t0 + 1300), 0);  // the bucket refilled: the burst is back
  EXPECT_EQ(admit(qa, "d6", t0 + 1300), 0);
  EXPECT_EQ(admit(qa, "d7", t0 + 1300), t0 + 1400);
}

}  // namespace
}  // namespace sealhook
