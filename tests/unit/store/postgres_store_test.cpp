// What is PostgreSQL's own in the postgres store, against the real server of the ctest fixture
// `postgres`, each test in a fresh database: migrations racing, the journal's batched write,
// the pool's bound. (What every store does is the store contract suite's, tests/contract/.)
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "postgres_db.hpp"
#include "store/postgres/migrations.hpp"
#include "store/postgres/postgres_store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using namespace std::chrono_literals;
using testing::FreshDatabase;
using testing::PgAdmin;

using PostgresStoreTest = FreshDatabase;

// Four stores open one empty database at once: each migration runs once (the advisory lock
// makes the others wait and then find nothing to do), and every store works.
TEST_F(PostgresStoreTest, ConcurrentMigrationsMakeOneSchema) {
  constexpr int kStores = 4;
  std::vector<std::unique_ptr<Store>> stores(kStores);
  std::vector<std::string> errors(kStores);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kStores; ++i) {
    threads.emplace_back([&, i] {
      ready++;
      while (ready.load() < kStores) std::this_thread::yield();  // all start together
      auto s = make_store(url());
      if (s) {
        stores[i] = std::move(*s);
      } else {
        errors[i] = s.error().message;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kStores; ++i) ASSERT_NE(stores[i], nullptr) << errors[i];
  PgAdmin admin(url());
  ASSERT_TRUE(admin.ok()) << admin.error();
  EXPECT_EQ(admin.exec("SELECT count(*) FROM schema_migrations"),
            std::to_string(postgres::migrations().size()));
  EXPECT_EQ(admin.exec("SELECT count(*) FROM pg_tables WHERE tablename = 'deliveries'"), "1");
  ASSERT_TRUE(stores[0]->insert_tenant(testing::tenant("tn_a"), testing::api_key("ak_a", "tn_a")));
  auto catalog = stores[kStores - 1]->load_catalog();
  ASSERT_TRUE(catalog) << catalog.error().message;
  ASSERT_EQ(catalog->tenants.size(), 1u);
}

// A body holding every byte value, and error texts holding what an array literal must escape
// (quotes, backslashes, commas, braces) and what PostgreSQL's text refuses (a NUL, invalid
// UTF-8): a journal record never fails its batch.
std::string every_byte() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += static_cast<char>(i);
  return s;
}

TEST_F(PostgresStoreTest, WritesA500RecordBatchInOneGo) {
  auto store = testing::open_store(url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn_a"), testing::api_key("ak_a", "tn_a")));
  std::vector<DeliveryUpdate> batch;
  for (int i = 0; i < 500; ++i) {
    DeliveryUpdate u;
    u.record = testing::delivery("tn_a", i,
                                 i % 5 == 0 ? DeliveryStatus::kDead : DeliveryStatus::kDelivered);
    u.record.attempts = 2;
    u.record.last_error = "say \"hi\", {\\} #" + std::to_string(i);
    u.attempts = {AttemptRecord{u.record.id, 1, 10, 5, 500, "boom, {\"x\"}"},
                  AttemptRecord{u.record.id, 2, 20, 6, 200, ""}};
    if (i % 5 == 0) u.dead_body = every_byte();
    batch.push_back(std::move(u));
  }
  batch[7].record.last_error = std::string("nul\0byte \xff\xfe end", 15);
  auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(store->write_deliveries(batch));
  auto took = std::chrono::steady_clock::now() - started;
  std::printf(
      "500 records in %lld us\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()));

  auto count = store->count_deliveries(std::nullopt);
  ASSERT_TRUE(count);
  EXPECT_EQ(*count, 500);
  auto dead = store->count_deliveries(DeliveryStatus::kDead);
  ASSERT_TRUE(dead);
  EXPECT_EQ(*dead, 100);
  for (int i : {0, 1, 7, 250, 499}) {
    const DeliveryRecord& want = batch[static_cast<size_t>(i)].record;
    auto got = store->get_delivery("tn_a", want.id);
    ASSERT_TRUE(got && *got) << i;
    EXPECT_EQ((*got)->status, want.status) << i;
    EXPECT_EQ((*got)->attempts, 2) << i;
    EXPECT_EQ((*got)->created_at_ms, want.created_at_ms) << i;
    if (i == 7) {
      EXPECT_EQ((*got)->last_error, "nulbyte ?? end");
    } else {
      EXPECT_EQ((*got)->last_error, want.last_error) << i;
    }
    auto attempts = store->get_attempts(want.id);
    ASSERT_TRUE(attempts);
    ASSERT_EQ(attempts->size(), 2u) << i;
    EXPECT_EQ((*attempts)[0].error, "boom, {\"x\"}");
    EXPECT_EQ((*attempts)[1].status_code, 200);
  }
  auto letter = store->get_dead_letter("tn_a", batch[250].record.id);
  ASSERT_TRUE(letter && *letter);
  EXPECT_EQ((*letter)->body, every_byte());
}

// One delivery written several times in one batch (its publish-time record, then two attempts'
// outcomes) ends as written one after the other: the later update wins, the create_only record
// does not undo it, and an earlier attempt's outcome arriving last leaves the record (and its
// dead letter) alone but adds its attempt, which happened.
TEST_F(PostgresStoreTest, ABatchHoldingOneDeliveryThriceAppliesItInOrder) {
  auto store = testing::open_store(url());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn_a"), testing::api_key("ak_a", "tn_a")));
  DeliveryUpdate created{testing::delivery("tn_a", 1), {}, std::nullopt, false, true};
  DeliveryUpdate second = created;
  second.create_only = false;
  second.record.attempts = 2;
  second.record.status = DeliveryStatus::kDelivered;
  second.attempts = {AttemptRecord{second.record.id, 2, 30, 1, 200, ""}};
  DeliveryUpdate first = created;
  first.create_only = false;
  first.record.attempts = 1;
  first.record.last_error = "timeout";
  first.attempts = {AttemptRecord{first.record.id, 1, 20, 1, 0, "timeout"}};
  first.record.status = DeliveryStatus::kDead;
  first.dead_body = "jwe";
  ASSERT_TRUE(store->write_deliveries({created, second, created, first}));
  auto got = store->get_delivery("tn_a", created.record.id);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ((*got)->status, DeliveryStatus::kDelivered);
  EXPECT_EQ((*got)->attempts, 2);
  EXPECT_EQ((*got)->last_error, "");
  auto letter = store->get_dead_letter("tn_a", created.record.id);
  ASSERT_TRUE(letter);
  EXPECT_FALSE(letter->has_value());
  auto attempts = store->get_attempts(created.record.id);
  ASSERT_TRUE(attempts);
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].error, "timeout");
  EXPECT_EQ((*attempts)[1].number, 2);
}

// pool_size=1: while the one connection waits on a lock held elsewhere, another call waits
// pool_wait_ms and fails as unavailable instead of hanging; the first completes once the lock
// goes.
TEST_F(PostgresStoreTest, ACallThatFindsThePoolBusyFailsWithinItsWait) {
  auto store = testing::open_store(url() + "?pool_size=1&pool_wait_ms=300");
  ASSERT_NE(store, nullptr);
  PgAdmin locker(url());
  ASSERT_TRUE(locker.ok());
  ASSERT_EQ(locker.exec("BEGIN"), "");
  ASSERT_EQ(locker.exec("LOCK TABLE meta IN ACCESS EXCLUSIVE MODE"), "");
  std::atomic<bool> put_done{false};
  Status put_result;
  std::thread blocked([&] {
    put_result = store->put_meta("k", "v");
    put_done = true;
  });
  // The put holds the pool's connection once the server shows it waiting on the lock.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (locker.exec("SELECT count(*) FROM pg_locks WHERE NOT granted") == "0") {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the put never waited on the lock";
    std::this_thread::yield();
  }
  auto started = std::chrono::steady_clock::now();
  auto version = store->catalog_version();
  auto waited = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(version.error().code, "store_unavailable");
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2s);
  EXPECT_FALSE(put_done.load());
  ASSERT_EQ(locker.exec("COMMIT"), "");
  blocked.join();
  EXPECT_TRUE(put_result.ok()) << put_result.error().message;
  auto meta = store->get_meta("k");
  ASSERT_TRUE(meta && *meta);
  EXPECT_EQ(**meta, "v");
}

}  // namespace
}  // namespace sealhook
