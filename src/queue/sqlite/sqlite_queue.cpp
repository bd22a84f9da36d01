// SqliteQueue: the calls made by publishers and the dispatcher, and the in-memory scheduler.
// The queue thread's side (group commits, arming, recovery) is in sqlite_queue_db.cpp.
#include "queue/sqlite/sqlite_queue.hpp"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "queue/min_heap.hpp"
#include "store/sqlite/connection.hpp"

namespace sealhook {

SqliteQueue::SqliteQueue(const SqliteQueueOptions& options, const Clock& clock,
                         std::unique_ptr<sqlite::Connection> conn)
    : options_(options), clock_(clock), conn_(std::move(conn)) {}

SqliteQueue::~SqliteQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  checkpoint_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  // The last commits into the database file, then the WAL goes.
  if (checkpoint_conn_)
    (void)checkpoint_conn_->exec("PRAGMA wal_checkpoint(TRUNCATE)", "checkpoint");
}

uint32_t SqliteQueue::lane_for(const std::string& endpoint_id, const std::string& tenant_id,
                               bool ordered) {
  auto [it, fresh] = lane_ids_.try_emplace(endpoint_id, static_cast<uint32_t>(lanes_.size()));
  if (fresh) {
    auto [t, new_tenant] =
        tenant_ids_.try_emplace(tenant_id, static_cast<uint32_t>(tenants_.size()));
    if (new_tenant) tenants_.emplace_back();
    lanes_.push_back(Lane{endpoint_id, t->second, {}, ordered, 0, false});
  }
  return it->second;
}

void SqliteQueue::reserve(uint32_t lane) {
  Lane& l = lanes_[lane];
  TenantState& t = tenants_[l.tenant];
  if (l.reserved++ == 0) t.busy_lanes++;
  t.reserved++;
}

void SqliteQueue::unreserve(uint32_t lane) {
  Lane& l = lanes_[lane];
  TenantState& t = tenants_[l.tenant];
  if (--l.reserved == 0) t.busy_lanes--;
  // Back below its cap: the tenant's parked lanes return to the rotation.
  if (t.reserved-- == options_.queue.max_inflight_per_tenant) {
    for (uint32_t p : t.parked) active_.push_back(p);
    t.parked.clear();
  }
}

bool SqliteQueue::armable(const Lane& lane, const Slot& head, int64_t now_ms) const {
  const TenantState& t = tenants_[lane.tenant];
  if (t.reserved >= options_.queue.max_inflight_per_tenant) return false;
  if (lane.ordered) return lane.reserved == 0 && head.due_ms <= now_ms;
  return lane.reserved < endpoint_share(options_.queue, t.busy_lanes - (lane.reserved > 0 ? 1 : 0));
}

void SqliteQueue::activate(uint32_t lane) {
  Lane& l = lanes_[lane];
  if (l.listed) return;
  l.listed = true;
  active_.push_back(lane);
}

// Back among the waiting: due ones (and every ordered one) in the lane, later ones on a timer.
void SqliteQueue::make_waiting(Slot& s, int64_t now_ms) {
  s.state = State::kWaiting;
  if (lanes_[s.lane].ordered || s.due_ms <= now_ms) lanes_[s.lane].ready.insert(s.seq);
  if (s.due_ms > now_ms) heap_push(timers_, std::make_pair(s.due_ms, s.seq));
  if (s.due_ms <= now_ms) activate(s.lane);
}

void SqliteQueue::release_timers(int64_t now_ms) {
  while (!timers_.empty() && timers_.front().first <= now_ms) {
    auto [due, seq] = heap_pop(timers_);
    auto it = slots_.find(seq);
    if (it == slots_.end() || it->second.state != State::kWaiting || it->second.due_ms != due)
      continue;
    Slot& s = it->second;
    if (!lanes_[s.lane].ordered) lanes_[s.lane].ready.insert(seq);
    activate(s.lane);
  }
}

// A lease past its deadline: the delivery is due again (an ordered one is its lane's head, as
// the lane's lowest seq). Its hand-out stays counted.
void SqliteQueue::expire(int64_t now_ms) {
  while (!deadlines_.empty() && deadlines_.front().first <= now_ms) {
    auto [deadline, token] = heap_pop(deadlines_);
    auto lt = leases_.find(token);
    if (lt == leases_.end()) continue;
    auto it = slots_.find(lt->second);
    if (it == slots_.end() || it->second.deadline_ms != deadline) continue;  // extended
    leases_.erase(lt);
    Slot& s = it->second;
    unreserve(s.lane);
    s.due_ms = std::min(s.due_ms, now_ms);
    make_waiting(s, now_ms);
  }
}

void SqliteQueue::cache(Slot& s, std::shared_ptr<QueuedDelivery> data) {
  s.data = std::move(data);
  s.cached_bytes = s.data->body->size() + kSlotDataBytes;
  cached_ += s.cached_bytes;
}

void SqliteQueue::uncache(Slot& s) {
  cached_ -= s.cached_bytes;
  s.cached_bytes = 0;
  s.data.reset();
}

Status SqliteQueue::enqueue(std::vector<QueuedDelivery>&& batch,
                            const std::shared_ptr<PushJob>& job) {
  if (closed_ || stopping_)
    return make_error(ErrorKind::kUnavailable, "shutting_down", "the server is shutting down");
  if (slots_.size() + pending_push_ + batch.size() > options_.queue.capacity)
    return queue_full(std::to_string(options_.queue.capacity) + " deliveries");
  // One body row per distinct ciphertext (a tenant's endpoints share theirs).
  std::unordered_map<const std::string*, int64_t> bodies;
  for (const QueuedDelivery& d : batch)
    if (bodies.try_emplace(d.body.get(), 0).second) job->bytes += d.body->size();
  if (bytes_ + pending_bytes_ + job->bytes > options_.queue.max_bytes)
    return queue_full(std::to_string(options_.queue.max_bytes) + " bytes");
  job->slots.reserve(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const QueuedDelivery& d = batch[i];
    auto it = bodies.find(d.body.get());
    if (it->second == 0) {
      it->second = next_body_++;
      job->new_bodies.push_back(static_cast<int64_t>(i));
    }
    Slot s;
    s.seq = next_seq_++;
    s.body_id = it->second;
    s.due_ms = d.not_before_ms;
    s.lane = lane_for(d.endpoint_id, d.tenant_id, d.ordered);
    job->slots.push_back(std::move(s));
  }
  job->deliveries = std::move(batch);
  pending_push_ += job->slots.size();
  pending_bytes_ += job->bytes;
  jobs_.push_back(job);
  if (pending_push_ >= options_.max_group)
    work_cv_.notify_all();  // ends a round gap early
  else
    nudge();
  return {};
}

Status SqliteQueue::push(std::vector<QueuedDelivery>&& batch) {
  if (batch.empty()) return {};
  auto job = std::make_shared<PushJob>();
  std::unique_lock lock(mu_);
  if (Status st = enqueue(std::move(batch), job); !st) return st;
  done_cv_.wait(lock, [&] { return job->done; });
  return job->result;
}

void SqliteQueue::push_async(std::vector<QueuedDelivery>&& batch,
                             std::function<void(Status)> done) {
  if (batch.empty()) return done({});
  auto job = std::make_shared<PushJob>();
  job->callback = std::move(done);
  Status st;
  {
    std::lock_guard lock(mu_);
    st = enqueue(std::move(batch), job);
  }
  if (!st) job->callback(st);
}

std::vector<Lease> SqliteQueue::lease(int64_t now_ms, size_t max, int64_t lease_ms) {
  std::vector<Lease> out;
  std::unique_lock lock(mu_);
  // A timer or a deadline has come (by the caller's clock): the queue thread looks again.
  if ((!timers_.empty() && timers_.front().first <= now_ms) ||
      (!deadlines_.empty() && deadlines_.front().first <= now_ms))
    nudge();
  while (out.size() < max && !armed_.empty()) {
    int64_t seq = armed_.front();
    armed_.pop_front();
    auto it = slots_.find(seq);
    if (it == slots_.end() || it->second.state != State::kArmed) continue;
    Slot& s = it->second;
    s.state = State::kLeased;
    s.token = next_token_++;
    s.deadline_ms = now_ms + lease_ms;
    leases_.emplace(s.token, seq);
    heap_push(deadlines_, std::make_pair(s.deadline_ms, s.token));
    out.push_back(Lease{s.data, s.token, s.deadline_ms, s.handouts});
  }
  // The queue thread sleeps until its next timer: wake it if a deadline now comes first.
  if (!out.empty() && (wake_ms_ == 0 || out.front().deadline_ms < wake_ms_)) nudge();
  if (armed_.size() < options_.max_armed / 2 && !active_.empty()) nudge();
  return out;
}

SqliteQueue::Slot* SqliteQueue::find_lease(const Lease& lease) {
  auto lt = leases_.find(lease.token);
  if (lt == leases_.end()) return nullptr;
  auto it = slots_.find(lt->second);
  if (it == slots_.end()) return nullptr;
  leases_.erase(lt);
  return &it->second;
}

Status SqliteQueue::forget(const Lease& lease) {
  std::lock_guard lock(mu_);
  Slot* s = find_lease(lease);
  if (s == nullptr) return lease_lost();
  unreserve(s->lane);
  activate(s->lane);
  // The last delivery of a ciphertext takes its body row with it.
  int64_t body = 0;
  if (auto it = body_refs_.find(s->body_id);
      it != body_refs_.end() && --it->second.deliveries == 0) {
    body = s->body_id;
    bytes_ -= it->second.bytes;
    body_refs_.erase(it);
  }
  ops_.push_back(Op{Op::kDelete, s->seq, body});
  ops_added_++;
  uncache(*s);
  slots_.erase(s->seq);
  nudge();
  return {};
}

Status SqliteQueue::retry(const Lease& lease, int64_t at_ms) {
  return put_back(lease, at_ms, false);
}

Status SqliteQueue::defer(const Lease& lease, int64_t at_ms) {
  return put_back(lease, at_ms, true);
}

Status SqliteQueue::put_back(const Lease& lease, int64_t at_ms, bool give_back) {
  std::lock_guard lock(mu_);
  Slot* s = find_lease(lease);
  if (s == nullptr) return lease_lost();
  unreserve(s->lane);
  s->due_ms = at_ms;
  if (give_back) s->handouts--;
  ops_.push_back(give_back ? Op{Op::kDefer, s->seq, at_ms, s->handouts}
                           : Op{Op::kDue, s->seq, at_ms});
  ops_added_++;
  uncache(*s);  // read again when it is due
  make_waiting(*s, clock_.now_ms());
  activate(s->lane);
  nudge();
  return {};
}

Status SqliteQueue::extend(const Lease& lease, int64_t deadline_ms) {
  std::lock_guard lock(mu_);
  auto lt = leases_.find(lease.token);
  if (lt == leases_.end()) return lease_lost();
  Slot& s = slots_.at(lt->second);
  s.deadline_ms = deadline_ms;
  heap_push(deadlines_, std::make_pair(deadline_ms, lease.token));
  return {};
}

void SqliteQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
}

void SqliteQueue::set_ready_listener(std::function<void()> listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

QueueStats SqliteQueue::stats() const {
  std::lock_guard lock(mu_);
  return QueueStats{slots_.size(), leases_.size(), options_.queue.capacity, bytes_,
                    options_.queue.max_bytes};
}

// The timers that are still their slot's (a settled or re-leased slot leaves its old one).
std::optional<size_t> SqliteQueue::count_scheduled(int64_t now_ms) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [due, seq] : timers_) {
    if (due <= now_ms) continue;
    auto it = slots_.find(seq);
    n += it != slots_.end() && it->second.state == State::kWaiting && it->second.due_ms == due;
  }
  return n;
}

Status SqliteQueue::ping() {
  std::lock_guard lock(mu_);
  return last_write_;
}

Status SqliteQueue::sync() {
  std::unique_lock lock(mu_);
  const uint64_t target = ops_added_;
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return ops_done_ >= target || stopping_; });
  return last_write_;
}

void SqliteQueue::quiesce() {
  std::unique_lock lock(mu_);
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return stopping_ || (!in_round_ && !has_work(clock_.now_ms())); });
}

Result<std::vector<std::string>> SqliteQueue::holding(const std::vector<std::string>& ids) {
  auto held = held_ids();
  if (!held) return held.error();
  std::vector<std::string> out;
  for (const auto& id : ids)
    if ((*held)->contains(id)) out.push_back(id);
  return out;
}

Result<std::shared_ptr<const IdSet>> SqliteQueue::held_ids() {
  // A reader of its own (WAL): the queue thread keeps writing meanwhile.
  auto conn = sqlite::Connection::open(options_.path, {});
  if (!conn) return conn.error();
  auto st = (*conn)->query("SELECT id FROM deliveries");
  if (!st) return st.error();
  auto held = std::make_shared<IdSet>();
  {
    std::lock_guard lock(mu_);
    held->reserve(slots_.size() + slots_.size() / 8);  // and what is pushed meanwhile
  }
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) held->add((*st)->text_view(0));
  if (rc != SQLITE_DONE) return (*conn)->error(rc, "read the queue");
  held->seal();
  return std::shared_ptr<const IdSet>(std::move(held));
}

}  // namespace sealhook
