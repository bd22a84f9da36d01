// SqliteQueue: an endpoint's ordering. set_ordering() hands the switch to the queue thread,
// which applies it to the scheduler between rounds (nothing is being armed then), records it
// in the `orderings` table in the round's commit, and undoes it if that commit fails.
#include <algorithm>

#include "queue/sqlite/sqlite_queue.hpp"
#include "queue/sqlite/sqlite_queue_round.hpp"
#include "store/sqlite/connection.hpp"

namespace sealhook {

Status SqliteQueue::set_ordering(const EndpointOrdering& ordering) {
  auto job = std::make_shared<SwitchJob>();
  job->ordering = ordering;
  std::unique_lock lock(mu_);
  if (stopping_)
    return make_error(ErrorKind::kUnavailable, "shutting_down", "the queue is closing");
  switches_.push_back(job);
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] { return job->done; });
  return job->result;
}

std::vector<EndpointOrdering> SqliteQueue::orderings() const {
  std::lock_guard lock(mu_);
  std::vector<EndpointOrdering> out;
  out.reserve(orderings_.size());
  for (const auto& [ep, o] : orderings_) out.push_back(o);
  return out;
}

void SqliteQueue::switch_lane(uint32_t li, bool ordered, int64_t now_ms) {
  Lane& lane = lanes_[li];
  if (lane.ordered == ordered) return;
  lane.ordered = ordered;
  if (ordered) {
    // Armed but not leased: back among the waiting, their counted hand-out given back (the
    // next arming records the same count), so that the lane starts again from its oldest.
    // Every waiting delivery joins the lane; leased ones finish first (armable()).
    for (auto& [seq, s] : slots_) {
      if (s.lane != li) continue;
      if (s.state == State::kArmed) {
        s.state = State::kWaiting;
        s.handouts--;
        unreserve(li);
      }
      if (s.state == State::kWaiting) lane.ready.insert(seq);
    }
    std::erase_if(armed_, [&](int64_t seq) {
      auto it = slots_.find(seq);
      return it == slots_.end() || it->second.state != State::kArmed;
    });
  } else {
    // Each at its own time: the later ones wait on their timers (make_waiting set them).
    for (auto it = lane.ready.begin(); it != lane.ready.end();)
      it = slots_.at(*it).due_ms > now_ms ? lane.ready.erase(it) : std::next(it);
  }
  activate(li);
}

void SqliteQueue::take_switches(Round& r, int64_t now_ms) {
  for (auto& job : switches_) {
    const EndpointOrdering& o = job->ordering;
    uint32_t li = lane_for(o.endpoint_id, o.tenant_id, o.ordered);
    job->was_ordered = lanes_[li].ordered;
    switch_lane(li, o.ordered, now_ms);
    r.switches.push_back(std::move(job));
  }
  switches_.clear();
}

Status SqliteQueue::write_switches(const Round& r) {
  for (const auto& job : r.switches) {
    const EndpointOrdering& o = job->ordering;
    if (Status st = conn_->run(
            "INSERT INTO orderings (endpoint_id, tenant_id, ordered) VALUES (?1, ?2, ?3)"
            " ON CONFLICT (endpoint_id) DO UPDATE SET tenant_id = excluded.tenant_id,"
            " ordered = excluded.ordered",
            "record an endpoint's ordering", o.endpoint_id, o.tenant_id, o.ordered ? 1 : 0);
        !st)
      return st;
  }
  return {};
}

void SqliteQueue::settle_switches(Round& r, const Status& st, int64_t now_ms) {
  if (st) {
    for (auto& job : r.switches) orderings_[job->ordering.endpoint_id] = job->ordering;
  } else {
    // Newest first, so that two switches of one lane in a round undo to the first's start.
    for (auto it = r.switches.rbegin(); it != r.switches.rend(); ++it)
      switch_lane(lane_ids_.at((*it)->ordering.endpoint_id), (*it)->was_ordered, now_ms);
  }
  for (auto& job : r.switches) {
    job->done = true;
    job->result = st;
  }
}

Status SqliteQueue::recover_orderings() {
  auto st = conn_->query("SELECT endpoint_id, tenant_id, ordered FROM orderings");
  if (!st) return st.error();
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) {
    EndpointOrdering o{(*st)->text(1), (*st)->text(0), (*st)->int32(2) != 0};
    lane_for(o.endpoint_id, o.tenant_id, o.ordered);
    orderings_[o.endpoint_id] = std::move(o);
  }
  if (rc != SQLITE_DONE) return conn_->error(rc, "recover the endpoint orderings");
  st->reset();
  return {};
}

}  // namespace sealhook
