#include <set>
#include <thread>

#include "core/ids.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::delivery;

class SqliteDeliveriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::open_store("sqlite::memory:");
    ASSERT_NE(store_, nullptr);
    for (const char* id : {"tn_a", "tn_b"}) {
      ASSERT_TRUE(
          store_->insert_tenant(testing::tenant(id), testing::api_key(std::string("ak_") + id, id))
              .ok());
    }
  }

  void write(std::vector<DeliveryUpdate> batch) {
    Status s = store_->write_deliveries(batch);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  std::unique_ptr<Store> store_;
};

TEST_F(SqliteDeliveriesTest, UpsertsAppendsAttemptsAndKeepsDeadLetters) {
  DeliveryRecord d = delivery("tn_a", 1);
  write({{d, {}, {}, false}});

  d.attempts = 1;
  d.updated_at_ms = 2000;
  d.next_attempt_at_ms = 3000;
  d.last_error = "HTTP 503";
  write({{d, {{d.id, 1, 2000, 15, 503, "HTTP 503"}}, {}, false}});

  d.status = DeliveryStatus::kDead;
  d.attempts = 2;
  d.next_attempt_at_ms = 0;
  d.last_error = "timeout";
  std::string body("eyJhbGciOi.\0binary.ok", 21);
  write({{d, {{d.id, 2, 3000, 10000, 0, "timeout"}}, body, false}});

  auto got = store_->get_delivery("tn_a", d.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  const DeliveryRecord& r = **got;
  EXPECT_EQ(r.status, DeliveryStatus::kDead);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.endpoint_id, "ep_1");
  EXPECT_EQ(r.event_id, "evt_1");
  EXPECT_EQ(r.event_type, "order.created");
  EXPECT_EQ(r.created_at_ms, 1001);
  EXPECT_EQ(r.updated_at_ms, 2000);
  EXPECT_EQ(r.next_attempt_at_ms, 0);
  EXPECT_EQ(r.last_error, "timeout");

  auto attempts = store_->get_attempts(d.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].number, 1);
  EXPECT_EQ((*attempts)[0].status_code, 503);
  EXPECT_EQ((*attempts)[0].duration_ms, 15);
  EXPECT_EQ((*attempts)[1].number, 2);
  EXPECT_EQ((*attempts)[1].at_ms, 3000);
  EXPECT_EQ((*attempts)[1].error, "timeout");
  EXPECT_EQ((*attempts)[1].delivery_id, d.id);

  auto dead = store_->get_dead_letter("tn_a", d.id);
  ASSERT_TRUE(dead.ok() && dead->has_value());
  EXPECT_EQ((*dead)->body, body);  // binary-safe
  EXPECT_EQ((*dead)->record.status, DeliveryStatus::kDead);
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kDead), 1);

  // Replayed: pending again, the dead letter goes.
  d.status = DeliveryStatus::kPending;
  write({{d, {}, {}, true}});
  EXPECT_FALSE(store_->get_dead_letter("tn_a", d.id)->has_value());
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kDead), 0);
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kPending), 1);
  EXPECT_EQ(store_->get_attempts(d.id)->size(), 2u);
}

TEST_F(SqliteDeliveriesTest, CreateOnlyNeverOverwritesALaterUpdate) {
  DeliveryRecord done = delivery("tn_a", 1, DeliveryStatus::kDelivered);
  done.attempts = 1;
  write({{done, {{done.id, 1, 5, 5, 200, ""}}, {}, false}});
  DeliveryUpdate created{delivery("tn_a", 1), {}, {}, false};
  created.create_only = true;
  DeliveryUpdate fresh{delivery("tn_a", 2), {}, {}, false};
  fresh.create_only = true;
  write({created, fresh});
  EXPECT_EQ((*store_->get_delivery("tn_a", done.id))->status, DeliveryStatus::kDelivered);
  EXPECT_EQ((*store_->get_delivery("tn_a", done.id))->attempts, 1);
  EXPECT_EQ((*store_->get_delivery("tn_a", fresh.record.id))->status, DeliveryStatus::kPending);
}

// Two processes settle one delivery: attempt 2's worker records first, then attempt 1's
// (whose lease had expired) arrives late. The later attempt's record stands.
TEST_F(SqliteDeliveriesTest, AnEarlierAttemptNeverOverwritesALaterOne) {
  DeliveryRecord later = delivery("tn_a", 1, DeliveryStatus::kDelivered);
  later.attempts = 2;
  write({{later, {{later.id, 2, 5, 5, 200, ""}}, {}, false}});
  DeliveryRecord stale = delivery("tn_a", 1, DeliveryStatus::kPending);
  stale.attempts = 1;
  stale.last_error = "HTTP 500";
  write({{stale, {{stale.id, 1, 4, 5, 500, "HTTP 500"}}, {}, false}});
  auto got = *store_->get_delivery("tn_a", later.id);
  EXPECT_EQ(got->status, DeliveryStatus::kDelivered);
  EXPECT_EQ(got->attempts, 2);
  EXPECT_EQ(got->last_error, "");
  DeliveryRecord next = delivery("tn_a", 1, DeliveryStatus::kDead);
  next.attempts = 3;  // a later attempt still updates
  write({{next, {}, {}, false}});
  EXPECT_EQ((*store_->get_delivery("tn_a", later.id))->status, DeliveryStatus::kDead);
}

TEST_F(SqliteDeliveriesTest, ReadsAreScopedByTenant) {
  write({{delivery("tn_a", 1, DeliveryStatus::kDead), {}, std::string("x"), false}});
  const std::string id = delivery("tn_a", 1).id;
  EXPECT_TRUE(store_->get_delivery("tn_a", id)->has_value());
  EXPECT_FALSE(store_->get_delivery("tn_b", id)->has_value());
  EXPECT_TRUE(store_->get_dead_letter("tn_a", id)->has_value());
  EXPECT_FALSE(store_->get_dead_letter("tn_b", id)->has_value());
  EXPECT_FALSE(store_->get_delivery("tn_a", "msg_missing")->has_value());
}

TEST_F(SqliteDeliveriesTest, RecordsOfAVanishedTenantAreSkipped) {
  write({{delivery("tn_a", 1), {}, {}, false}});
  DeliveryRecord gone = delivery("tn_gone", 2);
  write({{gone, {{"", 1, 1, 1, 200, ""}}, std::string("x"), false},
         {delivery("tn_b", 3), {}, {}, false}});
  EXPECT_EQ(*store_->count_deliveries(std::nullopt), 2);
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kDead), 0);  // no dead letter either
  EXPECT_TRUE(store_->get_attempts(gone.id)->empty());
  EXPECT_TRUE(store_->get_delivery("tn_a", delivery("tn_a", 1).id)->has_value());
  EXPECT_TRUE(store_->get_delivery("tn_b", delivery("tn_b", 3).id)->has_value());
}

// Recovery's pages: every pending record updated before the bound, once, tenant by tenant;
// dead and delivered ones and a tenant with none pending are passed over.
TEST_F(SqliteDeliveriesTest, PendingRecordsComeInPages) {
  ASSERT_TRUE(
      store_->insert_tenant(testing::tenant("tn_c"), testing::api_key("ak_c", "tn_c")).ok());
  std::vector<DeliveryUpdate> batch;
  std::set<std::pair<std::string, std::string>> expected;
  for (int i = 1; i <= 40; ++i) {
    DeliveryStatus st = i % 7 == 0   ? DeliveryStatus::kDead
                        : i % 5 == 0 ? DeliveryStatus::kDelivered
                                     : DeliveryStatus::kPending;
    for (const char* t : {"tn_a", "tn_c"}) {
      DeliveryRecord d = delivery(t, i, st);
      if (st == DeliveryStatus::kPending && d.updated_at_ms < 1035) expected.insert({t, d.id});
      batch.push_back({d, {}, {}, false});
    }
    batch.push_back({delivery("tn_b", 100 + i, DeliveryStatus::kDead), {}, {}, false});
  }
  write(batch);
  auto all = store_->pending_deliveries(1035);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(std::set(all->begin(), all->end()), expected);
  for (size_t limit : {1u, 3u, 7u, 100u}) {
    std::set<std::pair<std::string, std::string>> seen;
    std::optional<std::pair<std::string, std::string>> after;
    size_t pages = 0;
    for (;;) {
      auto page = store_->pending_deliveries(1035, after, limit);
      ASSERT_TRUE(page.ok()) << page.error().message;
      if (page->empty()) break;
      ASSERT_LE(page->size(), limit);
      for (const auto& p : *page) EXPECT_TRUE(seen.insert(p).second) << p.second;
      after = page->back();
      ASSERT_LT(++pages, 100u);
    }
    EXPECT_EQ(seen, expected) << limit;
  }
}

// A store on a file reads tenants' deliveries on a connection of its own: what a batch
// committed is read at once, and reads go on while another thread writes batch after batch.
TEST(SqliteStoreReader, ReadsWhatWasCommittedBesideTheWriter) {
  testing::TempDir dir;
  auto store = testing::open_store("sqlite:" + (dir.path() / "s.db").string());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn_a"), testing::api_key("ak_a", "tn_a")).ok());
  DeliveryRecord d = delivery("tn_a", 1, DeliveryStatus::kDead);
  d.attempts = 1;
  ASSERT_TRUE(
      store->write_deliveries({{d, {{d.id, 1, 5, 7, 500, "boom"}}, std::string("x"), false}}).ok());
  auto got = store->get_delivery("tn_a", d.id);
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->status, DeliveryStatus::kDead);
  auto attempts = store->get_attempts(d.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].error, "boom");

  std::thread writer([&] {
    for (int i = 2; i <= 400; ++i)
      ASSERT_TRUE(store->write_deliveries({{delivery("tn_a", i), {}, {}, false}}).ok());
  });
  size_t last = 0;
  for (int i = 0; i < 200; ++i) {
    auto page = store->list_deliveries("tn_a", std::nullopt, 1000, std::nullopt);
    ASSERT_TRUE(page.ok()) << page.error().message;
    EXPECT_GE(page->data.size(), last);  // never goes back
    last = page->data.size();
  }
  writer.join();
  auto page = store->list_deliveries("tn_a", std::nullopt, 1000, std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->data.size(), 400u);
  EXPECT_EQ(page->data.front().id, delivery("tn_a", 400).id);
}

TEST_F(SqliteDeliveriesTest, ListsNewestFirstInPages) {
  std::vector<DeliveryUpdate> batch;
  for (int i = 1; i <= 25; ++i) {
    batch.push_back(
        {delivery("tn_a", i, i % 5 == 0 ? DeliveryStatus::kDead : DeliveryStatus::kDelivered),
         {},
         {},
         false});
    batch.push_back({delivery("tn_b", 100 + i), {}, {}, false});
  }
  write(batch);

  std::vector<std::string> seen;
  std::vector<size_t> sizes;
  std::optional<std::string> cursor;
  do {
    auto page = store_->list_deliveries("tn_a", std::nullopt, 10, cursor);
    ASSERT_TRUE(page.ok());
    sizes.push_back(page->data.size());
    for (const auto& d : page->data) {
      EXPECT_EQ(d.tenant_id, "tn_a");
      seen.push_back(d.id);
    }
    if (page->next) {
      EXPECT_EQ(*page->next, page->data.back().id);
    }
    cursor = page->next;
  } while (cursor && sizes.size() < 10);
  EXPECT_EQ(sizes, (std::vector<size_t>{10, 10, 5}));
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(seen.front(), delivery("tn_a", 25).id);

  // Exactly a page left: no phantom next.
  auto exact = store_->list_deliveries("tn_a", std::nullopt, 5, delivery("tn_a", 6).id);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->data.size(), 5u);
  EXPECT_FALSE(exact->next.has_value());

  auto dead = store_->list_deliveries("tn_a", DeliveryStatus::kDead, 3, std::nullopt);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->data.size(), 3u);
  EXPECT_EQ(dead->data[0].id, delivery("tn_a", 25).id);
  EXPECT_EQ(dead->data[2].id, delivery("tn_a", 15).id);
  ASSERT_TRUE(dead->next.has_value());
  auto rest = store_->list_deliveries("tn_a", DeliveryStatus::kDead, 3, dead->next);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->data.size(), 2u);
  EXPECT_EQ(rest->data[1].id, delivery("tn_a", 5).id);
  EXPECT_FALSE(rest->next.has_value());

  EXPECT_TRUE(
      store_->list_deliveries("tn_b", DeliveryStatus::kDead, 10, std::nullopt)->data.empty());
  EXPECT_EQ(
      store_->list_deliveries("tn_b", DeliveryStatus::kPending, 100, std::nullopt)->data.size(),
      25u);
  EXPECT_TRUE(store_->list_deliveries("tn_zz", std::nullopt, 10, std::nullopt)->data.empty());
  EXPECT_EQ(*store_->count_deliveries(std::nullopt), 50);
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kDelivered), 20);
}

TEST_F(SqliteDeliveriesTest, IdempotencyWindow) {
  using R = Reservation;
  // Reserved at 1000 (nothing expired, no reservation stale); held while in progress.
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-1", "h", 1000, 0, 0)->state, R::kReserved);
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-1", "h", 1000, 0, 0)->state, R::kInProgress);
  ASSERT_TRUE(store_->complete_idempotency("tn_a", "key-1", R"({"event_id":"evt_1"})").ok());
  auto hit =
      store_->reserve_idempotency("tn_a", "key-1", "h", 1000, 1000, 0);  // created 1000: kept
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->state, R::kDone);
  EXPECT_EQ(hit->response_json, R"({"event_id":"evt_1"})");
  EXPECT_EQ(store_->reserve_idempotency("admin", "key-1", "h", 1000, 0, 0)->state,
            R::kReserved);  // other scope
  ASSERT_TRUE(store_->release_idempotency("admin", "key-1").ok());
  ASSERT_TRUE(store_->release_idempotency("tn_a", "key-1").ok());  // an answer is not released
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-1", "h", 1000, 1000, 0)->state, R::kDone);

  // An expired key may be reused.
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-1", "h", 5000, 1001, 0)->state, R::kReserved);
  ASSERT_TRUE(store_->complete_idempotency("tn_a", "key-1", R"({"event_id":"evt_2"})").ok());
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-1", "h", 5000, 4000, 0)->response_json,
            R"({"event_id":"evt_2"})");

  // A reservation whose publish died is taken over once stale, not before.
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-2", "h", 100, 0, 0)->state, R::kReserved);
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-2", "h", 200, 0, 100)->state, R::kInProgress);
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-2", "h", 200, 0, 101)->state, R::kReserved);
  // A released one is free at once.
  ASSERT_TRUE(store_->release_idempotency("tn_a", "key-2").ok());
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-2", "h", 200, 0, 0)->state, R::kReserved);

  EXPECT_EQ(store_->reserve_idempotency("admin", "old", "h", 10, 0, 0)->state, R::kReserved);
  ASSERT_TRUE(store_->complete_idempotency("admin", "old", "{}").ok());
  ASSERT_TRUE(store_->purge_idempotency(5000).ok());
  EXPECT_EQ(store_->reserve_idempotency("admin", "old", "h", 6000, 0, 0)->state, R::kReserved);
  EXPECT_EQ(store_->reserve_idempotency("tn_a", "key-1", "h", 6000, 0, 0)->state, R::kDone);
}

TEST_F(SqliteDeliveriesTest, IdempotencyKeyRemembersTheRequestThatUsedIt) {
  using R = Reservation;
  EXPECT_EQ(store_->reserve_idempotency("admin", "k", "h1", 1000, 0, 0)->state, R::kReserved);
  // In progress: the same request waits, another one is refused.
  EXPECT_EQ(store_->reserve_idempotency("admin", "k", "h1", 1000, 0, 0)->state, R::kInProgress);
  EXPECT_EQ(store_->reserve_idempotency("admin", "k", "h2", 1000, 0, 0)->state, R::kMismatch);
  ASSERT_TRUE(store_->complete_idempotency("admin", "k", R"({"event_id":"evt_1"})").ok());
  auto done = store_->reserve_idempotency("admin", "k", "h1", 1000, 0, 0);
  EXPECT_EQ(done->state, R::kDone);
  EXPECT_EQ(done->response_json, R"({"event_id":"evt_1"})");
  auto other = store_->reserve_idempotency("admin", "k", "h2", 1000, 0, 0);
  EXPECT_EQ(other->state, R::kMismatch);
  EXPECT_EQ(other->response_json, "");  // another request learns nothing of the first answer
  // Past its window a key is free for any request, which it then stands for.
  EXPECT_EQ(store_->reserve_idempotency("admin", "k", "h2", 9000, 1001, 0)->state, R::kReserved);
  EXPECT_EQ(store_->reserve_idempotency("admin", "k", "h1", 9000, 0, 0)->state, R::kMismatch);

  // A stale reservation (its publish died) is taken over by the same request only: the dead
  // publish may have queued its deliveries.
  EXPECT_EQ(store_->reserve_idempotency("admin", "s", "h1", 100, 0, 0)->state, R::kReserved);
  EXPECT_EQ(store_->reserve_idempotency("admin", "s", "h2", 200, 0, 101)->state, R::kMismatch);
  EXPECT_EQ(store_->reserve_idempotency("admin", "s", "h1", 200, 0, 101)->state, R::kReserved);
}

TEST_F(SqliteDeliveriesTest, TenThousandRecordsInOneBatch) {
  std::vector<DeliveryUpdate> batch;
  for (int i = 0; i < 10'000; ++i) {
    DeliveryRecord d = delivery(i % 2 ? "tn_a" : "tn_b", i);
    d.id = new_id("msg_", 1'700'000'000'000 + i);
    d.status = i % 10 == 0 ? DeliveryStatus::kDead : DeliveryStatus::kDelivered;
    std::optional<std::string> body;
    if (d.status == DeliveryStatus::kDead) body = std::string(512, 'j');
    batch.push_back({d, {{d.id, 1, d.created_at_ms, 3, 200, ""}}, body, false});
  }
  write(batch);
  EXPECT_EQ(*store_->count_deliveries(std::nullopt), 10'000);
  EXPECT_EQ(*store_->count_deliveries(DeliveryStatus::kDead), 1'000);
  const DeliveryRecord& last = batch.back().record;
  auto page = store_->list_deliveries("tn_a", std::nullopt, 1, std::nullopt);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->data.at(0).id, last.id);
  EXPECT_EQ(store_->get_attempts(last.id)->size(), 1u);
  EXPECT_EQ((*store_->get_dead_letter("tn_b", batch[0].record.id))->body.size(), 512u);
}

TEST_F(SqliteDeliveriesTest, SeveralThreadsShareTheStore) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(
            store_->write_deliveries({{delivery("tn_a", t * 1000 + i), {}, {}, false}}).ok());
        EXPECT_TRUE(store_->list_deliveries("tn_a", std::nullopt, 5, std::nullopt).ok());
        EXPECT_TRUE(store_->ping().ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(*store_->count_deliveries(std::nullopt), 200);
}

TEST(SqliteBusy, ALockedDatabaseIsUnavailableNotACrash) {
  testing::TempDir dir;
  const std::string file = (dir.path() / "busy.db").string();
  auto store = sqlite::SqliteStore::open(file, {.busy_timeout_ms = 20});
  ASSERT_TRUE(store.ok());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  Status s = (*store)->put_meta("k", "v");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(s.error().code, "store_busy");
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_TRUE((*store)->put_meta("k", "v").ok());  // and it recovers
}

}  // namespace
}  // namespace sealhook
