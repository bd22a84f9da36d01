#pragma once
// Write-behind for delivery and attempt records: producers hand over updates and go on; one
// thread writes them in batches, one store transaction per batch, off the hot path.
// flush() is a barrier for readers that must see their own writes (GET /v1/deliveries).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "store/store.hpp"

namespace sealhook {

struct JournalOptions {
  size_t max_batch = 2'000;
  size_t max_backlog = 200'000;  // producers wait when this many updates are unwritten
  // How long a small batch waits for company. Long enough that most deliveries finish inside
  // it, so their publish-time record and their outcome coalesce into one row write.
  std::chrono::milliseconds linger{20};
};

// Merges updates of the same delivery (publish-time record, attempts, outcome) into one, in
// order, so a batch writes each delivery once. Exposed for tests.
std::vector<DeliveryUpdate> coalesce(std::vector<DeliveryUpdate>&& batch);

class Journal {
 public:
  Journal(Store& store, JournalOptions options = {});
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  void submit(DeliveryUpdate&& update);
  void submit(std::vector<DeliveryUpdate>&& updates);
  // Returns once every update submitted before the call is written (or failed).
  void flush();
  // Flushes, then stops the writer thread.
  void stop();
  uint64_t write_errors() const;

 private:
  void run();

  Store& store_;
  JournalOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<DeliveryUpdate> pending_;
  uint64_t submitted_ = 0, written_ = 0, errors_ = 0, flush_target_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sealhook
