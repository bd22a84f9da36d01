#pragma once
// The embedded queue: bounded, in process, sharded by endpoint so that publishers and the
// dispatcher do not contend on one lock. Each endpoint has a lane (FIFO of due deliveries);
// retries wait in a per-shard timer heap. A crash loses what is queued (PRODUCT.md §5).
#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "queue/queue.hpp"

namespace sealhook {

class MemoryQueue final : public Queue {
 public:
  MemoryQueue(const QueueOptions& options, const Clock& clock);

  Status push(std::vector<QueuedDelivery>&& batch) override;
  std::vector<QueuedDelivery> lease(int64_t now_ms, size_t max) override;
  void complete(const QueuedDelivery& d) override;
  void retry(QueuedDelivery&& d) override;
  void close() override;
  QueueStats stats() const override;
  Status ping() override { return {}; }
  void set_ready_listener(std::function<void()> listener) override {
    listener_ = std::move(listener);
  }

 private:
  struct Lane {
    std::deque<QueuedDelivery> ready;  // in publish order (ordered lanes: head first)
    int inflight = 0;
    bool listed = false;  // present in the shard's active list
  };
  struct Timer {
    int64_t due_ms;
    uint64_t seq;
    std::string endpoint_id;
    std::optional<QueuedDelivery> delivery;  // empty: wake an ordered lane whose head waits
    bool operator>(const Timer& o) const {
      return due_ms != o.due_ms ? due_ms > o.due_ms : seq > o.seq;
    }
  };
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Lane> lanes;
    std::deque<std::string> active;  // lanes that may have something to hand out
    std::vector<Timer> timers;       // min-heap on due_ms
    uint64_t timer_seq = 0;
    // Deliveries waiting in this shard (lanes and timers, not leased): lease() skips a shard
    // at 0 without locking it. Changed under `mu`, read without it.
    std::atomic<size_t> waiting{0};
  };

  Shard& shard_for(const std::string& endpoint_id);
  void activate(Shard& s, const std::string& endpoint_id, Lane& lane);
  void add_timer(Shard& s, Timer t);
  void release_due_timers(Shard& s, int64_t now_ms);
  bool takeable(const Lane& lane, int64_t now_ms) const;
  void lease_from(Shard& s, int64_t now_ms, size_t max, std::vector<QueuedDelivery>& out);
  void finish(Shard& s, const std::string& endpoint_id, Lane& lane);

  QueueOptions options_;
  const Clock& clock_;
  std::function<void()> listener_;
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> size_{0};
  std::atomic<size_t> leased_{0};
  std::atomic<size_t> next_shard_{0};
  std::atomic<bool> closed_{false};
};

}  // namespace sealhook
