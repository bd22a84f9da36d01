// The feed thread: a change made through one catalog is in the other's snapshot within the
// check period, without a nudge; a nudge (wake) brings it at once.
#include "catalog/feed/catalog_feed.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "catalog/reload_fixture.hpp"

namespace sealhook {
namespace {

using FeedTest = testing::TwoCatalogs;
using namespace std::chrono_literals;

// Waits (with a deadline) for `cond`; how long it took.
template <class F>
std::chrono::milliseconds await(F cond, std::chrono::milliseconds deadline) {
  auto start = std::chrono::steady_clock::now();
  while (!cond()) {
    auto spent = std::chrono::steady_clock::now() - start;
    if (spent > deadline) return std::chrono::milliseconds::max();
    std::this_thread::yield();
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST_F(FeedTest, AChangeArrivesWithinTheCheckPeriod) {
  CatalogFeed feed(*b.catalog, b.registry, clock, CatalogFeedOptions{50ms, ""});
  feed.start();
  auto t = a.catalog->create_tenant("acme").value().first;
  auto took = await([&] { return tenant_in(b, t.id) != nullptr; }, 2s);
  EXPECT_LE(took, 150ms);
  ASSERT_TRUE(a.catalog->delete_tenant(t.id).ok());
  took = await([&] { return tenant_in(b, t.id) == nullptr; }, 2s);
  EXPECT_LE(took, 150ms);
  EXPECT_NE(await([&] { return feed.counters().reloads.load() >= 2; }, 2s),
            std::chrono::milliseconds::max());
}

TEST_F(FeedTest, AWakeChecksAtOnce) {
  CatalogFeed feed(*b.catalog, b.registry, clock, CatalogFeedOptions{60'000ms, ""});
  feed.start();
  auto t = a.catalog->create_tenant("acme").value().first;
  feed.wake();
  EXPECT_LE(await([&] { return tenant_in(b, t.id) != nullptr; }, 5s), 1000ms);
}

TEST_F(FeedTest, EachCheckMovesTheSyncTime) {
  clock.set_ms(5'000);
  CatalogFeed feed(*b.catalog, b.registry, clock, CatalogFeedOptions{10ms, ""});
  feed.start();
  EXPECT_EQ(b.registry.synced_at_ms(), 5'000);
  clock.set_ms(9'000);
  EXPECT_LE(await([&] { return b.registry.synced_at_ms() == 9'000; }, 2s), 1000ms);
}

}  // namespace
}  // namespace sealhook
