#pragma once
// Write-behind for delivery and attempt records: producers hand over updates and go on; one
// thread writes them in batches, one store transaction per batch, off the hot path. Updates of
// one delivery are merged, and a delivery's publish-time record waits (settle) for its outcome,
// so a delivery that succeeds is usually written once.
// flush() is a barrier for readers that must see their own writes (GET /v1/deliveries).
// A batch that fails to write (disk full, I/O error) is kept and retried, never dropped; the
// failures are counted (/metrics) and `healthy()` is false until a write succeeds again.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"

namespace sealhook {

struct JournalOptions {
  size_t max_batch = 2'000;
  size_t max_backlog = 200'000;  // producers wait when this many updates are unwritten
  // How long a small batch waits for company. Long enough that most deliveries finish inside
  // it, so their publish-time record and their outcome coalesce into one row write.
  std::chrono::milliseconds linger{20};
  // A batch holding an update someone waits for (a queue that acks only once its record is
  // written: kafka; a dead letter) lingers at most this long: that wait holds a delivery slot.
  std::chrono::milliseconds linger_waited{2};
  // A publish-time record (create_only) of a delivery that is still queued is held this long
  // before it is written on its own: if the outcome comes first, the two become one write.
  // flush() and stop() write held records at once. 0 holds nothing.
  std::chrono::milliseconds settle{5'000};
  size_t max_held = 50'000;  // beyond this many held records the oldest are written
  // After a failed write, the batch is tried again after this long (doubling up to 5 s).
  std::chrono::milliseconds retry_backoff{50};
};

// Called on the journal's thread once an update is durable.
using Written = std::function<void()>;

// Merges updates of the same delivery (publish-time record, attempts, outcome) into one, in
// order, so a batch writes each delivery once. Exposed for tests.
std::vector<DeliveryUpdate> coalesce(std::vector<DeliveryUpdate>&& batch);

class Journal {
 public:
  // `clock` times the settle period (tests drive a ManualClock).
  Journal(Store& store, const Clock& clock, JournalOptions options = {});
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  void submit(DeliveryUpdate&& update);
  void submit(std::vector<DeliveryUpdate>&& updates);
  // `written` (if set) runs once `update` is durable (after retries, if writes fail meanwhile).
  void submit(DeliveryUpdate&& update, Written written);
  // Returns once every update submitted before the call is written (or failed).
  void flush();
  // Flushes, then stops the writer thread.
  void stop();
  // Failed batch writes so far (each was retried).
  uint64_t write_errors() const;
  // False while the last write failed.
  bool healthy() const;
  // Updates not written yet: waiting for the writer, and in the batch it is writing (which
  // stays there, retried, while writes fail).
  uint64_t backlog() const;
  // Publish-time records held for their delivery's outcome (see JournalOptions::settle).
  uint64_t held() const { return held_count_.load(std::memory_order_relaxed); }

 private:
  struct Held {
    DeliveryUpdate update;
    int64_t since_ms;
  };
  void run();
  // Splits a coalesced batch into what is written now and what is held (writer thread only).
  std::vector<DeliveryUpdate> settle(std::vector<DeliveryUpdate>&& batch, bool everything);
  // Writes `out` until it succeeds (true) or the journal stops with the store still failing
  // (writer thread only, lock not held).
  bool write_until_done(const std::vector<DeliveryUpdate>& out);

  Store& store_;
  const Clock& clock_;
  JournalOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<DeliveryUpdate> pending_;
  // Callbacks by the running count of the update they follow; run once that one is written.
  std::deque<std::pair<uint64_t, Written>> callbacks_;
  uint64_t submitted_ = 0, taken_ = 0;
  uint64_t errors_ = 0, flush_requested_ = 0, flush_done_ = 0;
  bool healthy_ = true;
  bool stopping_ = false, exited_ = false;
  // Held publish-time records by delivery id, and their ids oldest first (writer thread only).
  std::unordered_map<std::string, Held> held_;
  std::deque<std::pair<int64_t, std::string>> held_order_;
  std::atomic<uint64_t> writing_{0};     // updates of the batch being written
  std::atomic<uint64_t> held_count_{0};  // held_.size(), for readers on other threads
  std::thread thread_;
};

}  // namespace sealhook
