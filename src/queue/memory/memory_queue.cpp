#include "queue/memory/memory_queue.hpp"

#include <algorithm>
#include <functional>

namespace sealhook {

MemoryQueue::MemoryQueue(const QueueOptions& options, const Clock& clock)
    : options_(options), clock_(clock) {}

MemoryQueue::Shard& MemoryQueue::shard_for(const std::string& endpoint_id) {
  return shards_[std::hash<std::string>{}(endpoint_id) % kShards];
}

void MemoryQueue::activate(Shard& s, const std::string& endpoint_id, Lane& lane) {
  if (lane.listed) return;
  lane.listed = true;
  s.active.push_back(endpoint_id);
}

void MemoryQueue::add_timer(Shard& s, Timer t) {
  t.seq = s.timer_seq++;
  s.timers.push_back(std::move(t));
  std::push_heap(s.timers.begin(), s.timers.end(), std::greater<>{});
}

void MemoryQueue::release_due_timers(Shard& s, int64_t now_ms) {
  while (!s.timers.empty() && s.timers.front().due_ms <= now_ms) {
    std::pop_heap(s.timers.begin(), s.timers.end(), std::greater<>{});
    Timer t = std::move(s.timers.back());
    s.timers.pop_back();
    auto it = s.lanes.find(t.endpoint_id);
    if (it == s.lanes.end()) it = s.lanes.emplace(t.endpoint_id, Lane{}).first;
    if (t.delivery) it->second.ready.push_back(std::move(*t.delivery));
    activate(s, t.endpoint_id, it->second);
  }
}

bool MemoryQueue::takeable(const Lane& lane, int64_t now_ms) const {
  if (lane.ready.empty()) return false;
  const auto& head = lane.ready.front();
  if (head.ordered) return lane.inflight == 0 && head.not_before_ms <= now_ms;
  return lane.inflight < options_.max_inflight_per_endpoint;
}

Status MemoryQueue::push(std::vector<QueuedDelivery>&& batch) {
  if (closed_)
    return make_error(ErrorKind::kUnavailable, "shutting_down", "the server is shutting down");
  size_t n = batch.size();
  size_t before = size_.fetch_add(n);
  if (before + n > options_.capacity) {
    size_.fetch_sub(n);
    return make_error(
        ErrorKind::kUnavailable, "queue_full",
        "the delivery queue is full (" + std::to_string(options_.capacity) + "); retry later");
  }
  int64_t now = clock_.now_ms();
  for (auto& d : batch) {
    Shard& s = shard_for(d.endpoint_id);
    std::lock_guard lock(s.mu);
    s.waiting++;
    Lane& lane = s.lanes[d.endpoint_id];
    if (!d.ordered && d.not_before_ms > now) {
      std::string ep = d.endpoint_id;
      add_timer(s, Timer{d.not_before_ms, 0, std::move(ep), std::move(d)});
      continue;
    }
    if (d.ordered && d.not_before_ms > now && lane.ready.empty())
      add_timer(s, Timer{d.not_before_ms, 0, d.endpoint_id, std::nullopt});
    lane.ready.push_back(std::move(d));
    activate(s, lane.ready.back().endpoint_id, lane);
  }
  if (listener_) listener_();
  return {};
}

void MemoryQueue::lease_from(Shard& s, int64_t now_ms, size_t max,
                             std::vector<QueuedDelivery>& out) {
  // A push raises `waiting` under the lock before it calls the listener, so a lease that
  // follows a push sees it.
  if (s.waiting.load() == 0) return;
  std::lock_guard lock(s.mu);
  release_due_timers(s, now_ms);
  size_t rounds = s.active.size();
  while (rounds-- > 0 && out.size() < max) {
    std::string ep = std::move(s.active.front());
    s.active.pop_front();
    auto it = s.lanes.find(ep);
    if (it == s.lanes.end()) continue;
    Lane& lane = it->second;
    lane.listed = false;
    while (out.size() < max && takeable(lane, now_ms)) {
      out.push_back(std::move(lane.ready.front()));
      lane.ready.pop_front();
      lane.inflight++;
      s.waiting--;
    }
    // Still has work it may hand out now: keep it in the rotation. Otherwise it comes back
    // through complete()/retry() (inflight bound) or a timer (ordered head waiting).
    if (takeable(lane, now_ms)) activate(s, ep, lane);
  }
}

std::vector<QueuedDelivery> MemoryQueue::lease(int64_t now_ms, size_t max) {
  std::vector<QueuedDelivery> out;
  if (max == 0) return out;
  size_t start = next_shard_.fetch_add(1);
  for (size_t i = 0; i < kShards && out.size() < max; ++i)
    lease_from(shards_[(start + i) % kShards], now_ms, max, out);
  leased_ += out.size();
  return out;
}

void MemoryQueue::finish(Shard& s, const std::string& endpoint_id, Lane& lane) {
  if (!lane.ready.empty()) {
    activate(s, endpoint_id, lane);
  } else if (lane.inflight == 0 && !lane.listed) {
    s.lanes.erase(endpoint_id);
  }
}

void MemoryQueue::complete(const QueuedDelivery& d) {
  Shard& s = shard_for(d.endpoint_id);
  {
    std::lock_guard lock(s.mu);
    auto it = s.lanes.find(d.endpoint_id);
    if (it != s.lanes.end()) {
      it->second.inflight--;
      finish(s, d.endpoint_id, it->second);
    }
  }
  size_--;
  leased_--;
}

void MemoryQueue::retry(QueuedDelivery&& d) {
  Shard& s = shard_for(d.endpoint_id);
  {
    std::lock_guard lock(s.mu);
    Lane& lane = s.lanes[d.endpoint_id];
    lane.inflight--;
    s.waiting++;
    std::string ep = d.endpoint_id;
    if (d.ordered) {
      // The head goes back in front and the lane waits for its time.
      add_timer(s, Timer{d.not_before_ms, 0, ep, std::nullopt});
      lane.ready.push_front(std::move(d));
    } else {
      add_timer(s, Timer{d.not_before_ms, 0, ep, std::move(d)});
    }
    finish(s, ep, lane);
  }
  leased_--;
}

void MemoryQueue::close() { closed_ = true; }

QueueStats MemoryQueue::stats() const {
  return QueueStats{size_.load(), leased_.load(), options_.capacity};
}

}  // namespace sealhook
