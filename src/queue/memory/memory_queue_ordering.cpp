// MemoryQueue: an endpoint's ordering (set_ordering) and the order kept in an ordered lane.
#include <algorithm>
#include <functional>

#include "queue/memory/memory_queue.hpp"

namespace sealhook {

void MemoryQueue::insert_ordered(Lane& lane, ItemPtr item) {
  auto at = std::upper_bound(lane.ready.begin(), lane.ready.end(), item->seq,
                             [](uint64_t seq, const ItemPtr& i) { return seq < i->seq; });
  lane.ready.insert(at, std::move(item));
}

void MemoryQueue::wake_for_head(Shard& s, const std::string& endpoint_id, Lane& lane,
                                int64_t now_ms) {
  if (!lane.ordered || lane.ready.empty()) return;
  const int64_t due = lane.ready.front()->d.not_before_ms;
  if (due <= now_ms || (lane.wake_ms != 0 && lane.wake_ms <= due)) return;
  lane.wake_ms = due;
  add_timer(s, Timer{due, 0, endpoint_id, nullptr});
}

void MemoryQueue::switch_lane(Shard& s, const EndpointOrdering& e, int64_t now_ms) {
  s.modes[e.endpoint_id] = e;
  auto it = s.lanes.find(e.endpoint_id);
  if (e.ordered) {
    // Scheduled retries join the lane: an ordered lane holds every waiting delivery.
    auto moved = std::partition(s.timers.begin(), s.timers.end(), [&](const Timer& t) {
      return !t.item || t.endpoint_id != e.endpoint_id;
    });
    std::vector<ItemPtr> items;
    for (auto t = moved; t != s.timers.end(); ++t) items.push_back(std::move(t->item));
    s.timers.erase(moved, s.timers.end());
    std::make_heap(s.timers.begin(), s.timers.end(), std::greater<>{});
    if (it == s.lanes.end() && items.empty()) return;
    Lane& lane = it != s.lanes.end() ? it->second : lane_of(s, items.front()->d);
    lane.ordered = true;
    for (auto& item : items) lane.ready.push_back(std::move(item));
    std::sort(lane.ready.begin(), lane.ready.end(),
              [](const ItemPtr& a, const ItemPtr& b) { return a->seq < b->seq; });
    wake_for_head(s, e.endpoint_id, lane, now_ms);
    if (!lane.ready.empty()) activate(s, e.endpoint_id, lane);
    return;
  }
  if (it == s.lanes.end()) return;
  Lane& lane = it->second;
  lane.ordered = false;
  lane.wake_ms = 0;
  // Each at its own time: the due ones at once, the others on their timers.
  std::deque<ItemPtr> due;
  for (auto& item : lane.ready) {
    if (item->d.not_before_ms > now_ms)
      add_timer(s, Timer{item->d.not_before_ms, 0, e.endpoint_id, std::move(item)});
    else
      due.push_back(std::move(item));
  }
  lane.ready = std::move(due);
  if (!lane.ready.empty()) activate(s, e.endpoint_id, lane);
}

Status MemoryQueue::set_ordering(const EndpointOrdering& ordering) {
  Shard& s = shard_for(ordering.tenant_id);
  {
    std::lock_guard lock(s.mu);
    switch_lane(s, ordering, clock_.now_ms());
  }
  if (listener_) listener_();
  return {};
}

std::vector<EndpointOrdering> MemoryQueue::orderings() const {
  std::vector<EndpointOrdering> out;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    for (const auto& [ep, mode] : s.modes) out.push_back(mode);
  }
  return out;
}

}  // namespace sealhook
