// RedisQueue: each call is one script (or one command) on the shared connection.
#include "queue/redis/redis_queue.hpp"

#include <spdlog/spdlog.h>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <condition_variable>
#include <random>
#include <unordered_map>

namespace sealhook {
namespace {

constexpr size_t kLeaseFields = 15;    // per lease in the lease script's answer
constexpr size_t kHoldingChunk = 512;  // ids asked about per call
constexpr size_t kSettleChunk = 256;   // settles per settle script, at most
// Pushes of several publishes go as one push script up to about these bounds.
constexpr size_t kPushChunkDeliveries = 2048;
constexpr size_t kPushChunkBytes = size_t{8} << 20;

// Error answers that say Redis cannot take writes for now, not that the script is wrong: a
// 503 for the caller to retry, with Redis's own words.
bool transient_refusal(const std::string& error) {
  for (const char* prefix : {"LOADING", "OOM", "MISCONF", "READONLY", "BUSY", "MASTERDOWN",
                             "NOREPLICAS", "TRYAGAIN", "CLUSTERDOWN"})
    if (error.rfind(prefix, 0) == 0) return true;
  return false;
}

Error script_failed(const std::string& name, const RedisReply& reply) {
  if (transient_refusal(reply.str)) return queue_unavailable("Redis refused: " + reply.str);
  return make_error(ErrorKind::kInternal, "queue_error",
                    "redis queue: the " + name + " script failed: " + reply.str);
}

std::string fresh_generation(int64_t now_ms) {
  std::random_device rd;
  return std::to_string(now_ms) + "-" + std::to_string(rd()) + std::to_string(rd());
}

// The reply, or why there is none (down, or an error answer).
Result<RedisReply> checked(Result<RedisReply> reply, const RedisScript& script) {
  if (!reply) return reply.error();
  if (reply->is_error()) return script_failed(script.name, reply.value());
  return reply;
}

std::shared_ptr<const QueuedDelivery> delivery_at(const std::vector<RedisReply>& f, size_t i,
                                                  std::shared_ptr<const std::string> body) {
  auto d = std::make_shared<QueuedDelivery>();
  d->id = f[i + 3].str;
  d->tenant_id = f[i + 4].str;
  d->endpoint_id = f[i + 5].str;
  d->event_id = f[i + 6].str;
  d->event_type = f[i + 7].str;
  d->ordered = f[i + 8].str == "1";
  d->prior_attempts = static_cast<int>(f[i + 9].as_int());
  d->not_before_ms = f[i + 10].as_int();
  d->published_at_ms = f[i + 11].as_int();
  d->body = std::move(body);
  d->traceparent = f[i + 14].str;
  return d;
}

}  // namespace

RedisQueue::RedisQueue(const RedisQueueOptions& options, const Clock& clock)
    : options_(options), clock_(clock), scripts_(RedisQueueScripts::get()) {}

RedisQueue::~RedisQueue() {
  settle_closing_ = true;  // a settle answered while conn_ goes must not send another
  subscriber_.reset();
  conn_.reset();  // first: its on_up() uses push_conn_
  push_conn_.reset();
}

Result<std::unique_ptr<RedisQueue>> RedisQueue::open(const RedisQueueOptions& options,
                                                     const Clock& clock) {
  std::unique_ptr<RedisQueue> q(new RedisQueue(options, clock));
  RedisConnectionOptions co;
  co.address = options.address;
  co.timeout = options.timeout;
  q->subscriber_ = std::make_unique<RedisSubscriber>(co, options.prefix + "ready",
                                                     [raw = q.get()] { raw->nudge(); });
  co.scripts = q->scripts_.all();
  // Only the main connection's handshake checks the generation and gives back leases; a push
  // that reaches a Redis which lost its data before that check is held by the new queue, so
  // the reset's recovery (holding) keeps it.
  q->push_conn_ = std::make_unique<RedisConnection>(co);
  q->push_conn_->start();
  co.on_connect = [raw = q.get()](redisContext* c) { return raw->on_connect(c); };
  co.on_up = [raw = q.get()] { raw->on_up(); };
  q->conn_ = std::make_unique<RedisConnection>(co);
  q->conn_->start();
  // Redis down at start is an outage like any other (readyz says so), not a failed start.
  if (!q->conn_->await_up(options.timeout * 4) || !q->push_conn_->await_up(options.timeout * 4))
    spdlog::warn("redis queue: {} is not reachable yet; serving 503 until it is",
                 options.address.url());
  return q;
}

Status RedisQueue::on_connect(redisContext* c) {
  const int64_t now = clock_.now_ms();
  auto gen =
      redis_command(c, {"EVALSHA", scripts_.gen.sha, "0", options_.prefix, fresh_generation(now)});
  if (!gen) return gen.error();
  if (gen->is_error() || gen->elements.size() != 2) return script_failed("gen", gen.value());
  const std::string seen = gen->elements[0].str;
  const bool reset = !generation_.empty() && seen != generation_;
  generation_ = seen;
  {
    std::lock_guard lock(generation_mu_);
    shared_generation_ = seen;
  }
  if (!reclaimed_) {
    auto back = redis_command(
        c, {"EVALSHA", scripts_.reclaim.sha, "0", options_.prefix, options_.owner,
            std::to_string(now), std::to_string(options_.queue.max_inflight_per_tenant)});
    if (!back) return back.error();
    if (back->is_error()) return script_failed("reclaim", back.value());
    reclaimed_ = true;
    if (back->integer > 0)
      spdlog::info("redis queue: {} deliveries leased by the last run of '{}' are due again",
                   back->integer, options_.owner);
  }
  if (reset) {
    resets_++;
    next_due_ = -1;
    spdlog::error(
        "redis queue: Redis lost the queue's data (restarted without persistence?): started "
        "afresh; deliveries it held are lost");
    reset_pending_ = true;  // told once the connection is up (on_up), so it can be used
  }
  return {};
}

void RedisQueue::on_up() {
  // The main connection has just (re)connected: if Redis restarted, the push connection's link
  // is broken too, and a PING now makes it find out and reconnect before a publish needs it.
  if (push_conn_) push_conn_->send({"PING"}, [](Result<RedisReply>) {});
  if (!reset_pending_.exchange(false)) return;
  std::shared_ptr<const std::function<void()>> l;
  {
    std::lock_guard lock(listener_mu_);
    l = reset_listener_;
  }
  if (l && *l) (*l)();
}

std::optional<std::string> RedisQueue::generation() const {
  std::lock_guard lock(generation_mu_);
  return shared_generation_;
}

void RedisQueue::set_reset_listener(std::function<void()> listener) {
  auto l = std::make_shared<const std::function<void()>>(std::move(listener));
  std::lock_guard lock(listener_mu_);
  reset_listener_ = std::move(l);
}

void RedisQueue::set_ready_listener(std::function<void()> listener) {
  auto l = std::make_shared<const std::function<void()>>(std::move(listener));
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(l);
}

void RedisQueue::nudge() {
  std::shared_ptr<const std::function<void()>> l;
  {
    std::lock_guard lock(listener_mu_);
    l = listener_;
  }
  if (l && *l) (*l)();
}

void RedisQueue::due_at(int64_t at_ms) {
  int64_t known = next_due_.load();
  while ((known < 0 || at_ms < known) && !next_due_.compare_exchange_weak(known, at_ms)) {
  }
}

std::optional<int64_t> RedisQueue::next_due_ms() const {
  int64_t v = next_due_.load();
  if (v < 0) return std::nullopt;
  return v;
}

void RedisQueue::push_args(const std::vector<QueuedDelivery>& batch,
                           std::vector<std::string>& args) const {
  // One body per distinct ciphertext object: a tenant's endpoints share theirs.
  std::vector<const std::string*> bodies;
  std::vector<size_t> index;
  for (const auto& d : batch) {
    auto it = std::find(bodies.begin(), bodies.end(), d.body.get());
    index.push_back(static_cast<size_t>(it - bodies.begin()) + 1);
    if (it == bodies.end()) bodies.push_back(d.body.get());
  }
  args.push_back(std::to_string(bodies.size()));
  args.push_back(std::to_string(batch.size()));
  for (const auto* b : bodies) args.push_back(*b);
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto& d = batch[i];
    for (std::string v : {d.id, d.tenant_id, d.endpoint_id, d.event_id, d.event_type,
                          std::string(d.ordered ? "1" : "0"), std::to_string(d.prior_attempts),
                          std::to_string(d.not_before_ms), std::to_string(d.published_at_ms),
                          std::to_string(index[i]), d.traceparent})
      args.push_back(std::move(v));
  }
}

Status RedisQueue::pushed(int64_t verdict, const RedisReply& reply, int64_t earliest_ms) {
  if (verdict == 1) return queue_full(std::to_string(options_.queue.capacity) + " deliveries");
  if (verdict == 2) return queue_full(std::to_string(options_.queue.max_bytes) + " bytes");
  if (verdict != 0) return script_failed("push", reply);
  if (earliest_ms > clock_.now_ms()) due_at(earliest_ms);
  return {};
}

Status RedisQueue::push(std::vector<QueuedDelivery>&& batch) {
  Status result;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  push_async(std::move(batch), [&](Status st) {
    std::lock_guard lock(mu);
    result = std::move(st);
    done = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return done; });  // the connection answers every request, in time
  return result;
}

void RedisQueue::push_async(std::vector<QueuedDelivery>&& batch, std::function<void(Status)> done) {
  if (closed_)
    return done(
        make_error(ErrorKind::kUnavailable, "shutting_down", "the server is shutting down"));
  if (batch.empty()) return done(Status{});
  int64_t earliest = INT64_MAX;
  for (const auto& d : batch) earliest = std::min(earliest, d.not_before_ms);
  {
    std::lock_guard lock(push_mu_);
    pushes_.push_back(PendingPush{std::move(batch), earliest, std::move(done)});
    if (push_sending_) return;  // the script in flight sends it when it is answered
    push_sending_ = true;
  }
  flush_pushes();
}

void RedisQueue::flush_pushes() {
  auto group = std::make_shared<std::vector<PendingPush>>();
  {
    std::lock_guard lock(push_mu_);
    size_t deliveries = 0, bytes = 0, n = 0;
    // Batches in arrival order, up to a bound (the first always goes, however big).
    while (n < pushes_.size() &&
           (n == 0 || (deliveries < kPushChunkDeliveries && bytes < kPushChunkBytes))) {
      deliveries += pushes_[n].batch.size();
      for (const auto& d : pushes_[n].batch) bytes += d.body ? d.body->size() : 0;
      n++;
    }
    if (n == 0 || settle_closing_) {
      push_sending_ = false;
      n = pushes_.size();
    }
    group->assign(std::make_move_iterator(pushes_.begin()),
                  std::make_move_iterator(pushes_.begin() + static_cast<ptrdiff_t>(n)));
    pushes_.erase(pushes_.begin(), pushes_.begin() + static_cast<ptrdiff_t>(n));
  }
  if (group->empty()) return;
  if (settle_closing_) {
    for (auto& p : *group) p.done(queue_unavailable("shutting down"));
    return;
  }
  const auto& o = options_.queue;
  std::vector<std::string> args{options_.prefix, std::to_string(clock_.now_ms()),
                                std::to_string(o.capacity), std::to_string(o.max_bytes)};
  for (const auto& p : *group) push_args(p.batch, args);
  // The answer comes on the push connection's thread (or at once here when Redis is down).
  push_conn_->eval(scripts_.push, std::move(args), [this, group](Result<RedisReply> reply) {
    bool any = false;
    for (size_t i = 0; i < group->size(); ++i) {
      Status st;
      if (!reply)
        st = reply.error();
      else if (reply->is_error())
        st = script_failed("push", reply.value());
      else if (reply->elements.size() != group->size())
        st = script_failed("push", reply.value());
      else
        st = pushed(reply->elements[i].as_int(), reply.value(), (*group)[i].earliest_ms);
      any = any || st.ok();
      (*group)[i].done(std::move(st));
    }
    if (any) nudge();
    flush_pushes();
  });
}

std::vector<std::string> RedisQueue::lease_args(int64_t now_ms, size_t max,
                                                int64_t lease_ms) const {
  const auto& o = options_.queue;
  return {options_.prefix,
          std::to_string(now_ms),
          std::to_string(max),
          std::to_string(lease_ms),
          std::to_string(o.max_inflight_per_tenant),
          std::to_string(o.max_inflight_per_endpoint),
          options_.owner,
          std::to_string(options_.sweep)};
}

std::vector<Lease> RedisQueue::lease(int64_t now_ms, size_t max, int64_t lease_ms) {
  if (max == 0) return {};
  return leases_from(conn_->call(scripts_.lease, lease_args(now_ms, max, lease_ms)));
}

void RedisQueue::lease_async(int64_t now_ms, size_t max, int64_t lease_ms, Leased done) {
  if (max == 0) return done({});
  conn_->eval(scripts_.lease, lease_args(now_ms, max, lease_ms),
              [this, done = std::move(done)](Result<RedisReply> reply) {
                done(leases_from(std::move(reply)));
              });
}

std::vector<Lease> RedisQueue::leases_from(Result<RedisReply> raw) {
  std::vector<Lease> out;
  auto reply = checked(std::move(raw), scripts_.lease);
  if (!reply) {
    // Once per outage, and no due time to wake for meanwhile (the caller's idle tick retries).
    if (!lease_failing_.exchange(true))
      spdlog::warn("redis queue: lease: {}", reply.error().message);
    next_due_ = -1;
    return out;
  }
  lease_failing_ = false;
  auto& f = reply->elements;
  if (f.empty()) return out;
  next_due_ = f[0].as_int();
  std::unordered_map<std::string, std::shared_ptr<const std::string>> bodies;  // by body id
  for (size_t i = 1; i + kLeaseFields <= f.size(); i += kLeaseFields) {
    auto& body = bodies[f[i + 12].str];
    if (!body) body = std::make_shared<const std::string>(std::move(f[i + 13].str));
    out.push_back(Lease{delivery_at(f, i, body), static_cast<uint64_t>(f[i].as_int()),
                        f[i + 1].as_int(), static_cast<int>(f[i + 2].as_int())});
  }
  return out;
}

Status RedisQueue::settle(const char* kind, const Lease& lease, int64_t at_ms) {
  auto reply = checked(
      conn_->call(scripts_.settle,
                  {options_.prefix, std::to_string(options_.queue.max_inflight_per_tenant), kind,
                   lease.delivery->id, std::to_string(lease.token), std::to_string(at_ms)}),
      scripts_.settle);
  if (!reply) return reply.error();
  if (reply->elements.size() != 1) return script_failed("settle", reply.value());
  if (reply->elements[0].as_int() != 1) return lease_lost();
  return {};
}

Status RedisQueue::retry(const Lease& lease, int64_t at_ms) {
  Status st = settle("retry", lease, at_ms);
  if (st) due_at(at_ms);
  return st;
}

Status RedisQueue::defer(const Lease& lease, int64_t at_ms) {
  Status st = settle("defer", lease, at_ms);
  if (st) due_at(at_ms);
  return st;
}

void RedisQueue::retry_async(const Lease& lease, int64_t at_ms, Settled done) {
  put_back_async("retry", lease, at_ms, std::move(done));
}

void RedisQueue::defer_async(const Lease& lease, int64_t at_ms, Settled done) {
  put_back_async("defer", lease, at_ms, std::move(done));
}

// A Redis that cannot answer (down, or slow past --redis-timeout-ms) keeps the limit: the
// delivery is looked at again a second later, as if its turn were then.
bool RedisQueue::admit_async(const std::string& endpoint_id, const std::string& delivery_id,
                             double per_second, int burst, int64_t now_ms, Admitted& done) {
  constexpr int64_t kHorizonMs = 60'000;  // as delivery::RateLimiter
  const double interval = 1000.0 / per_second;
  const double tolerance = (std::max(burst, 1) - 1) * interval;
  auto decimal = [](double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return std::string(buf);
  };
  conn_->eval(scripts_.rate,
              {options_.prefix, endpoint_id, delivery_id, std::to_string(now_ms), decimal(interval),
               decimal(tolerance), std::to_string(kHorizonMs)},
              [this, now_ms, done = std::move(done)](Result<RedisReply> raw) {
                auto reply = checked(std::move(raw), scripts_.rate);
                if (!reply || reply->type != RedisReply::Type::kInteger) {
                  if (!rate_failing_.exchange(true))
                    spdlog::warn("redis queue: rate limit: {}",
                                 reply ? "an answer not a number" : reply.error().message);
                  return done(now_ms + 1000);
                }
                rate_failing_ = false;
                done(reply->integer);
              });
  return true;
}

void RedisQueue::put_back_async(const char* kind, const Lease& lease, int64_t at_ms, Settled done) {
  settle_async(kind, lease, at_ms, [this, at_ms, done = std::move(done)](Status st) {
    if (st) due_at(at_ms);
    done(std::move(st));
  });
}

void RedisQueue::settle_async(const char* kind, const Lease& lease, int64_t at_ms, Settled done) {
  {
    std::lock_guard lock(settle_mu_);
    settles_.push_back(PendingSettle{kind, lease.delivery->id, std::to_string(lease.token), at_ms,
                                     std::move(done)});
    if (settle_sending_) return;  // the script in flight sends it when it is answered
    settle_sending_ = true;
  }
  flush_settles();
}

void RedisQueue::flush_settles() {
  auto batch = std::make_shared<std::vector<PendingSettle>>();
  {
    std::lock_guard lock(settle_mu_);
    if (settles_.empty() || settle_closing_) {
      settle_sending_ = false;
      batch->swap(settles_);
    } else if (settles_.size() <= kSettleChunk) {
      batch->swap(settles_);
    } else {
      batch->assign(std::make_move_iterator(settles_.begin()),
                    std::make_move_iterator(settles_.begin() + kSettleChunk));
      settles_.erase(settles_.begin(), settles_.begin() + kSettleChunk);
    }
  }
  if (batch->empty()) return;
  if (settle_closing_) {
    for (auto& s : *batch) s.done(queue_unavailable("shutting down"));
    return;
  }
  std::vector<std::string> args{options_.prefix,
                                std::to_string(options_.queue.max_inflight_per_tenant)};
  args.reserve(2 + 4 * batch->size());
  for (const auto& s : *batch) {
    args.emplace_back(s.kind);
    args.push_back(s.id);
    args.push_back(s.token);
    args.push_back(std::to_string(s.at_ms));
  }
  // The answer comes on the connection's thread (or at once on this one when Redis is down):
  // each settle gets its own verdict, and the next batch goes out.
  conn_->eval(scripts_.settle, std::move(args), [this, batch](Result<RedisReply> raw) {
    auto reply = checked(std::move(raw), scripts_.settle);
    if (reply && reply->elements.size() != batch->size())
      reply = script_failed("settle", reply.value());
    for (size_t i = 0; i < batch->size(); ++i) {
      Status st;
      if (!reply)
        st = reply.error();
      else if (reply->elements[i].as_int() != 1)
        st = lease_lost();
      (*batch)[i].done(std::move(st));
    }
    flush_settles();
  });
}

QueueStats RedisQueue::stats() const {
  auto reply = conn_->call(scripts_.stats, {options_.prefix});
  std::lock_guard lock(stats_mu_);
  last_stats_.capacity = options_.queue.capacity;
  last_stats_.max_bytes = options_.queue.max_bytes;
  last_stats_.resets = resets_;
  last_stats_.up = reply && !reply->is_error();
  if (last_stats_.up && reply->elements.size() == 4) {
    auto count = [&](size_t i) {
      return static_cast<size_t>(std::max<int64_t>(0, reply->elements[i].as_int()));
    };
    last_stats_.depth = count(0);
    last_stats_.leased = count(1);
    last_stats_.bytes = count(2);
    last_stats_.scheduled = count(3);
  }
  return last_stats_;
}

Status RedisQueue::ping() {
  auto reply = conn_->call({"PING"});
  if (!reply) return reply.error();
  if (reply->is_error()) return queue_unavailable("Redis refused: " + reply->str);
  auto pushes = push_conn_->call({"PING"});  // it may not have met a broken link yet
  if (!pushes) return pushes.error();
  return {};
}

Status RedisQueue::set_ordering(const EndpointOrdering& o) {
  auto reply = checked(
      conn_->call(scripts_.ordering, {options_.prefix, o.tenant_id, o.endpoint_id,
                                      o.ordered ? "1" : "0", std::to_string(clock_.now_ms())}),
      scripts_.ordering);
  if (!reply) return reply.error();
  nudge();
  return {};
}

std::vector<EndpointOrdering> RedisQueue::orderings() const {
  auto modes = conn_->call({"HGETALL", options_.prefix + "om"});
  auto tenants = conn_->call({"HGETALL", options_.prefix + "omt"});
  std::vector<EndpointOrdering> out;
  if (!modes || !tenants) return out;  // Redis is down: nothing to align now
  std::unordered_map<std::string, std::string> tenant_of;
  for (size_t i = 0; i + 1 < tenants->elements.size(); i += 2)
    tenant_of[tenants->elements[i].str] = tenants->elements[i + 1].str;
  for (size_t i = 0; i + 1 < modes->elements.size(); i += 2) {
    const std::string& ep = modes->elements[i].str;
    out.push_back(EndpointOrdering{tenant_of[ep], ep, modes->elements[i + 1].str == "1"});
  }
  return out;
}

Result<std::vector<std::string>> RedisQueue::holding(const std::vector<std::string>& ids) {
  std::vector<std::string> out;
  for (size_t from = 0; from < ids.size(); from += kHoldingChunk) {
    std::vector<std::string> args{options_.prefix};
    for (size_t i = from; i < std::min(ids.size(), from + kHoldingChunk); ++i)
      args.push_back(ids[i]);
    auto reply = checked(conn_->call(scripts_.holding, std::move(args)), scripts_.holding);
    if (!reply) return reply.error();
    for (auto& e : reply->elements) out.push_back(std::move(e.str));
  }
  return out;
}

}  // namespace sealhook
