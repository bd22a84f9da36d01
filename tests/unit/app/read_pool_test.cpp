// ReadPool (app/read_pool.hpp): one flush covers every read queued before it, in order.
#include "app/read_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <vector>

namespace sealhook::app {
namespace {

TEST(ReadPool, OneFlushCoversTheReadsQueuedBeforeIt) {
  std::mutex mu;
  std::vector<int> log;  // 0: a flush; n > 0: read n
  std::promise<void> release;
  auto gate = release.get_future().share();
  std::atomic<int> flushes{0};
  ReadPool pool([&] {
    if (flushes++ == 0) gate.wait();  // the first flush holds the thread while reads queue up
    std::lock_guard lock(mu);
    log.push_back(0);
  });
  std::vector<bool> flushed(6, false);
  auto read = [&](int n) {
    return [&, n] {
      flushed[static_cast<size_t>(n)] = ReadPool::flushed_for_batch();
      std::lock_guard lock(mu);
      log.push_back(n);
    };
  };
  pool.post(read(1));
  while (flushes.load() == 0) std::this_thread::yield();
  for (int n = 2; n <= 5; ++n) pool.post(read(n));  // queued while the first batch flushes
  release.set_value();
  pool.join();
  EXPECT_EQ(log, (std::vector<int>{0, 1, 0, 2, 3, 4, 5}));
  for (int n = 1; n <= 5; ++n) EXPECT_TRUE(flushed[static_cast<size_t>(n)]) << n;
  EXPECT_FALSE(ReadPool::flushed_for_batch());  // not on this thread
  pool.post(read(1));                           // after join: dropped
  EXPECT_EQ(log.size(), 7u);
}

}  // namespace
}  // namespace sealhook::app
