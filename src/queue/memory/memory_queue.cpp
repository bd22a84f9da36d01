#include "queue/memory/memory_queue.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "queue/min_heap.hpp"

namespace sealhook {

MemoryQueue::MemoryQueue(const QueueOptions& options, const Clock& clock)
    : options_(options), clock_(clock) {}

MemoryQueue::Shard& MemoryQueue::shard_for(const std::string& tenant_id) {
  return shards_[std::hash<std::string>{}(tenant_id) % kShards];
}

MemoryQueue::Lane& MemoryQueue::lane_of(Shard& s, const QueuedDelivery& d) {
  auto [it, fresh] = s.lanes.try_emplace(d.endpoint_id);
  if (fresh) {
    it->second.tenant_id = d.tenant_id;
    auto mode = s.modes.find(d.endpoint_id);
    it->second.ordered = mode != s.modes.end() ? mode->second.ordered : d.ordered;
    s.tenants[d.tenant_id].lanes++;
  }
  return it->second;
}

void MemoryQueue::took(Shard& s, Lane& lane) {
  TenantState& t = s.tenants[lane.tenant_id];
  if (lane.inflight++ == 0) t.busy_lanes++;
  t.inflight++;
}

void MemoryQueue::released(Shard& s, Lane& lane) {
  TenantState& t = s.tenants[lane.tenant_id];
  if (--lane.inflight == 0) t.busy_lanes--;
  // Back below its cap: the tenant's parked lanes return to the rotation.
  if (t.inflight-- == options_.max_inflight_per_tenant) {
    for (auto& ep : t.parked) s.active.push_back(std::move(ep));
    t.parked.clear();
  }
}

void MemoryQueue::activate(Shard& s, const std::string& endpoint_id, Lane& lane) {
  if (lane.listed) return;
  lane.listed = true;
  s.active.push_back(endpoint_id);
}

void MemoryQueue::add_timer(Shard& s, Timer t) {
  t.seq = s.timer_seq++;
  heap_push(s.timers, std::move(t));
}

void MemoryQueue::release_due_timers(Shard& s, int64_t now_ms) {
  while (!s.timers.empty() && s.timers.front().due_ms <= now_ms) {
    Timer t = heap_pop(s.timers);
    auto it = s.lanes.find(t.endpoint_id);
    if (!t.item && it == s.lanes.end()) continue;  // an ordered lane's wake-up, lane gone
    Lane& lane = t.item ? lane_of(s, t.item->d) : it->second;
    if (!t.item && lane.wake_ms <= t.due_ms) lane.wake_ms = 0;
    if (t.item && lane.ordered)
      insert_ordered(lane, std::move(t.item));
    else if (t.item)
      lane.ready.push_back(std::move(t.item));
    activate(s, t.endpoint_id, lane);
  }
}

// A lease past its deadline gives its delivery back: due at once, an ordered one as the head.
void MemoryQueue::expire_leases(Shard& s, int64_t now_ms) {
  while (!s.deadlines.empty() && s.deadlines.front().first <= now_ms) {
    auto [deadline, token] = heap_pop(s.deadlines);
    auto it = s.leases.find(token);
    if (it == s.leases.end() || it->second.deadline_ms != deadline) continue;  // settled/extended
    ItemPtr item = std::move(it->second.item);
    s.leases.erase(it);
    s.out--;
    leased_--;
    const std::string ep = item->d.endpoint_id;
    Lane& lane = lane_of(s, item->d);
    released(s, lane);
    s.waiting++;
    item->d.not_before_ms = now_ms;
    if (lane.ordered)
      insert_ordered(lane, std::move(item));
    else
      lane.ready.push_back(std::move(item));
    activate(s, ep, lane);
  }
}

bool MemoryQueue::takeable(const Shard& s, const Lane& lane, int64_t now_ms) const {
  if (lane.ready.empty()) return false;
  const TenantState& t = s.tenants.at(lane.tenant_id);
  if (t.inflight >= options_.max_inflight_per_tenant) return false;
  const auto& head = lane.ready.front()->d;
  if (lane.ordered) return lane.inflight == 0 && head.not_before_ms <= now_ms;
  return lane.inflight < endpoint_share(options_, t.busy_lanes - (lane.inflight > 0 ? 1 : 0));
}

Status MemoryQueue::push(std::vector<QueuedDelivery>&& batch) {
  if (closed_)
    return make_error(ErrorKind::kUnavailable, "shutting_down", "the server is shutting down");
  size_t n = batch.size();
  // One charge per distinct body of the batch.
  std::unordered_map<const std::string*, std::shared_ptr<BodyCharge>> charges;
  size_t bytes = 0;
  for (const auto& d : batch) {
    auto [it, fresh] = charges.try_emplace(d.body.get());
    if (fresh) bytes += d.body->size();
  }
  size_t before = size_.fetch_add(n);
  if (before + n > options_.capacity) {
    size_.fetch_sub(n);
    return queue_full(std::to_string(options_.capacity) + " deliveries");
  }
  if (bytes_->fetch_add(bytes) + bytes > options_.max_bytes) {
    bytes_->fetch_sub(bytes);
    size_.fetch_sub(n);
    return queue_full(std::to_string(options_.max_bytes) + " bytes");
  }
  for (auto& [body, charge] : charges) charge = std::make_shared<BodyCharge>(bytes_, body->size());
  int64_t now = clock_.now_ms();
  for (auto& d : batch) {
    Shard& s = shard_for(d.tenant_id);
    auto charge = charges.at(d.body.get());
    auto item = std::make_shared<Item>(Item{std::move(d), 0, std::move(charge)});
    std::lock_guard lock(s.mu);
    s.waiting++;
    const QueuedDelivery& q = item->d;
    Lane& lane = lane_of(s, q);
    item->seq = q.order != 0 ? q.order : s.push_seq++;
    if (!lane.ordered && q.not_before_ms > now) {
      add_timer(s, Timer{q.not_before_ms, 0, q.endpoint_id, std::move(item)});
      continue;
    }
    const std::string& ep = q.endpoint_id;
    if (q.order != 0)
      insert_ordered(lane, std::move(item));  // its own place, given by the caller
    else
      lane.ready.push_back(std::move(item));  // the newest: an ordered lane's last
    wake_for_head(s, ep, lane, now);
    activate(s, ep, lane);
  }
  if (listener_) listener_();
  return {};
}

void MemoryQueue::lease_from(Shard& s, int64_t now_ms, size_t max, int64_t lease_ms,
                             std::vector<Lease>& out) {
  // A push raises `waiting` under the lock before it calls the listener, so a lease that
  // follows a push sees it.
  if (s.waiting.load() == 0 && s.out.load() == 0) return;
  std::lock_guard lock(s.mu);
  expire_leases(s, now_ms);
  release_due_timers(s, now_ms);
  // One delivery per lane per turn, so that busy lanes share by turns. Each turn hands one
  // out or takes a lane out of the rotation, so the loop ends.
  while (out.size() < max && !s.active.empty()) {
    std::string ep = std::move(s.active.front());
    s.active.pop_front();
    auto it = s.lanes.find(ep);
    if (it == s.lanes.end()) continue;
    Lane& lane = it->second;
    lane.listed = false;
    if (takeable(s, lane, now_ms)) {
      ItemPtr item = std::move(lane.ready.front());
      lane.ready.pop_front();
      took(s, lane);
      s.waiting--;
      s.out++;
      item->handouts++;
      uint64_t token = next_token_.fetch_add(1);
      int64_t deadline = now_ms + lease_ms;
      out.push_back(Lease{std::shared_ptr<const QueuedDelivery>(item, &item->d), token, deadline,
                          item->handouts});
      s.leases.emplace(token, Held{std::move(item), deadline});
      heap_push(s.deadlines, std::make_pair(deadline, token));
    }
    // Still has work it may hand out now: keep it in the rotation. Held back by its tenant's
    // cap: parked with the tenant until one of its leases settles. Otherwise it comes back
    // through a settle (its own share), a timer (ordered head waiting) or an expiry.
    TenantState& t = s.tenants.at(lane.tenant_id);
    if (!lane.ready.empty() && t.inflight >= options_.max_inflight_per_tenant) {
      lane.listed = true;
      t.parked.push_back(std::move(ep));
    } else if (takeable(s, lane, now_ms)) {
      activate(s, ep, lane);
    } else {
      wake_for_head(s, ep, lane, now_ms);
    }
  }
}

std::vector<Lease> MemoryQueue::lease(int64_t now_ms, size_t max, int64_t lease_ms) {
  std::vector<Lease> out;
  if (max == 0) return out;
  size_t start = next_shard_.fetch_add(1);
  for (size_t i = 0; i < kShards && out.size() < max; ++i)
    lease_from(shards_[(start + i) % kShards], now_ms, max, lease_ms, out);
  leased_ += out.size();
  return out;
}

void MemoryQueue::finish(Shard& s, const std::string& endpoint_id, Lane& lane) {
  if (!lane.ready.empty()) {
    activate(s, endpoint_id, lane);
  } else if (lane.inflight == 0 && !lane.listed) {
    auto t = s.tenants.find(lane.tenant_id);
    if (--t->second.lanes == 0) s.tenants.erase(t);
    s.lanes.erase(endpoint_id);
  }
}

MemoryQueue::ItemPtr MemoryQueue::take_lease(Shard& s, const Lease& lease) {
  auto it = s.leases.find(lease.token);
  if (it == s.leases.end()) return nullptr;
  ItemPtr item = std::move(it->second.item);
  s.leases.erase(it);  // its deadline heap entry goes stale
  s.out--;
  leased_--;
  auto lane = s.lanes.find(item->d.endpoint_id);
  if (lane != s.lanes.end()) released(s, lane->second);
  return item;
}

Status MemoryQueue::forget(const Lease& lease) {
  Shard& s = shard_for(lease.delivery->tenant_id);
  {
    std::lock_guard lock(s.mu);
    ItemPtr item = take_lease(s, lease);
    if (!item) return lease_lost();
    item->charge.reset();  // the lease may live on; the queue holds it no more
    auto it = s.lanes.find(item->d.endpoint_id);
    if (it != s.lanes.end()) finish(s, it->first, it->second);
  }
  size_--;
  return {};
}

Status MemoryQueue::retry(const Lease& lease, int64_t at_ms) { return put_back(lease, at_ms, 0); }

Status MemoryQueue::defer(const Lease& lease, int64_t at_ms) { return put_back(lease, at_ms, 1); }

Status MemoryQueue::put_back(const Lease& lease, int64_t at_ms, int given_back) {
  Shard& s = shard_for(lease.delivery->tenant_id);
  std::lock_guard lock(s.mu);
  ItemPtr item = take_lease(s, lease);
  if (!item) return lease_lost();
  item->handouts -= given_back;
  item->d.not_before_ms = at_ms;
  const std::string ep = item->d.endpoint_id;
  Lane& lane = lane_of(s, item->d);
  s.waiting++;
  if (lane.ordered) {
    // Back to its place (the head's, unless it was leased before a switch to ordered); the
    // lane waits for its head's time.
    insert_ordered(lane, std::move(item));
    wake_for_head(s, ep, lane, clock_.now_ms());
  } else {
    add_timer(s, Timer{at_ms, 0, ep, std::move(item)});
  }
  finish(s, ep, lane);
  return {};
}

Status MemoryQueue::extend(const Lease& lease, int64_t deadline_ms) {
  Shard& s = shard_for(lease.delivery->tenant_id);
  std::lock_guard lock(s.mu);
  auto it = s.leases.find(lease.token);
  if (it == s.leases.end()) return lease_lost();
  it->second.deadline_ms = deadline_ms;
  heap_push(s.deadlines, std::make_pair(deadline_ms, lease.token));
  return {};
}

void MemoryQueue::close() { closed_ = true; }

std::optional<int64_t> MemoryQueue::next_due_ms() const {
  std::optional<int64_t> best;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& t : {s.timers.empty() ? INT64_MAX : s.timers.front().due_ms,
                          s.deadlines.empty() ? INT64_MAX : s.deadlines.front().first})
      if (t != INT64_MAX && (!best || t < *best)) best = t;
  }
  return best;
}

QueueStats MemoryQueue::stats() const {
  return QueueStats{size_.load(), leased_.load(), options_.capacity, bytes_->load(),
                    options_.max_bytes};
}

// The deliveries on the shards' timers (an ordered lane's retried head waits in its lane, not
// on a timer, and is not counted).
std::optional<size_t> MemoryQueue::count_scheduled(int64_t now_ms) const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const Timer& t : s.timers) n += t.item && t.due_ms > now_ms ? 1 : 0;
  }
  return n;
}

Result<std::vector<std::string>> MemoryQueue::holding(const std::vector<std::string>& ids) {
  auto held = held_ids();
  std::vector<std::string> out;
  for (const auto& id : ids)
    if ((*held)->contains(id)) out.push_back(id);
  return out;
}

Result<std::shared_ptr<const IdSet>> MemoryQueue::held_ids() {
  auto held = std::make_shared<IdSet>();
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [ep, lane] : s.lanes)
      for (const auto& item : lane.ready) held->add(item->d.id);
    for (const auto& t : s.timers)
      if (t.item) held->add(t.item->d.id);
    for (const auto& [token, h] : s.leases) held->add(h.item->d.id);
  }
  held->seal();
  return std::shared_ptr<const IdSet>(std::move(held));
}

}  // namespace sealhook
