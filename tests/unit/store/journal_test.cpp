#include "store/journal.hpp"

#include <gtest/gtest.h>

#include <sqlite3.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::delivery;

DeliveryUpdate update(DeliveryRecord r, bool create_only = false, int attempt = 0) {
  DeliveryUpdate u;
  u.record = std::move(r);
  u.create_only = create_only;
  if (attempt) u.attempts.push_back(AttemptRecord{u.record.id, attempt, 1, 1, 500, "http 500"});
  return u;
}

TEST(Coalesce, MergesUpdatesOfOneDeliveryInOrder) {
  auto pending = delivery("tn", 1);
  auto done = delivery("tn", 1, DeliveryStatus::kDelivered);
  done.attempts = 2;
  std::vector<DeliveryUpdate> batch;
  batch.push_back(update(pending, true));
  batch.push_back(update(delivery("tn", 2), true));
  batch.push_back(update(pending, false, 1));
  batch.push_back(update(done, false, 2));
  auto out = coalesce(std::move(batch));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].record.status, DeliveryStatus::kDelivered);
  EXPECT_FALSE(out[0].create_only);
  ASSERT_EQ(out[0].attempts.size(), 2u);
  EXPECT_EQ(out[0].attempts[0].number, 1);
  EXPECT_EQ(out[0].attempts[1].number, 2);
  EXPECT_TRUE(out[1].create_only);
}

TEST(Coalesce, LateCreateOnlyNeverOverwritesAnOutcome) {
  auto done = delivery("tn", 1, DeliveryStatus::kDead);
  std::vector<DeliveryUpdate> batch;
  batch.push_back(update(done, false, 1));
  batch.back().dead_body = "cipher";
  batch.push_back(update(delivery("tn", 1), true));
  auto out = coalesce(std::move(batch));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].record.status, DeliveryStatus::kDead);
  EXPECT_EQ(out[0].dead_body, "cipher");
}

TEST(Journal, FlushMakesEverySubmittedUpdateVisible) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn"), testing::api_key("ak", "tn")).ok());
  ManualClock clock;
  Journal journal(
      *store, clock,
      JournalOptions{.max_batch = 7, .max_backlog = 100, .linger = std::chrono::milliseconds(50)});
  for (int i = 0; i < 250; ++i) journal.submit(update(delivery("tn", i), true));
  auto done = delivery("tn", 3, DeliveryStatus::kDelivered);
  journal.submit(update(done, false, 1));
  journal.flush();
  auto n = store->count_deliveries(std::nullopt);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 250);
  auto rec = store->get_delivery("tn", done.id);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->status, DeliveryStatus::kDelivered);
  EXPECT_EQ(store->get_attempts(done.id)->size(), 1u);
  EXPECT_EQ(journal.write_errors(), 0u);
}

// Polls until `id` of tenant "tn" is in the store (the writer thread is asynchronous).
bool written(Store& store, const std::string& id) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = store.get_delivery("tn", id);
    if (got.ok() && got->has_value()) return true;
    std::this_thread::yield();
  }
  return false;
}

// A batch holding an update something waits for (its Written callback holds a delivery slot)
// lingers linger_waited, not linger; the others keep the long linger.
TEST(Journal, AnUpdateSomethingWaitsForLingersOnlyTheShortTime) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn"), testing::api_key("ak", "tn")).ok());
  ManualClock clock;
  Journal journal(*store, clock,
                  JournalOptions{.linger = std::chrono::seconds(30),
                                 .linger_waited = std::chrono::milliseconds(1),
                                 .settle = std::chrono::milliseconds(0)});
  using Steady = std::chrono::steady_clock;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  const auto start = Steady::now();
  journal.submit(update(delivery("tn", 1, DeliveryStatus::kDelivered)), [&] {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }))
        << "the waited-for update lingered like the others (30 s)";
  }
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(written(*store, delivery("tn", 1).id));
  // Without a callback, a lone update waits for company: still unwritten a while later.
  journal.submit(update(delivery("tn", 2, DeliveryStatus::kDelivered)));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // a bound, not a sync point
  auto got = store->get_delivery("tn", delivery("tn", 2).id);
  ASSERT_TRUE(got.ok());
  EXPECT_FALSE(got->has_value());
  journal.flush();
}

TEST(Journal, APublishTimeRecordWaitsForItsOutcomeThenForTheSettleTime) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn"), testing::api_key("ak", "tn")).ok());
  ManualClock clock;
  Journal journal(*store, clock,
                  JournalOptions{.linger = std::chrono::milliseconds(1),
                                 .settle = std::chrono::milliseconds(1000)});
  // 1 is held; 2 (an outcome) is written, which shows the batch holding 1 was processed.
  journal.submit(update(delivery("tn", 1), true));
  journal.submit(update(delivery("tn", 2, DeliveryStatus::kDelivered), false, 1));
  ASSERT_TRUE(written(*store, delivery("tn", 2).id));
  EXPECT_FALSE(store->get_delivery("tn", delivery("tn", 1).id)->has_value());

  // 1's outcome arrives: written as one record with its attempt.
  journal.submit(update(delivery("tn", 1, DeliveryStatus::kDelivered), false, 1));
  ASSERT_TRUE(written(*store, delivery("tn", 1).id));
  EXPECT_EQ((*store->get_delivery("tn", delivery("tn", 1).id))->status, DeliveryStatus::kDelivered);
  EXPECT_EQ(store->get_attempts(delivery("tn", 1).id)->size(), 1u);

  // 3 is held until the settle time has passed, then written as pending on its own.
  journal.submit(update(delivery("tn", 3), true));
  journal.submit(update(delivery("tn", 4, DeliveryStatus::kDead), false, 1));
  ASSERT_TRUE(written(*store, delivery("tn", 4).id));
  EXPECT_FALSE(store->get_delivery("tn", delivery("tn", 3).id)->has_value());
  clock.advance_ms(1000);
  journal.submit(update(delivery("tn", 5), true));  // held: it has only just come
  ASSERT_TRUE(written(*store, delivery("tn", 3).id));
  EXPECT_EQ((*store->get_delivery("tn", delivery("tn", 3).id))->status, DeliveryStatus::kPending);
  EXPECT_FALSE(store->get_delivery("tn", delivery("tn", 5).id)->has_value());

  // flush() writes what is held.
  journal.flush();
  EXPECT_TRUE(store->get_delivery("tn", delivery("tn", 5).id)->has_value());
  EXPECT_EQ(journal.write_errors(), 0u);
}

TEST(Journal, StopWritesHeldRecords) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn"), testing::api_key("ak", "tn")).ok());
  ManualClock clock;
  {
    Journal journal(*store, clock, JournalOptions{.settle = std::chrono::milliseconds(60'000)});
    for (int i = 0; i < 10; ++i) journal.submit(update(delivery("tn", i), true));
  }
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 10);
}

}  // namespace
}  // namespace sealhook

namespace sealhook {
namespace {

// Runs SQL on a second connection to the store's file (a fault switched on or off).
void exec_on(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

TEST(Journal, AFailedWriteIsRetriedUntilItSucceedsAndNothingIsLost) {
  testing::TempDir dir;
  auto store = testing::open_store("sqlite:" + dir.path().string());
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn"), testing::api_key("ak", "tn")).ok());
  const auto file = dir.path() / "sealhook.db";
  // The store's own SQLite refuses every delivery row while `fault` holds a row.
  exec_on(file,
          "CREATE TABLE fault (on_ INTEGER); INSERT INTO fault VALUES (1);"
          "CREATE TRIGGER refuse BEFORE INSERT ON deliveries WHEN EXISTS (SELECT 1 FROM fault)"
          " BEGIN SELECT RAISE(ABORT, 'injected write failure'); END;");
  ManualClock clock;
  Journal journal(*store, clock,
                  JournalOptions{.linger = std::chrono::milliseconds(1),
                                 .settle = std::chrono::milliseconds(0),
                                 .retry_backoff = std::chrono::milliseconds(5)});
  int written_callbacks = 0;
  std::mutex mu;
  std::condition_variable cv;
  for (int i = 0; i < 40; ++i)
    journal.submit(update(delivery("tn", i, DeliveryStatus::kDelivered)));
  auto dead = update(delivery("tn", 99, DeliveryStatus::kDead));
  dead.dead_body = "cipher";
  journal.submit(std::move(dead), [&] {
    std::lock_guard lock(mu);
    written_callbacks++;
    cv.notify_all();
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (journal.write_errors() < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_GE(journal.write_errors(), 3u);  // tried again and again
  EXPECT_FALSE(journal.healthy());
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 0);
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(written_callbacks, 0);  // not durable: the dead letter's lease is still held
  }
  exec_on(file, "DELETE FROM fault;");  // space is back
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return written_callbacks == 1; }));
  }
  journal.flush();
  EXPECT_TRUE(journal.healthy());
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 41);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 1);
}

}  // namespace
}  // namespace sealhook
