// What is particular to the queue factory; the queue contract itself (every backend) is in
// tests/contract/.
#include <gtest/gtest.h>

#include <filesystem>

#include "../store/test_util.hpp"
#include "queue/queue.hpp"

namespace sealhook {
namespace {

TEST(QueueFactory, KnowsSqliteMemoryAndRedisAndRefusesTheRest) {
  ManualClock clock;
  QueueConfig c;
  c.kind = "memory";
  auto memory = make_queue(c, clock);
  ASSERT_TRUE(memory.ok());
  EXPECT_FALSE((*memory)->durable());

  testing::TempDir tmp;
  c.kind = "sqlite";
  c.path = (tmp.path() / "queue" / "q.db").string();  // its directory is made
  auto sqlite = make_queue(c, clock);
  ASSERT_TRUE(sqlite.ok()) << sqlite.error().message;
  EXPECT_TRUE((*sqlite)->durable());
  ASSERT_TRUE(std::filesystem::exists(c.path));
  EXPECT_EQ(std::filesystem::status(c.path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  sqlite->reset();

  c.path.clear();
  EXPECT_EQ(make_queue(c, clock).error().code, "invalid_queue");  // sqlite needs a file
  c.kind = "redis";
  EXPECT_EQ(make_queue(c, clock).error().code, "invalid_redis_url");  // redis needs --redis
  c.redis_url = "redis://127.0.0.1:1/0";                              // nothing listens there
  c.redis_timeout_ms = 50;
  // Redis down is an outage, not a failed start: the queue is made and answers 503 meanwhile.
  auto down = make_queue(c, clock);
  ASSERT_TRUE(down.ok());
  EXPECT_FALSE((*down)->stats().up);
  Status ping = (*down)->ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, "queue_unavailable");
  EXPECT_EQ(ping.error().kind, ErrorKind::kUnavailable);
  down->reset();
  c.kind = "kafka";  // no brokers
  EXPECT_EQ(make_queue(c, clock).error().code, "invalid_queue");
  c.kind = "rabbit";
  EXPECT_EQ(make_queue(c, clock).error().code, "invalid_queue");
}

}  // namespace
}  // namespace sealhook
