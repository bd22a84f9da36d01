#include "queue/redis/redis_url.hpp"

#include <gtest/gtest.h>

namespace sealhook {
namespace {

TEST(RedisUrl, ParsesHostPortAndDb) {
  auto a = parse_redis_url("redis://127.0.0.1:6380/3");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 3);
  EXPECT_EQ(a->url(), "redis://127.0.0.1:6380/3");
  auto d = parse_redis_url("redis://cache.internal");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
}

TEST(RedisUrl, RefusesWhatItCannotUse) {
  for (const char* bad :
       {"", "http://127.0.0.1:6379/0", "redis://", "redis://:6379/0", "redis://h:0/0",
        "redis://h:70000/0", "redis://h:6379/x", "redis://user:pw@h:6379/0", "redis://h:63x9/0"}) {
    auto a = parse_redis_url(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_EQ(a.error().code, "invalid_redis_url") << bad;
  }
}

}  // namespace
}  // namespace sealhook
