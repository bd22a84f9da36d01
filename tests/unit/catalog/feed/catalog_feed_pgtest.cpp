// The PostgreSQL store's push, through CatalogFeed, against the real server of the ctest
// fixture `postgres` (a database of this test's own): with the periodic check set to a minute
// and no Redis, a change made through one catalog reaches the other within a second, so only
// the store's LISTEN/NOTIFY (Store::watch_catalog) can have brought it.
#include <gtest/gtest.h>

#include <thread>

#include "catalog/feed/catalog_feed.hpp"
#include "catalog/reload_fixture.hpp"
#include "unit/store/postgres_db.hpp"

namespace sealhook {
namespace {

using namespace std::chrono_literals;

class PushTest : public testing::TwoCatalogs {
 protected:
  std::string shared_store() override {
    server_ = testing::test_postgres_url();
    if (server_.empty()) return "postgres://no-server-set (SEALHOOK_TEST_POSTGRES)";
    std::random_device rd;
    name_ = "sealhook_feed_" + std::to_string(rd()) + std::to_string(rd());
    testing::PgAdmin admin(server_);
    if (!admin.ok() || !admin.exec("CREATE DATABASE " + name_).empty()) return server_ + "-none";
    return testing::with_database(server_, name_);
  }
  void TearDown() override {
    TwoCatalogs::TearDown();
    if (name_.empty()) return;
    testing::PgAdmin admin(server_);
    if (admin.ok()) (void)admin.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  }

 private:
  std::string server_, name_;
};

TEST_F(PushTest, AWriteThroughOneReachesTheOtherWithoutAPeriodicCheck) {
  CatalogFeed feed_a(*a.catalog, a.registry, clock, CatalogFeedOptions{60'000ms, ""});
  CatalogFeed feed_b(*b.catalog, b.registry, clock, CatalogFeedOptions{60'000ms, ""});
  feed_a.start();
  feed_b.start();
  // B listens once its store has called back the first time (after connecting).
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (feed_b.counters().store_pushes.load() == 0) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the store never listened";
    std::this_thread::yield();
  }
  for (int round = 0; round < 5; ++round) {
    auto start = std::chrono::steady_clock::now();
    auto t = a.catalog->create_tenant("acme").value().first;
    while (!tenant_in(b, t.id)) {
      ASSERT_LT(std::chrono::steady_clock::now() - start, 1s) << "no push arrived";
      std::this_thread::yield();
    }
  }
  // Counted before each wake (the reload's own count may still be on its way).
  EXPECT_GE(feed_b.counters().store_pushes.load(), 6u);
}

}  // namespace
}  // namespace sealhook
