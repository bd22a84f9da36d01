#pragma once
// Tenants' delivery reads (GET /v1/deliveries, GET /v1/deliveries/{id}) run here, not on the
// blocking pool: one thread, at a lower CPU priority than the process (nice +kNice), so that
// tenants polling them queue behind one another instead of taking CPU or threads from the
// deliveries. Reads see their own writes through one journal flush per batch: the thread takes
// every read queued so far, flushes once (each was queued before the flush began, so the flush
// covers it) and runs them; ten pollers cost the journal one write cycle per batch, not one
// per poll. A read run in such a batch finds flushed_for_batch() true.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace sealhook::app {

class ReadPool {
 public:
  static constexpr int kNice = 19;
  // `flush` makes every update submitted before the call visible to reads (Journal::flush).
  explicit ReadPool(std::function<void()> flush);
  ~ReadPool();
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  void post(std::function<void()> task);
  // Runs what is queued, then stops the thread. post() afterwards runs nothing.
  void join();
  // True on the pool's thread while it runs a batch its flush covers.
  static bool flushed_for_batch();

 private:
  void run();

  std::function<void()> flush_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sealhook::app
