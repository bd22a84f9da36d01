// Failure streaks and the automatic disable, on a real SQLite store (a file two trackers share,
// as two processes would) with the clock injected: the window and the count both have to be
// reached, a success ends the streak (another process's too, once refreshed), and an
// endpoint's own bounds win over the server's.
#include "delivery/endpoint_health.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"

namespace sealhook::delivery {
namespace {

constexpr int64_t kHour = 3'600'000;

class EndpointHealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path = ::testing::TempDir() + "health-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db";
    std::filesystem::remove(path);
    store = std::move(sqlite::SqliteStore::open(path).value());
    ASSERT_TRUE(store->insert_tenant(Tenant{"tn_1", "t", 1}, ApiKey{"ak_1", "tn_1", "h", 1}).ok());
    for (const char* id : {"ep_1", "ep_2"}) {
      Endpoint e;
      e.id = id;
      e.tenant_id = "tn_1";
      e.url = "http://192.0.2.1/hook";
      e.secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
      ASSERT_TRUE(store->put_endpoint(e).ok());
      endpoints[id] = e;
    }
  }

  std::unique_ptr<EndpointHealthTracker> tracker(Store& s) {
    // Store calls run at once on the calling thread (the node posts them to its pool).
    return std::make_unique<EndpointHealthTracker>(
        s, clock, HealthOptions{.disable_after_ms = 24 * kHour, .disable_min_attempts = 5},
        [](std::function<void()> task) { task(); },
        [this](const std::string&, const std::string& id) { disabled.push_back(id); });
  }

  // `n` failures of `id`, one every `every_ms`.
  void fail(EndpointHealthTracker& t, const std::string& id, int n, int64_t every_ms) {
    for (int i = 0; i < n; ++i) {
      t.failed(endpoints[id], clock.now_ms());
      clock.advance_ms(every_ms);
    }
  }

  std::string path;
  ManualClock clock{1'700'000'000'000};
  std::unique_ptr<Store> store;
  std::map<std::string, Endpoint> endpoints;
  std::vector<std::string> disabled;
};

TEST_F(EndpointHealthTest, DisablesOnlyOnceBothTheWindowAndTheCountAreReached) {
  auto t = tracker(*store);
  fail(*t, "ep_1", 4, 8 * kHour);  // 4 failures over 24 h: long enough, too few
  EXPECT_TRUE(disabled.empty());
  fail(*t, "ep_1", 1, kHour);  // the fifth
  EXPECT_EQ(disabled, std::vector<std::string>{"ep_1"});
  disabled.clear();
  fail(*t, "ep_2", 50, 60'000);  // many, within 50 min: not long enough
  EXPECT_TRUE(disabled.empty());
  auto streak = store->add_endpoint_failures("ep_2", 0, clock.now_ms(), clock.now_ms()).value();
  EXPECT_EQ(streak.failed_attempts, 50);  // each written (a minute apart, past flush_ms)
}

TEST_F(EndpointHealthTest, ASuccessEndsTheStreak) {
  auto t = tracker(*store);
  fail(*t, "ep_1", 4, 8 * kHour);
  t->succeeded(endpoints["ep_1"]);
  EXPECT_TRUE(store->failing_endpoints().value().empty());
  fail(*t, "ep_1", 4, 8 * kHour);  // a new streak: 4 failures, 24 h from its own start
  EXPECT_TRUE(disabled.empty());
  fail(*t, "ep_1", 1, 0);
  EXPECT_EQ(disabled, std::vector<std::string>{"ep_1"});
}

TEST_F(EndpointHealthTest, FailuresOfEveryProcessCountAndASuccessAnywhereEndsThem) {
  auto other_store = std::move(sqlite::SqliteStore::open(path).value());
  auto a = tracker(*store);
  auto b = tracker(*other_store);
  fail(*a, "ep_1", 3, 8 * kHour);
  fail(*b, "ep_1", 2, 1000);  // b's two make five, 24 h after a's first
  EXPECT_EQ(disabled, std::vector<std::string>{"ep_1"});
  disabled.clear();
  fail(*a, "ep_2", 3, 8 * kHour);
  b->refresh();  // b learns of a's streak: its success ends it
  b->succeeded(endpoints["ep_2"]);
  EXPECT_EQ(store->failing_endpoints().value(), std::vector<std::string>{"ep_1"});
  fail(*a, "ep_2", 2, 0);  // a's streak started again: two are not five
  EXPECT_TRUE(disabled.empty());
}

TEST_F(EndpointHealthTest, EnablingAgainForgetsTheStreakThatDisabledIt) {
  auto t = tracker(*store);
  fail(*t, "ep_1", 5, 8 * kHour);
  EXPECT_EQ(disabled, std::vector<std::string>{"ep_1"});
  disabled.clear();
  t->enabled("ep_1");
  EXPECT_TRUE(store->failing_endpoints().value().empty());
  fail(*t, "ep_1", 4, kHour);  // a new streak: neither long enough nor enough
  EXPECT_TRUE(disabled.empty());
}

TEST_F(EndpointHealthTest, AnEndpointsOwnBoundsWin) {
  endpoints["ep_1"].disable_after_ms = kHour;
  endpoints["ep_1"].disable_min_attempts = 2;
  auto t = tracker(*store);
  fail(*t, "ep_1", 2, kHour);
  EXPECT_EQ(disabled, std::vector<std::string>{"ep_1"});
}

TEST_F(EndpointHealthTest, FailuresCloseTogetherAreWrittenTogether) {
  auto t = tracker(*store);
  fail(*t, "ep_1", 1, 0);    // the streak's start: written at once
  fail(*t, "ep_1", 9, 100);  // within flush_ms of it: held
  EXPECT_EQ(store->add_endpoint_failures("ep_1", 0, clock.now_ms(), 0).value().failed_attempts, 1);
  clock.advance_ms(1000);
  fail(*t, "ep_1", 1, 0);  // flush_ms later: the ten held and this one
  auto streak = store->add_endpoint_failures("ep_1", 0, clock.now_ms(), 0).value();
  EXPECT_EQ(streak.failed_attempts, 11);
  EXPECT_EQ(streak.failing_since_ms, 1'700'000'000'000);
}

}  // namespace
}  // namespace sealhook::delivery
