#pragma once
// The delivery queue: ciphertext and a small fixed record per delivery, never plaintext.
// One implementation per folder (memory/, sqlite/, later redis/ and kafka/), chosen in
// queue_factory. tests/contract/ holds the one suite every backend must pass.
//
// Contract (v3):
//  - push() is all-or-nothing. A durable backend returns only once the whole batch is durable,
//    so push() may block on disk: call it off the io threads. A full queue answers kUnavailable
//    (`queue_full`, HTTP 503, backpressure) and keeps nothing of the batch.
//  - lease() never blocks on disk or network. It hands out deliveries whose time has come, each
//    as a Lease: the delivery, a token naming this hand-out, a deadline and the hand-out count
//    the queue keeps. For an `ordered` endpoint only the head is handed out, and nothing more
//    of that endpoint until the head is acked or dead-lettered; an `unordered` endpoint has at
//    most `max_inflight_per_endpoint` leases out at once.
//  - Every hand-out counts (a durable backend records it before it hands the delivery out), so
//    a delivery whose worker dies every time still reaches max_attempts and the DLQ.
//  - ack / retry / dead / extend settle a lease. Each answers `lease_lost` (kConflict) when the
//    lease is not held any more (it expired and went, or may go, to someone else); the caller
//    then drops its outcome.
//  - A lease not settled or extended by its deadline expires: the delivery is available again
//    (an ordered one as the head again) and its next hand-out counts once more.
//  - dead(): the caller has made the dead letter and its body durable first.
//  - An endpoint's ordering is the queue's: set_ordering() switches it for everything held and
//    every later push, whatever QueuedDelivery::ordered says (that flag only counts for an
//    endpoint whose ordering was never set). See set_ordering().
//  - Work availability: the ready listener is a nudge from whichever thread notices work (a
//    push in this process, a timer, a backend's reader thread); next_due_ms() says when the
//    next scheduled delivery falls due. Neither is needed for correctness: lease() is the truth.
#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/id_set.hpp"
#include "core/model.hpp"
#include "core/result.hpp"

namespace sealhook {

struct QueuedDelivery {
  std::string id;  // msg_..., the webhook-id, the same on every retry
  std::string tenant_id;
  std::string endpoint_id;
  std::string event_id;
  std::string event_type;
  std::shared_ptr<const std::string> body;  // JWE compact; shared by a tenant's endpoints
  bool ordered = false;         // the endpoint's ordering when published (set_ordering() wins)
  int prior_attempts = 0;       // attempts made before this round (a replay starts a new one)
  int64_t not_before_ms = 0;    // not to be tried before
  int64_t published_at_ms = 0;  // for ordering and latency
  // The W3C traceparent its attempts continue (the publish's trace), "" when none. Carried by
  // every backend; a record written before it existed reads back as "".
  std::string traceparent = {};
  // A queue's own, not stored: the delivery's place in its endpoint's order when it is pushed
  // into an inner memory queue out of push order (0: push order).
  uint64_t order = 0;
};

// One hand-out of a delivery.
struct Lease {
  std::shared_ptr<const QueuedDelivery> delivery;
  uint64_t token = 0;  // names this hand-out; settle calls present it
  int64_t deadline_ms = 0;
  int handouts = 0;  // hand-outs of this round, this one included (1 the first time)
  // The 1-based number of the attempt this hand-out makes, counting every round.
  int attempt() const { return delivery->prior_attempts + handouts; }
};

inline Error lease_lost() {
  return make_error(ErrorKind::kConflict, "lease_lost",
                    "the lease expired and the delivery may have gone to another worker");
}
inline bool is_lease_lost(const Error& e) { return e.code == "lease_lost"; }

inline Error queue_full(const std::string& what) {
  return make_error(ErrorKind::kUnavailable, "queue_full",
                    "the delivery queue is full (" + what + "); retry later");
}

// What the store keeps of a queued delivery, in `status` as of `now_ms`, after `attempts`
// attempts (no error yet, no next attempt time: the caller sets those that apply).
inline DeliveryRecord to_record(const QueuedDelivery& d, DeliveryStatus status, int attempts,
                                int64_t now_ms) {
  DeliveryRecord r;
  r.id = d.id;
  r.tenant_id = d.tenant_id;
  r.endpoint_id = d.endpoint_id;
  r.event_id = d.event_id;
  r.event_type = d.event_type;
  r.status = status;
  r.attempts = attempts;
  r.created_at_ms = d.published_at_ms;
  r.updated_at_ms = now_ms;
  return r;
}

// An endpoint's ordering as a queue holds it (set_ordering()).
struct EndpointOrdering {
  std::string tenant_id;
  std::string endpoint_id;
  bool ordered = false;
};

struct QueueStats {
  size_t depth = 0;   // everything held: waiting, scheduled and leased
  size_t leased = 0;  // handed out, not yet settled
  size_t capacity = 0;
  size_t bytes = 0;  // ciphertext held, each body once however many deliveries share it
  size_t max_bytes = 0;
  size_t scheduled = 0;  // waiting for a retry or a later time (a shared backend's, when known)
  bool up = true;        // a networked backend: reachable as of this call
  uint64_t resets = 0;   // times the backend was found to have lost what it held (then reset)
};

// In-flight capacity is given out fairly in the queue itself, so that a slow or dead endpoint,
// or a tenant with many of them, holds only its own share: a tenant has at most
// `max_inflight_per_tenant` deliveries leased (its other lanes wait, parked, until one settles).
// Within a tenant, a lane takes one more only while it holds less than an equal part of the
// tenant's cap among its busy lanes (never less than one, never more than
// `max_inflight_per_endpoint`); lanes are served one delivery per turn.
struct QueueOptions {
  size_t capacity = 100'000;  // deliveries held at most
  // Ciphertext held at most, each body counted once (a tenant's endpoints share theirs). A
  // push over either bound is refused whole with `queue_full`.
  size_t max_bytes = size_t{2} << 30;
  int max_inflight_per_endpoint = 64;
  int max_inflight_per_tenant = 256;
};

// What one more lease of an unordered lane may take: its endpoint's fair part of its tenant's
// capacity, given how many of the tenant's lanes (other than this one) hold leases.
inline int endpoint_share(const QueueOptions& o, int other_busy_lanes) {
  int share = o.max_inflight_per_tenant / (other_busy_lanes + 1);
  return std::clamp(share, 1, o.max_inflight_per_endpoint);
}

class Queue {
 public:
  virtual ~Queue() = default;
  virtual Status push(std::vector<QueuedDelivery>&& batch) = 0;
  // push() without waiting: `done` gets its answer, on some thread, once it is known (at once
  // for a volatile backend; after the commit for a durable one). Never blocks on disk.
  virtual void push_async(std::vector<QueuedDelivery>&& batch, std::function<void(Status)> done) {
    done(push(std::move(batch)));
  }
  // Up to `max` deliveries due at `now_ms`, each leased until now_ms + lease_ms.
  virtual std::vector<Lease> lease(int64_t now_ms, size_t max, int64_t lease_ms) = 0;
  // lease() without waiting: `done` gets the leases, on some thread (the caller's at once for
  // a local backend; a networked one's own thread, where `done` must not wait on the queue).
  using Leased = std::function<void(std::vector<Lease>)>;
  virtual void lease_async(int64_t now_ms, size_t max, int64_t lease_ms, Leased done) {
    done(lease(now_ms, max, lease_ms));
  }
  // Delivered: the queue forgets the delivery.
  virtual Status ack(const Lease& lease) = 0;
  // Failed: tried again at `at_ms` (an ordered endpoint waits for it).
  virtual Status retry(const Lease& lease, int64_t at_ms) = 0;
  // Not tried (its endpoint is disabled): back at `at_ms` as retry() puts it, the hand-out
  // given back, so that the next hand-out makes the same attempt again. Waiting this way never
  // spends the delivery's attempts, however long it waits.
  virtual Status defer(const Lease& lease, int64_t at_ms) = 0;
  // Dead-lettered (its dead letter is durable): the queue forgets the delivery.
  virtual Status dead(const Lease& lease) = 0;
  // Keeps the lease until `deadline_ms`.
  virtual Status extend(const Lease& lease, int64_t deadline_ms) = 0;
  // ack / retry / defer / dead without waiting: `done` gets the same answer the call would give,
  // once it is known, on some thread (the caller's at once for a local backend; a networked one's
  // own thread, where `done` must not wait on the queue). Every call gets exactly one answer,
  // an unreachable backend's (kUnavailable) included: nothing is dropped silently.
  using Settled = std::function<void(Status)>;
  virtual void ack_async(const Lease& lease, Settled done) { done(ack(lease)); }
  virtual void retry_async(const Lease& lease, int64_t at_ms, Settled done) {
    done(retry(lease, at_ms));
  }
  virtual void defer_async(const Lease& lease, int64_t at_ms, Settled done) {
    done(defer(lease, at_ms));
  }
  virtual void dead_async(const Lease& lease, Settled done) { done(dead(lease)); }
  // Switches the endpoint's ordering, at once, for everything the queue holds of it and for
  // every later push of it (a publish that read the catalog before the switch included):
  //  - unordered: each delivery goes at its own due time; a failing one blocks nothing.
  //  - ordered: publish (push) order from now on, the deliveries already queued included.
  //    Leases out at the switch finish first: nothing more of the endpoint is handed out until
  //    they are settled (one retried goes back to its place in publish order). A delivery
  //    waiting for its retry time holds up the ones behind it once it is the head.
  // The mode is the backend's state, not a process's: a durable backend has it on disk before
  // it returns, and every process sharing the queue sees it. It stays until set again.
  virtual Status set_ordering(const EndpointOrdering& ordering) = 0;
  // Every mode set_ordering() recorded (start-up checks them against the catalog).
  virtual std::vector<EndpointOrdering> orderings() const = 0;
  virtual void close() = 0;  // push() fails afterwards; leasing goes on (drain)
  virtual void set_ready_listener(std::function<void()> listener) = 0;
  // Called, on some thread, when the backend is found to have lost what it held (Redis
  // restarted without persistence) and starts afresh: the caller reconciles its records
  // against holding(). Never called by a backend that cannot lose its data that way.
  virtual void set_reset_listener(std::function<void()> /*listener*/) {}
  // The incarnation of the backend's data ("MS-RANDOM": made at MS, epoch ms) as the last
  // connection saw it, "" before the backend was first reached; none for a backend whose data
  // cannot go without this process seeing it. A store that recorded another generation knows
  // the data it recorded against is gone.
  virtual std::optional<std::string> generation() const { return std::nullopt; }
  // When the earliest scheduled (not yet due) delivery falls due, if any.
  virtual std::optional<int64_t> next_due_ms() const = 0;
  virtual QueueStats stats() const = 0;
  // Deliveries waiting for a later time (a retry's backoff) at `now_ms`, for a backend whose
  // stats() does not count them (a local one): walks its timers under its lock, so for a
  // background refresh (/metrics), not a hot path. Unset: stats().scheduled says it.
  virtual std::optional<size_t> count_scheduled(int64_t /*now_ms*/) const { return std::nullopt; }
  virtual Status ping() = 0;
  // Of `ids`, those this queue still holds (recovery checks store records against it).
  virtual Result<std::vector<std::string>> holding(const std::vector<std::string>& ids) = 0;
  // Every id the queue holds now, for checking many records at once (recovery: a million
  // pending records are checked without a million strings in memory). Null for a backend that
  // answers holding() cheaply for a chunk of ids (recovery then asks it chunk by chunk).
  virtual Result<std::shared_ptr<const IdSet>> held_ids() { return std::shared_ptr<const IdSet>(); }
  // A rate limit every process on the queue shares (the redis queue's, kept in Redis): `done`
  // gets 0 (the delivery may go now) or the time (Unix ms) of its turn, kept for it, as
  // delivery::RateLimiter answers; on some thread (the queue's own for a networked one, where
  // it must not wait on the queue). False: the queue has none, and the caller keeps the limit
  // itself (one process owns an endpoint's deliveries).
  using Admitted = std::function<void(int64_t)>;
  virtual bool admit_async(const std::string& /*endpoint_id*/, const std::string& /*delivery_id*/,
                           double /*per_second*/, int /*burst*/, int64_t /*now_ms*/,
                           Admitted& /*done*/) {
    return false;
  }
  // Whether the queue keeps what it holds across a crash of this process.
  virtual bool durable() const = 0;
  // Whether a delivery's record must be durable before its ack: true for a queue whose
  // holding() cannot tell a delivery acked from one it never had (kafka), so that a crash
  // between the two never leaves a record `pending` that no queue will deliver.
  virtual bool record_before_ack() const { return false; }
};

struct QueueConfig {
  std::string kind = "sqlite";  // sqlite | memory | redis | kafka
  QueueOptions options;
  std::string path;                          // sqlite: the queue's database file
  bool sync_full = false;                    // sqlite: fsync every commit (survives power loss)
  std::chrono::microseconds round_gap{500};  // sqlite: SqliteQueueOptions::round_gap
  std::string redis_url;                     // redis: redis://HOST:PORT/DB
  std::string redis_owner;     // redis: names this process across restarts (its leases come back)
  int redis_timeout_ms = 500;  // redis: connect and per-call timeout
  std::string kafka_brokers;   // kafka: HOST:PORT[,...]
  std::string kafka_prefix = "sealhook";
  std::string kafka_group;  // "" = <prefix>.workers
  int kafka_partitions = 12;
  int kafka_timeout_ms = 5'000;
  int kafka_session_timeout_ms = 10'000;
  size_t kafka_held_per_partition = 2'000;
  int kafka_batch_ms = 3;
  int kafka_ack_record_ms = 1'000;
};

Result<std::unique_ptr<Queue>> make_queue(const QueueConfig& config, const Clock& clock);

}  // namespace sealhook
