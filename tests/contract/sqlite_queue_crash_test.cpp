// The sqlite queue survives a real crash: a child process pushes and leases, then dies at once
// (_exit: no destructor, no final commit), and a new queue on the same file finds everything.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "queue/sqlite/sqlite_queue.hpp"
#include "unit/store/test_util.hpp"

namespace sealhook {
namespace {

int count_rows(const std::string& path, const char* table) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string sql = std::string("SELECT COUNT(*) FROM ") + table;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  int n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

TEST(SqliteQueueCrash, KilledProcessLosesNothingAndItsHandOutsStayCounted) {
  testing::TempDir dir;
  SqliteQueueOptions o;
  o.queue = QueueOptions{.capacity = 1000, .max_inflight_per_endpoint = 2};
  o.path = (dir.path() / "queue.db").string();
  ManualClock clock;

  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto q = SqliteQueue::open(o, clock);
    if (!q) _exit(10);
    // 10 events for 5 endpoints of one tenant: one ciphertext per event, shared.
    for (int e = 0; e < 10; ++e) {
      auto body = std::make_shared<const std::string>("cipher-" + std::to_string(e));
      std::vector<QueuedDelivery> batch;
      for (int ep = 0; ep < 5; ++ep) {
        QueuedDelivery d;
        d.id = "msg_" + std::to_string(e) + "_" + std::to_string(ep);
        d.tenant_id = "tn";
        d.endpoint_id = "ep" + std::to_string(ep);
        d.event_id = "evt_" + std::to_string(e);
        d.event_type = "a";
        d.body = body;
        d.not_before_ms = clock.now_ms();
        batch.push_back(std::move(d));
      }
      if (!(*q)->push(std::move(batch))) _exit(11);
    }
    (*q)->quiesce();
    auto leased = (*q)->lease(clock.now_ms(), 100, 60'000);
    _exit(leased.size() == 10 ? 0 : 12);  // 2 per endpoint; killed with them in flight
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  EXPECT_EQ(count_rows(o.path, "deliveries"), 50);
  EXPECT_EQ(count_rows(o.path, "bodies"), 10);  // stored once per (event, tenant)
  auto q = SqliteQueue::open(o, clock);
  ASSERT_TRUE(q.ok()) << q.error().message;
  EXPECT_EQ((*q)->stats().depth, 50u);
  std::map<std::string, int> handouts;
  for (int round = 0; round < 25; ++round) {
    (*q)->quiesce();
    auto got = (*q)->lease(clock.now_ms(), 100, 60'000);
    ASSERT_FALSE(got.empty()) << round;
    for (auto& l : got) {
      EXPECT_EQ(*l.delivery->body, "cipher-" + l.delivery->event_id.substr(4));
      handouts[l.delivery->id] = l.handouts;
      ASSERT_TRUE((*q)->ack(l).ok());
    }
    if (handouts.size() == 50) break;
  }
  ASSERT_EQ(handouts.size(), 50u);
  int again = 0;
  for (auto& [id, n] : handouts) again += n == 2;
  EXPECT_EQ(again, 10);  // the ten in flight at the crash: their first hand-out counted
  ASSERT_TRUE((*q)->sync().ok());
  EXPECT_EQ(count_rows(o.path, "deliveries"), 0);
  EXPECT_EQ(count_rows(o.path, "bodies"), 0);
}

}  // namespace
}  // namespace sealhook
