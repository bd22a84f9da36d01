// Upgrading a database written by an older build: its rows survive every migration since.
#include <sqlite3.h>

#include "store/sqlite/migrations.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::TempDir;

// Runs `sql` on the database file at `path`, failing the test on any error.
void exec(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

TEST(Migrate, Version1DeliveriesAttemptsAndDeadLettersSurviveTheUpgrade) {
  auto all = sqlite::migrations();
  ASSERT_GE(all.size(), 2u);
  ASSERT_EQ(all[0].version, 1);
  TempDir dir;
  auto file = dir.path() / "old.db";
  // A version-1 database, as the first release left it, with one delivered and one dead row.
  exec(file, std::string("CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
                         " name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT"
                         " CURRENT_TIMESTAMP);") +
                 all[0].sql +
                 "INSERT INTO schema_version (version, name) VALUES (1, '0001_init.sql');"
                 "INSERT INTO tenants VALUES ('tn_a', 'a', 1);"
                 "INSERT INTO deliveries VALUES ('msg_1', 'tn_a', 'ep_1', 'evt_1', 'order.created',"
                 " 'delivered', 1, 10, 11, 0, '');"
                 "INSERT INTO deliveries VALUES ('msg_2', 'tn_a', 'ep_1', 'evt_2', 'order.created',"
                 " 'dead', 2, 20, 22, 0, 'HTTP 500');"
                 "INSERT INTO attempts VALUES ('msg_2', 1, 20, 5, 500, 'HTTP 500');"
                 "INSERT INTO attempts VALUES ('msg_2', 2, 21, 5, 500, 'HTTP 500');"
                 "INSERT INTO dead_letters VALUES ('msg_2', x'6a7765');");

  auto store = testing::open_store("sqlite:" + file.string());
  ASSERT_NE(store, nullptr);
  auto one = store->get_delivery("tn_a", "msg_1");
  ASSERT_TRUE(one.ok() && one->has_value());
  EXPECT_EQ((*one)->status, DeliveryStatus::kDelivered);
  EXPECT_EQ((*one)->updated_at_ms, 11);
  auto dead = store->get_dead_letter("tn_a", "msg_2");
  ASSERT_TRUE(dead.ok() && dead->has_value());
  EXPECT_EQ((*dead)->body, "jwe");
  EXPECT_EQ((*dead)->record.last_error, "HTTP 500");
  EXPECT_EQ(store->get_attempts("msg_2")->size(), 2u);
  auto dead_page = store->list_deliveries("tn_a", DeliveryStatus::kDead, 10, std::nullopt);
  ASSERT_TRUE(dead_page.ok());
  ASSERT_EQ(dead_page->data.size(), 1u);
  EXPECT_EQ(dead_page->data[0].id, "msg_2");
  auto delivered_page =
      store->list_deliveries("tn_a", DeliveryStatus::kDelivered, 10, std::nullopt);
  ASSERT_TRUE(delivered_page.ok());
  ASSERT_EQ(delivered_page->data.size(), 1u);
  EXPECT_EQ(delivered_page->data[0].id, "msg_1");
  // And the upgraded tables take new writes.
  ASSERT_TRUE(store->write_deliveries({{testing::delivery("tn_a", 3), {}, {}, false}}).ok());
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 3);
}

// Version 4 keeps a request hash with each idempotency key, version 5 an endpoint's rotated-out
// secret. A key recorded before that has no hash: it keeps its answer for any request with the
// key until its window ends, and is bound to a request from its next use on.
TEST(Migrate, Version3IdempotencyKeysAndEndpointsSurviveTheUpgrade) {
  auto all = sqlite::migrations();
  ASSERT_GE(all.size(), 5u);
  TempDir dir;
  auto file = dir.path() / "v3.db";
  std::string sql =
      "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
      " applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);";
  for (int v = 0; v < 3; ++v) {
    sql += all[v].sql;
    sql += "INSERT INTO schema_version (version, name) VALUES (" + std::to_string(all[v].version) +
           ", '" + all[v].name + "');";
  }
  exec(file, sql +
                 "INSERT INTO tenants VALUES ('tn_a', 'a', 1);"
                 "INSERT INTO endpoints VALUES ('ep_1', 'tn_a', 'https://x.example', 'whsec_x',"
                 " 'unordered', 6, 2);"
                 "INSERT INTO idempotency VALUES ('admin', 'old-key', '{\"event_id\":\"evt_1\"}',"
                 " 1000);");

  auto store = testing::open_store("sqlite:" + file.string());
  ASSERT_NE(store, nullptr);
  auto old = store->reserve_idempotency("admin", "old-key", "any-hash", 2000, 0, 0);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->state, Reservation::kDone);
  EXPECT_EQ(old->response_json, R"({"event_id":"evt_1"})");
  // Expired, it is taken by a request, and then stands for that request alone.
  EXPECT_EQ(store->reserve_idempotency("admin", "old-key", "h1", 9000, 1001, 0)->state,
            Reservation::kReserved);
  EXPECT_EQ(store->reserve_idempotency("admin", "old-key", "h2", 9000, 0, 0)->state,
            Reservation::kMismatch);

  auto catalog = store->load_catalog();
  ASSERT_TRUE(catalog.ok());
  ASSERT_EQ(catalog->endpoints.size(), 1u);
  EXPECT_EQ(catalog->endpoints[0].secret, "whsec_x");
  EXPECT_EQ(catalog->endpoints[0].previous_secret, "");  // no rotation
  EXPECT_EQ(catalog->endpoints[0].previous_secret_expires_at_ms, 0);
}

}  // namespace
}  // namespace sealhook
