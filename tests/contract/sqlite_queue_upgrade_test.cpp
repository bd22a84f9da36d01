// A queue file written by the previous schema (version 1: no body sizes on the deliveries)
// opens, keeps every delivery, and counts the bytes it holds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "queue/sqlite/sqlite_queue.hpp"
#include "unit/store/test_util.hpp"

namespace sealhook {
namespace {

constexpr const char* kVersion1 =
    "CREATE TABLE bodies (id INTEGER PRIMARY KEY, body BLOB NOT NULL);"
    "CREATE TABLE deliveries ("
    " seq INTEGER PRIMARY KEY, id TEXT NOT NULL, tenant_id TEXT NOT NULL,"
    " endpoint_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,"
    " body_id INTEGER NOT NULL, ordered INTEGER NOT NULL, prior_attempts INTEGER NOT NULL,"
    " handouts INTEGER NOT NULL, due_ms INTEGER NOT NULL, published_at_ms INTEGER NOT NULL);"
    "INSERT INTO bodies VALUES (1, CAST('0123456789' AS BLOB)), (2, CAST('abcd' AS BLOB));"
    "INSERT INTO deliveries VALUES"
    " (1, 'm1', 'tn', 'e1', 'evt1', 'a', 1, 0, 0, 0, 0, 0),"
    " (2, 'm2', 'tn', 'e2', 'evt1', 'a', 1, 0, 0, 0, 0, 0),"
    " (3, 'm3', 'tn', 'e3', 'evt2', 'a', 2, 0, 0, 1, 0, 0);"
    "PRAGMA user_version = 1;";

TEST(SqliteQueueUpgrade, AVersion1FileKeepsItsDeliveriesAndCountsTheirBytes) {
  testing::TempDir dir;
  const std::string path = (dir.path() / "queue.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, kVersion1, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  ManualClock clock{1'000};
  SqliteQueueOptions o;
  o.path = path;
  auto q = SqliteQueue::open(o, clock);
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ((*q)->stats().depth, 3u);
  EXPECT_EQ((*q)->stats().bytes, 14u);  // two bodies, the first shared by two deliveries
  (*q)->quiesce();
  auto got = (*q)->lease(clock.now_ms(), 10, 60'000);
  ASSERT_EQ(got.size(), 3u);
  for (auto& l : got) {
    EXPECT_EQ(*l.delivery->body, l.delivery->event_id == "evt1" ? "0123456789" : "abcd");
    ASSERT_TRUE((*q)->ack(l).ok());
  }
  EXPECT_EQ((*q)->stats().bytes, 0u);
  q->reset();
  auto again = SqliteQueue::open(o, clock);  // now a version-2 file
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ((*again)->stats().depth, 0u);
}

}  // namespace
}  // namespace sealhook
