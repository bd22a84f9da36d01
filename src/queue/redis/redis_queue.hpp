#pragma once
// The shared queue: every delivery, lane, timer, lease and count lives in Redis (AOF on), so
// any number of processes share it and a restart keeps it. Each multi-key step (push, lease
// with its expiry and due-timer sweep, ack, retry, dead, extend, reclaim) is one Lua script
// (lua/*.lua), run atomically by Redis; nothing is read in one call and written in another.
// The scheduler is the memory queue's, kept in Redis: a lane per endpoint, a rotation of
// lanes with work, the tenant's in-flight cap with its parked lanes, timers in a sorted set by
// due time, leases in a sorted set by deadline.
//
// lease() makes one round trip (the lease script), through the connection thread, which
// pipelines every caller's commands: on a loopback Redis that is tens of microseconds, and
// while Redis is down it fails at once; lease_async() makes the same trip without waiting (the
// dispatcher's way: no io thread waits on Redis). A prefetched set of leases would save that
// round trip but would start each lease's clock before a worker has it, and cost a crash each
// prefetched delivery a hand-out; the round trip is cheaper than either (README, "Queue modes").
//
// Batching: the async settles and pushes queued while one settle (or push) script is in flight
// go out together as the next one, each still with its own answer (a push batch stays all or
// nothing on its own), so Redis runs a fraction of a script per delivery under load.
//
// A process restart: a queue opening under the same `owner` gives back the leases its previous
// run held (at once, rather than at their deadlines); other owners' leases stay theirs.
//
// Outages: open() does not need Redis up; the connection comes (and comes back) by itself, and
// meanwhile every call fails at once with `queue_unavailable` (HTTP 503). Each (re)connection
// checks the queue's generation key (lua/gen.lua): gone means Redis lost its data, so the
// queue starts afresh (a new generation; the scripts make the rest as they go) and tells the
// reset listener, which marks what the store still thinks pending as lost.
#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "queue/queue.hpp"
#include "queue/redis/redis_connection.hpp"
#include "queue/redis/redis_subscriber.hpp"

namespace sealhook {

struct RedisQueueOptions {
  QueueOptions queue;
  RedisAddress address;
  std::string prefix = "sealhook:q:";  // every key of this queue starts with it
  // Names this process across restarts: its previous run's leases are reclaimed on open.
  std::string owner = "sealhook";
  std::chrono::milliseconds timeout{500};  // each Redis call; and the connect
  size_t sweep = 1000;                     // expired leases and due timers moved per lease()
};

class RedisQueue final : public Queue {
 public:
  static Result<std::unique_ptr<RedisQueue>> open(const RedisQueueOptions& options,
                                                  const Clock& clock);
  ~RedisQueue() override;

  Status push(std::vector<QueuedDelivery>&& batch) override;
  void push_async(std::vector<QueuedDelivery>&& batch, std::function<void(Status)> done) override;
  std::vector<Lease> lease(int64_t now_ms, size_t max, int64_t lease_ms) override;
  void lease_async(int64_t now_ms, size_t max, int64_t lease_ms, Leased done) override;
  Status ack(const Lease& lease) override { return settle("ack", lease, 0); }
  Status retry(const Lease& lease, int64_t at_ms) override;
  Status defer(const Lease& lease, int64_t at_ms) override;
  Status dead(const Lease& lease) override { return settle("dead", lease, 0); }
  void ack_async(const Lease& lease, Settled done) override {
    settle_async("ack", lease, 0, std::move(done));
  }
  void retry_async(const Lease& lease, int64_t at_ms, Settled done) override;
  void defer_async(const Lease& lease, int64_t at_ms, Settled done) override;
  bool admit_async(const std::string& endpoint_id, const std::string& delivery_id,
                   double per_second, int burst, int64_t now_ms, Admitted& done) override;
  void dead_async(const Lease& lease, Settled done) override {
    settle_async("dead", lease, 0, std::move(done));
  }
  Status extend(const Lease& lease, int64_t deadline_ms) override {
    return settle("extend", lease, deadline_ms);
  }
  void close() override { closed_ = true; }
  void set_ready_listener(std::function<void()> listener) override;
  void set_reset_listener(std::function<void()> listener) override;
  std::optional<std::string> generation() const override;
  std::optional<int64_t> next_due_ms() const override;
  QueueStats stats() const override;
  Status ping() override;
  Result<std::vector<std::string>> holding(const std::vector<std::string>& ids) override;
  bool durable() const override { return true; }
  Status set_ordering(const EndpointOrdering& ordering) override;
  std::vector<EndpointOrdering> orderings() const override;

 private:
  RedisQueue(const RedisQueueOptions& options, const Clock& clock);
  // Appends one batch to the push script's arguments: its distinct bodies once, then each
  // delivery.
  void push_args(const std::vector<QueuedDelivery>& batch, std::vector<std::string>& args) const;
  // One batch's verdict in the push script's answer.
  Status pushed(int64_t verdict, const RedisReply& reply, int64_t earliest_ms);
  // Sends the pushes queued meanwhile as one push script (each batch still all or nothing, with
  // its own answer), or marks the sender idle.
  void flush_pushes();
  Status settle(const char* kind, const Lease& lease, int64_t at_ms);
  std::vector<std::string> lease_args(int64_t now_ms, size_t max, int64_t lease_ms) const;
  std::vector<Lease> leases_from(Result<RedisReply> reply);  // the lease script's answer
  // Settles without waiting: queued, and sent with every other settle queued meanwhile as one
  // settle script (one EVALSHA for the lot), one such script in flight at a time.
  void settle_async(const char* kind, const Lease& lease, int64_t at_ms, Settled done);
  // retry_async / defer_async: settled, then due at `at_ms`.
  void put_back_async(const char* kind, const Lease& lease, int64_t at_ms, Settled done);
  void flush_settles();  // sends what is queued, or marks the sender idle
  void nudge();
  // The handshake's last step, on the connection thread: the generation check (and, the first
  // time, the reclaim of this owner's previous run).
  Status on_connect(redisContext* c);
  void on_up();                // tells the reset listener of a reset the handshake found
  void due_at(int64_t at_ms);  // lowers the known next due time to at_ms

  RedisQueueOptions options_;
  const Clock& clock_;
  const RedisQueueScripts& scripts_;
  std::unique_ptr<RedisConnection> conn_;
  // Pushes (the publish path) on a connection of their own, so that a publish never waits
  // behind a lease script's sweep or a settle: each connection's thread sends one pipeline at a
  // time and waits for all of its replies.
  std::unique_ptr<RedisConnection> push_conn_;
  std::unique_ptr<RedisSubscriber> subscriber_;
  struct PendingSettle {
    const char* kind;
    std::string id, token;
    int64_t at_ms;
    Settled done;
  };
  struct PendingPush {
    std::vector<QueuedDelivery> batch;
    int64_t earliest_ms;
    std::function<void(Status)> done;
  };
  std::mutex push_mu_;
  std::vector<PendingPush> pushes_;  // queued, not yet sent
  bool push_sending_ = false;        // a push script is in flight (its answer flushes again)
  std::mutex settle_mu_;
  std::vector<PendingSettle> settles_;  // queued, not yet sent
  bool settle_sending_ = false;         // a settle script is in flight (its answer flushes again)
  // The destructor: answer queued settles and pushes, send none.
  std::atomic<bool> settle_closing_{false};
  std::mutex listener_mu_;
  std::shared_ptr<const std::function<void()>> listener_;
  std::atomic<int64_t> next_due_{-1};  // from the last lease(), lowered by pushes and retries
  mutable std::mutex stats_mu_;
  mutable QueueStats last_stats_;  // answered while Redis is down
  std::atomic<bool> closed_{false};
  std::atomic<bool> lease_failing_{false};
  std::atomic<bool> rate_failing_{false};  // logged once per outage
  std::string generation_;  // the connection thread's: the one seen by the last handshake
  mutable std::mutex generation_mu_;
  std::string shared_generation_;  // generation_, for generation() on other threads
  bool reclaimed_ = false;         // the connection thread's
  std::atomic<uint64_t> resets_{0};
  std::atomic<bool> reset_pending_{false};
  std::shared_ptr<const std::function<void()>> reset_listener_;  // under listener_mu_
};

}  // namespace sealhook
