// What is particular to the SQLite store: a reader connection of its own beside the writer,
// and a locked database file. The behaviour common to every store is in the store contract
// suite (tests/contract/store_contract_*_test.cpp).
#include <thread>

#include "store/sqlite/sqlite_store.hpp"
#include "store/store.hpp"
#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::delivery;

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
