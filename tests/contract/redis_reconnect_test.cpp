// The redis queue after what a Redis restart does to it, against the real redis-server of the
// `redis` fixture: its scripts flushed (NOSCRIPT), and its data gone with the connection (a
// restart without persistence: the generation check resets the queue and tells the listener).
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "queue/redis/redis_connection.hpp"
#include "queue/redis/redis_queue.hpp"
#include "test_redis_url.hpp"

namespace sealhook {
namespace {

QueuedDelivery reconnect_delivery(const std::string& id) {
  QueuedDelivery d;
  d.id = id;
  d.tenant_id = "tn_r";
  d.endpoint_id = "ep_r";
  d.event_id = "evt_" + id;
  d.event_type = "t";
  d.body = std::make_shared<const std::string>("ciphertext");
  return d;
}

TEST(RedisReconnect, FlushedScriptsAndLostDataAreRecoveredWithoutHelp) {
  const std::string url = testing::test_redis_url();
  if (url.empty()) GTEST_SKIP() << "no test redis-server (run through ctest)";
  auto address = parse_redis_url(url);
  ASSERT_TRUE(address.ok());
  RedisQueueOptions o;
  o.address = address.value();
  o.prefix = "sealhook-test:" + std::to_string(::getpid()) + ":reconnect:";
  o.owner = "reconnect";
  SystemClock clock;
  auto opened = RedisQueue::open(o, clock);
  ASSERT_TRUE(opened.ok());
  auto& q = *opened.value();
  std::mutex mu;
  std::condition_variable cv;
  int resets = 0;
  q.set_reset_listener([&] {
    std::lock_guard lock(mu);
    ++resets;
    cv.notify_all();
  });
  RedisConnectionOptions co;
  co.address = o.address;
  RedisConnection side(co);
  side.start();
  ASSERT_TRUE(side.await_up(std::chrono::seconds(5)));
  const std::string wipe =
      "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do redis.call('DEL', k) end "
      "return 0";

  // SCRIPT FLUSH: the next calls get NOSCRIPT and send their scripts again.
  ASSERT_TRUE(q.push({reconnect_delivery("a")}).ok());
  ASSERT_TRUE(side.call({"SCRIPT", "FLUSH"}).ok());
  auto leases = q.lease(clock.now_ms(), 10, 60'000);
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].delivery->id, "a");
  EXPECT_TRUE(q.ack(leases[0]).ok());

  // The data goes, then the connections (what a restart without persistence does).
  ASSERT_TRUE(q.push({reconnect_delivery("b")}).ok());
  ASSERT_TRUE(side.call({"EVAL", wipe, "0", o.prefix}).ok());
  ASSERT_TRUE(side.call({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}).ok());
  // The queue learns of the break with its next call (a dispatcher's lease tick, at the latest).
  EXPECT_FALSE(q.ping().ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return resets > 0; }))
        << "the reset was not noticed";
  }
  EXPECT_EQ(resets, 1);
  EXPECT_EQ(q.stats().resets, 1u);
  auto held = q.holding({"b"});
  ASSERT_TRUE(held.ok());
  EXPECT_TRUE(held->empty());  // gone with the data: the listener's caller marks it lost

  // Afresh: what is pushed now is handed out as usual, and a reconnection without a data loss
  // is no reset. Pushes have a connection of their own: it learns of the break with its first
  // call, which fails (a 503 to a publisher), and is back once it has reconnected.
  Status pushed = q.push({reconnect_delivery("c")});
  const auto push_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pushed.ok() && std::chrono::steady_clock::now() < push_deadline) {
    ASSERT_EQ(pushed.error().kind, ErrorKind::kUnavailable) << pushed.error().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polled, with a deadline
    pushed = q.push({reconnect_delivery("c")});
  }
  ASSERT_TRUE(pushed.ok()) << pushed.error().message;
  leases = q.lease(clock.now_ms(), 10, 60'000);
  ASSERT_EQ(leases.size(), 1u);
  EXPECT_EQ(leases[0].delivery->id, "c");
  ASSERT_TRUE(side.call({"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"}).ok());
  // The first call may meet the broken link; then calls fail at once until the reconnection.
  Status acked = q.ack(leases[0]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!acked.ok() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(acked.error().kind, ErrorKind::kUnavailable) << acked.error().message;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polled, with a deadline
    acked = q.ack(leases[0]);
  }
  EXPECT_TRUE(acked.ok());
  EXPECT_EQ(q.stats().resets, 1u);
  EXPECT_TRUE(side.call({"EVAL", wipe, "0", o.prefix}).ok());
}

}  // namespace
}  // namespace sealhook
