#pragma once
// The durable embedded queue: every delivery is a row of a SQLite file (WAL) written by one
// thread in group commits; the ciphertext is stored once per (event, tenant) and shared by
// that tenant's endpoints. The scheduler (lanes per endpoint, timers, leases) is kept in
// memory as small slots; bodies stay on disk, with a bounded cache of recently pushed ones.
//
// A delivery is handed out in two steps so that every hand-out is counted on disk before any
// worker can act on it: the queue thread "arms" a due delivery (records its hand-out count and
// loads its body), then lease() hands armed deliveries out without touching the disk.
// On open, everything in the file is recovered: due deliveries, scheduled retries at their
// times, and leased ones (their lease died with the process; the hand-out stays counted).
// An endpoint's ordering is its lane's; one set by set_ordering() is a row of the same file.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "queue/queue.hpp"

namespace sealhook::sqlite {
class Connection;
}

struct sqlite3;

namespace sealhook {

struct SqliteQueueOptions {
  QueueOptions queue;
  std::string path;        // the database file
  bool sync_full = false;  // fsync every commit: survives power loss, not only a crash
  // Deliveries armed ahead of lease(). An armed delivery's hand-out is already counted, so a
  // crash costs each armed one an attempt; a small window keeps that small.
  size_t max_armed = 512;
  size_t cache_bytes = 64 * 1024 * 1024;  // bodies of queued deliveries kept in memory
  size_t max_group = 4096;                // deliveries written per commit, at most
  // Under a steady load, the least time from one round's start to the next's (0: back to
  // back): fewer, bigger commits for up to this much more latency (run() says why).
  std::chrono::microseconds round_gap{500};
};

class SqliteQueue final : public Queue {
 public:
  static Result<std::unique_ptr<SqliteQueue>> open(const SqliteQueueOptions& options,
                                                   const Clock& clock);
  ~SqliteQueue() override;

  Status push(std::vector<QueuedDelivery>&& batch) override;
  void push_async(std::vector<QueuedDelivery>&& batch, std::function<void(Status)> done) override;
  std::vector<Lease> lease(int64_t now_ms, size_t max, int64_t lease_ms) override;
  Status ack(const Lease& lease) override { return forget(lease); }
  Status retry(const Lease& lease, int64_t at_ms) override;
  Status defer(const Lease& lease, int64_t at_ms) override;
  Status dead(const Lease& lease) override { return forget(lease); }
  Status extend(const Lease& lease, int64_t deadline_ms) override;
  void close() override;
  void set_ready_listener(std::function<void()> listener) override;
  std::optional<int64_t> next_due_ms() const override { return std::nullopt; }  // self-timed
  QueueStats stats() const override;
  std::optional<size_t> count_scheduled(int64_t now_ms) const override;
  Status ping() override;
  Result<std::vector<std::string>> holding(const std::vector<std::string>& ids) override;
  Result<std::shared_ptr<const IdSet>> held_ids() override;
  bool durable() const override { return true; }
  // Returns once the switch is committed (blocks on disk, as push() does).
  Status set_ordering(const EndpointOrdering& ordering) override;
  std::vector<EndpointOrdering> orderings() const override;

  // Waits until every settle made so far is committed (tests, shutdown).
  Status sync();
  // Waits until the queue thread has nothing left to do for now: what may be armed is armed
  // (tests make negative checks after it).
  void quiesce();

 private:
  enum class State : uint8_t { kWaiting, kArming, kArmed, kLeased };
  struct Slot {
    int64_t seq = 0;
    int64_t body_id = 0;
    int64_t due_ms = 0;
    uint32_t lane = 0;
    int handouts = 0;  // as recorded on disk
    State state = State::kWaiting;
    uint64_t token = 0;
    int64_t deadline_ms = 0;
    std::shared_ptr<QueuedDelivery> data;  // null: only on disk
    size_t cached_bytes = 0;
  };
  struct Lane {
    std::string endpoint_id;
    uint32_t tenant = 0;
    std::set<int64_t> ready;  // waiting, by seq; unordered: due now; ordered: all, head first
    bool ordered = false;     // set_ordering()'s, else its first delivery's
    int reserved = 0;         // arming + armed + leased
    bool listed = false;      // in active_ or in its tenant's parked list
  };
  // A tenant's share of the in-flight capacity (QueueOptions): counted over its lanes.
  struct TenantState {
    int reserved = 0;
    int busy_lanes = 0;            // lanes with reserved > 0
    std::vector<uint32_t> parked;  // lanes waiting for the tenant to drop below its cap
  };
  struct Op {
    // kDefer: kDue with the hand-out count given back (`handouts`, the count to keep).
    enum Kind : uint8_t { kDelete, kDue, kDefer } kind;
    int64_t seq;
    int64_t value;  // kDue, kDefer: the due time; kDelete: the body id when it goes too, else 0
    int handouts = 0;
  };
  struct PushJob {
    std::vector<Slot> slots;
    std::vector<QueuedDelivery> deliveries;
    std::vector<int64_t> new_bodies;  // body ids first written by this job, index into deliveries
    size_t bytes = 0;                 // of those bodies
    bool done = false;
    Status result;
    std::function<void(Status)> callback;  // push_async: called on the queue thread
  };
  struct SwitchJob {  // set_ordering(), applied by the queue thread at its next round
    EndpointOrdering ordering;
    bool was_ordered = false;  // to undo it when its commit fails
    bool done = false;
    Status result;
  };
  struct Round;  // one group commit's worth of work (sqlite_queue_db.cpp)

  SqliteQueue(const SqliteQueueOptions& options, const Clock& clock,
              std::unique_ptr<sqlite::Connection> conn);
  Status recover();
  void run();
  // Copies the WAL into the database file on a connection of its own, so that the queue
  // thread never waits for a checkpoint (and its fsyncs).
  void checkpoint_loop();
  // The WAL starts again from its beginning only at a commit that finds it wholly copied into
  // the database file, which a checkpoint running beside the writer never leaves behind while
  // rounds keep coming: under a steady load the WAL grew for as long as the load lasted (42
  // MB/s at 2,000 events/s), all of it read back by a recovery. So once it holds
  // kWalRestartFrames, the checkpointer copies the bulk beside the writer, then holds the
  // rounds back (wal_gate_) for the short copy of what came meanwhile; the next round restarts
  // the WAL.
  static int on_wal_commit(void* self, sqlite3* db, const char* name, int frames);
  bool has_work(int64_t now_ms) const;
  int64_t next_wake_ms() const;
  void collect(Round& r, int64_t now_ms);
  Status write(Round& r);
  void apply(Round& r, const Status& st);

  // The endpoint's lane; a new one is `ordered` as given.
  uint32_t lane_for(const std::string& endpoint_id, const std::string& tenant_id, bool ordered);
  // A lane's ordering changes (queue thread, between rounds: nothing is being armed).
  void switch_lane(uint32_t lane, bool ordered, int64_t now_ms);
  void take_switches(Round& r, int64_t now_ms);
  Status write_switches(const Round& r);
  // After the round's commit: the switches are answered, undone when it failed.
  void settle_switches(Round& r, const Status& st, int64_t now_ms);
  Status recover_orderings();
  void activate(uint32_t lane);
  // A delivery of the lane is armed, or its arming or lease ends: the lane's and tenant's counts.
  void reserve(uint32_t lane);
  void unreserve(uint32_t lane);
  // Whether the lane's next delivery (`head`) may be armed now, by its lane's and tenant's share.
  bool armable(const Lane& lane, const Slot& head, int64_t now_ms) const;
  void make_waiting(Slot& s, int64_t now_ms);
  void expire(int64_t now_ms);
  void release_timers(int64_t now_ms);
  // Keeps `data` with the slot, counted against cache_bytes; uncache() drops it.
  void cache(Slot& s, std::shared_ptr<QueuedDelivery> data);
  void uncache(Slot& s);
  static constexpr size_t kSlotDataBytes = 256;  // a delivery's ids, beside its body
  // Under the lock: new work for the queue thread. It is woken only when it waits for work:
  // in a round or a round gap it looks again before it sleeps (a wake-up per push and per
  // settle was a futex call each, and a context switch, on the hot path).
  void nudge() {
    if (!in_round_ && !pacing_) work_cv_.notify_all();
  }
  Slot* find_lease(const Lease& lease);
  // retry() and defer() (`give_back`: its hand-out uncounted, on disk too).
  Status put_back(const Lease& lease, int64_t at_ms, bool give_back);
  Status forget(const Lease& lease);
  // Checks and queues a push (lock held); an error when it is refused at once.
  Status enqueue(std::vector<QueuedDelivery>&& batch, const std::shared_ptr<PushJob>& job);

  SqliteQueueOptions options_;
  const Clock& clock_;
  std::unique_ptr<sqlite::Connection> conn_;  // the queue thread's

  mutable std::mutex mu_;
  std::condition_variable work_cv_, done_cv_, checkpoint_cv_;
  std::function<void()> listener_;
  std::unordered_map<int64_t, Slot> slots_;
  std::vector<Lane> lanes_;
  std::unordered_map<std::string, uint32_t> lane_ids_;
  std::vector<TenantState> tenants_;
  std::unordered_map<std::string, uint32_t> tenant_ids_;
  std::deque<uint32_t> active_;                          // lanes that may have work to arm
  std::vector<std::pair<int64_t, int64_t>> timers_;      // min-heap (due, seq)
  std::deque<int64_t> armed_;                            // armed slots, oldest first
  std::unordered_map<uint64_t, int64_t> leases_;         // token -> seq
  std::vector<std::pair<int64_t, uint64_t>> deadlines_;  // min-heap (deadline, token)
  struct BodyRef {
    uint32_t deliveries = 0;  // sharing the body
    size_t bytes = 0;
  };
  std::unordered_map<int64_t, BodyRef> body_refs_;  // by body id
  std::deque<std::shared_ptr<PushJob>> jobs_;
  std::deque<std::shared_ptr<SwitchJob>> switches_;
  std::unordered_map<std::string, EndpointOrdering> orderings_;  // committed, by endpoint
  std::vector<Op> ops_;
  size_t pending_push_ = 0;   // deliveries in jobs_ not yet committed
  size_t pending_bytes_ = 0;  // their bodies' bytes
  size_t bytes_ = 0;          // bodies held (committed)
  size_t cached_ = 0;         // bytes of bodies held in memory
  uint64_t ops_taken_ = 0, ops_done_ = 0, ops_added_ = 0;
  int64_t next_seq_ = 1, next_body_ = 1;
  uint64_t next_token_ = 1;
  int64_t wake_ms_ = 0;  // when the queue thread means to wake next (0: on work only)
  bool closed_ = false, stopping_ = false, in_round_ = false, pacing_ = false;
  Status last_write_;
  std::thread thread_, checkpointer_;
  std::unique_ptr<sqlite::Connection> checkpoint_conn_;
  std::atomic<int> wal_frames_{0};     // in the WAL after the last commit (0: restart due)
  bool wal_gate_ = false;              // under mu_: no round starts while set
  std::atomic<bool> wal_wake_{false};  // the WAL crossed kWalRestartFrames: checkpoint now
};

}  // namespace sealhook
