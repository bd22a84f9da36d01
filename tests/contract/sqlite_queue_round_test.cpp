// The sqlite queue's round gap (SqliteQueueOptions::round_gap): under a steady load (work that
// came while a commit was being written) rounds start at least the gap apart, so that commits
// carry more each; a queue that waited for work commits it at once, whatever the gap.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "queue/sqlite/sqlite_queue.hpp"

namespace sealhook {
namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

class SqliteQueueRound : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sealhook-queue-round-" + std::to_string(::getpid()) + "-" +
            std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteQueue> open(std::chrono::microseconds gap) {
    SqliteQueueOptions o;
    o.path = (dir_ / "queue.db").string();
    o.round_gap = gap;
    auto q = SqliteQueue::open(o, clock_);
    EXPECT_TRUE(q) << q.error().message;
    return q ? std::move(*q) : nullptr;
  }

  std::vector<QueuedDelivery> one(const std::string& id) {
    QueuedDelivery d;
    d.id = id;
    d.tenant_id = "tn";
    d.endpoint_id = "ep-" + id;
    d.event_id = "evt-" + id;
    d.event_type = "a";
    d.body = std::make_shared<const std::string>(512, 'c');
    d.not_before_ms = clock_.now_ms();
    std::vector<QueuedDelivery> batch;
    batch.push_back(std::move(d));
    return batch;
  }

  fs::path dir_;
  ManualClock clock_{1'000};
};

// One delivery at a time, each settled and synced before the next push: every round finds the
// queue thread waiting, so a 5 s gap delays none of the 20 (the gap paid each time: 100 s).
TEST_F(SqliteQueueRound, AQueueThatWaitedForWorkCommitsAtOnce) {
  auto q = open(std::chrono::seconds(5));
  ASSERT_TRUE(q);
  const auto start = Steady::now();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(q->push(one("d" + std::to_string(i))).ok());
    std::vector<Lease> leases;
    for (int tries = 0; leases.empty() && tries < 1000; ++tries) {
      leases = q->lease(clock_.now_ms(), 1, 60'000);
      if (leases.empty()) q->quiesce();
    }
    ASSERT_EQ(leases.size(), 1u);
    ASSERT_TRUE(q->ack(leases[0]).ok());
    ASSERT_TRUE(q->sync().ok());
  }
  EXPECT_LT(Steady::now() - start, std::chrono::seconds(5));
}

// A publisher pushing one delivery every 100 µs for 200 ms: some push comes while a commit is
// being written, so the next round waits for the gap and the last answer comes at least a gap
// after the first push (without the gap, within a few ms of the last push).
TEST_F(SqliteQueueRound, PushesThatCameDuringACommitWaitForTheGap) {
  constexpr auto kGap = std::chrono::seconds(1);
  auto q = open(kGap);
  ASSERT_TRUE(q);
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, failed = 0;
  Steady::time_point last;
  const auto start = Steady::now();
  int pushes = 0;
  for (; Steady::now() - start < std::chrono::milliseconds(200); ++pushes) {
    q->push_async(one("d" + std::to_string(pushes)), [&](Status st) {
      std::lock_guard lock(mu);
      if (!st) failed++;
      answered++;
      last = Steady::now();
      cv.notify_all();
    });
    std::this_thread::sleep_for(std::chrono::microseconds(100));  // the load's pace
  }
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return answered == pushes; }));
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(q->stats().depth, static_cast<size_t>(pushes));
  EXPECT_GE(last - start, kGap);
}

}  // namespace
}  // namespace sealhook
