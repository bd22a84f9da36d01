// The Redis nudge, against the real redis-server of the ctest fixture `redis`
// (SEALHOOK_TEST_REDIS_ENV, or SEALHOOK_TEST_REDIS=redis://...): with the periodic check set to
// a minute, a change made through one catalog reaches the other within milliseconds, so only
// the nudge can have brought it.
#include <gtest/gtest.h>

#include <thread>

#include "catalog/feed/catalog_feed.hpp"
#include "catalog/reload_fixture.hpp"
#include "test_redis_url.hpp"

namespace sealhook {
namespace {

using namespace std::chrono_literals;

using NudgeTest = testing::TwoCatalogs;

TEST_F(NudgeTest, AWriteThroughOneNudgesTheOther) {
  std::string url = testing::test_redis_url();
  ASSERT_FALSE(url.empty()) << "no redis-server: run through ctest, or set SEALHOOK_TEST_REDIS";
  CatalogFeed feed_a(*a.catalog, a.registry, clock, CatalogFeedOptions{60'000ms, url});
  CatalogFeed feed_b(*b.catalog, b.registry, clock, CatalogFeedOptions{60'000ms, url});
  feed_a.start();
  feed_b.start();
  // The subscription is up once B's subscriber has heard its first (re)subscribe call.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (feed_b.counters().nudges_heard.load() == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "never subscribed";
    std::this_thread::yield();
  }
  for (int round = 0; round < 5; ++round) {
    auto start = std::chrono::steady_clock::now();
    auto t = a.catalog->create_tenant("acme").value().first;
    while (!tenant_in(b, t.id)) {
      ASSERT_LT(std::chrono::steady_clock::now() - start, 2s) << "no nudge arrived";
      std::this_thread::yield();
    }
    auto took = std::chrono::steady_clock::now() - start;
    std::printf("nudge round %d: %lld us\n", round,
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::microseconds>(took).count()));
  }
  EXPECT_GE(feed_a.counters().nudges_sent.load(), 5u);
}

TEST(NudgeChannel, IsNamedAfterTheDatabase) {
  EXPECT_EQ(CatalogFeed::channel("redis://127.0.0.1:6379/3"), "sealhook:catalog:3");
  EXPECT_EQ(CatalogFeed::channel("redis://127.0.0.1:6379"), "sealhook:catalog:0");
}

}  // namespace
}  // namespace sealhook
