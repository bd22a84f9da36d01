#pragma once
// The volatile queue: bounded, in process, sharded by tenant so that publishers and the
// dispatcher do not contend on one lock and a tenant's fair share is counted under one lock.
// Each endpoint has a lane (FIFO of due deliveries); retries wait in a per-shard timer heap;
// leases in a per-shard map with a deadline heap; a tenant at its in-flight cap has its lanes
// parked until one of its leases settles. An endpoint's ordering is its lane's; one set by
// set_ordering() is kept per shard beyond the lane's life.
// A crash loses what is queued (PRODUCT.md §5).
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
  std::vector<Lease> lease(int64_t now_ms, size_t max, int64_t lease_ms) override;
  Status ack(const Lease& lease) override { return forget(lease); }
  Status retry(const Lease& lease, int64_t at_ms) override;
  Status defer(const Lease& lease, int64_t at_ms) override;
  Status dead(const Lease& lease) override { return forget(lease); }
  Status extend(const Lease& lease, int64_t deadline_ms) override;
  void close() override;
  void set_ready_listener(std::function<void()> listener) override {
    listener_ = std::move(listener);
  }
  std::optional<int64_t> next_due_ms() const override;
  QueueStats stats() const override;
  std::optional<size_t> count_scheduled(int64_t now_ms) const override;
  Status ping() override { return {}; }
  Result<std::vector<std::string>> holding(const std::vector<std::string>& ids) override;
  Result<std::shared_ptr<const IdSet>> held_ids() override;
  bool durable() const override { return false; }
  Status set_ordering(const EndpointOrdering& ordering) override;
  std::vector<EndpointOrdering> orderings() const override;

 private:
  // A body's share of the byte count, held by every queued delivery that shares the body;
  // the last one to go takes its bytes off.
  struct BodyCharge {
    BodyCharge(std::shared_ptr<std::atomic<size_t>> t, size_t n) : total(std::move(t)), bytes(n) {}
    BodyCharge(const BodyCharge&) = delete;
    BodyCharge& operator=(const BodyCharge&) = delete;
    ~BodyCharge() { total->fetch_sub(bytes); }
    std::shared_ptr<std::atomic<size_t>> total;
    size_t bytes;
  };
  struct Item {
    QueuedDelivery d;
    int handouts = 0;
    std::shared_ptr<BodyCharge> charge;  // released when the queue forgets the delivery
    uint64_t seq = 0;                    // push order within its shard: an ordered lane's order
  };
  using ItemPtr = std::shared_ptr<Item>;
  struct Lane {
    std::deque<ItemPtr> ready;  // ordered lanes: every waiting one, by seq, head first
    bool ordered = false;
    int64_t wake_ms = 0;  // an ordered lane's pending wake-up for its head (0: none)
    int inflight = 0;
    bool listed = false;  // present in the shard's active list or its tenant's parked list
    std::string tenant_id;
  };
  struct TenantState {
    int inflight = 0;                 // leases out
    int busy_lanes = 0;               // lanes with a lease out
    size_t lanes = 0;                 // lanes that exist (the state goes with the last)
    std::vector<std::string> parked;  // lanes waiting for the tenant to drop below its cap
  };
  struct Timer {
    int64_t due_ms;
    uint64_t seq;
    std::string endpoint_id;
    ItemPtr item;  // empty: wake an ordered lane whose head waits
    bool operator>(const Timer& o) const {
      return due_ms != o.due_ms ? due_ms > o.due_ms : seq > o.seq;
    }
  };
  struct Held {
    ItemPtr item;
    int64_t deadline_ms;
  };
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Lane> lanes;
    std::unordered_map<std::string, TenantState> tenants;
    std::deque<std::string> active;  // lanes that may have something to hand out
    std::vector<Timer> timers;       // min-heap on due_ms
    uint64_t timer_seq = 0;
    uint64_t push_seq = 0;
    std::unordered_map<std::string, EndpointOrdering> modes;  // set_ordering(), by endpoint
    std::unordered_map<uint64_t, Held> leases;                // by token
    std::vector<std::pair<int64_t, uint64_t>> deadlines;      // min-heap (deadline, token)
    // Deliveries waiting in this shard (lanes and timers, not leased) and leases out: lease()
    // skips a shard at 0 without locking it. Changed under `mu`, read without it.
    std::atomic<size_t> waiting{0};
    std::atomic<size_t> out{0};
  };

  Shard& shard_for(const std::string& tenant_id);
  // The delivery's lane, made (and counted in its tenant) when it is new.
  Lane& lane_of(Shard& s, const QueuedDelivery& d);
  void activate(Shard& s, const std::string& endpoint_id, Lane& lane);
  // Into an ordered lane at its place in publish order.
  static void insert_ordered(Lane& lane, ItemPtr item);
  // An ordered lane whose head is not due yet is woken by a timer at the head's time.
  void wake_for_head(Shard& s, const std::string& endpoint_id, Lane& lane, int64_t now_ms);
  // set_ordering()'s work on one shard (lock held).
  void switch_lane(Shard& s, const EndpointOrdering& e, int64_t now_ms);
  // A lease of `lane` starts or ends: the lane's and its tenant's counts.
  void took(Shard& s, Lane& lane);
  void released(Shard& s, Lane& lane);
  void add_timer(Shard& s, Timer t);
  void release_due_timers(Shard& s, int64_t now_ms);
  void expire_leases(Shard& s, int64_t now_ms);
  bool takeable(const Shard& s, const Lane& lane, int64_t now_ms) const;
  void lease_from(Shard& s, int64_t now_ms, size_t max, int64_t lease_ms, std::vector<Lease>& out);
  void finish(Shard& s, const std::string& endpoint_id, Lane& lane);
  // Removes the lease from its shard (lock held); null when it is not held.
  ItemPtr take_lease(Shard& s, const Lease& lease);
  // retry() and defer(): back at `at_ms`, `given_back` hand-outs uncounted.
  Status put_back(const Lease& lease, int64_t at_ms, int given_back);
  Status forget(const Lease& lease);

  QueueOptions options_;
  const Clock& clock_;
  std::function<void()> listener_;
  std::array<Shard, kShards> shards_;
  std::atomic<size_t> size_{0};
  // Shared with the charges, which a lease may keep alive past the queue.
  std::shared_ptr<std::atomic<size_t>> bytes_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<size_t> leased_{0};
  std::atomic<size_t> next_shard_{0};
  std::atomic<uint64_t> next_token_{1};
  std::atomic<bool> closed_{false};
};

}  // namespace sealhook
