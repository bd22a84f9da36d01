// SqliteQueue: one round's transaction, and making its outcome visible.
#include <spdlog/spdlog.h>

#include <unordered_map>

#include "queue/sqlite/sqlite_queue.hpp"
#include "queue/sqlite/sqlite_queue_round.hpp"
#include "store/sqlite/connection.hpp"

namespace sealhook {

Status SqliteQueue::write(Round& r) {
  if (r.jobs.empty() && r.ops.empty() && r.arms.empty() && r.switches.empty()) return {};
  auto tx = sqlite::Transaction::begin(*conn_);
  if (!tx) return tx.error();
  for (const auto& job : r.jobs) {
    for (int64_t i : job->new_bodies) {
      const auto& d = job->deliveries[static_cast<size_t>(i)];
      auto st = conn_->query("INSERT INTO bodies (id, body) VALUES (?1, ?2)",
                             job->slots[static_cast<size_t>(i)].body_id);
      if (!st) return st.error();
      int rc = (*st)->bind_blob(2, *d.body).step();
      if (rc != SQLITE_DONE) return conn_->error(rc, "queue a body");
    }
    for (size_t i = 0; i < job->slots.size(); ++i) {
      const Slot& s = job->slots[i];
      const QueuedDelivery& d = job->deliveries[i];
      if (Status st = conn_->run(
              "INSERT INTO deliveries (seq, id, tenant_id, endpoint_id, event_id, event_type,"
              " body_id, ordered, prior_attempts, handouts, due_ms, published_at_ms, body_bytes,"
              " traceparent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
              "queue a delivery", s.seq, d.id, d.tenant_id, d.endpoint_id, d.event_id, d.event_type,
              s.body_id, d.ordered ? 1 : 0, d.prior_attempts, s.handouts, s.due_ms,
              d.published_at_ms, static_cast<int64_t>(d.body->size()), d.traceparent);
          !st)
        return st;
    }
  }
  if (Status st = write_switches(r); !st) return st;
  // Settled deliveries (and the bodies they were the last to use) go in one statement each
  // per round, their keys as a JSON array: a settle is then a row's b-tree work, not a
  // statement's. A delivery rescheduled and settled in one round ends deleted either way.
  std::string settled = "[", dropped = "[";
  for (const Op& op : r.ops) {
    if (op.kind == Op::kDue) {
      if (Status st = conn_->run("UPDATE deliveries SET due_ms = ?2 WHERE seq = ?1", "reschedule",
                                 op.seq, op.value);
          !st)
        return st;
      continue;
    }
    if (op.kind == Op::kDefer) {
      if (Status st = conn_->run("UPDATE deliveries SET due_ms = ?2, handouts = ?3 WHERE seq = ?1",
                                 "defer", op.seq, op.value, op.handouts);
          !st)
        return st;
      continue;
    }
    settled += (settled.size() > 1 ? "," : "") + std::to_string(op.seq);
    if (op.value != 0) dropped += (dropped.size() > 1 ? "," : "") + std::to_string(op.value);
  }
  if (settled.size() > 1) {
    if (Status st =
            conn_->run("DELETE FROM deliveries WHERE seq IN (SELECT value FROM json_each(?1))",
                       "settle deliveries", settled + "]");
        !st)
      return st;
  }
  if (dropped.size() > 1) {
    if (Status st = conn_->run("DELETE FROM bodies WHERE id IN (SELECT value FROM json_each(?1))",
                               "drop bodies", dropped + "]");
        !st)
      return st;
  }
  // Bodies read in this round, shared by the deliveries that share them.
  std::unordered_map<int64_t, std::shared_ptr<const std::string>> bodies;
  for (auto& a : r.arms) {
    if (Status st = conn_->run("UPDATE deliveries SET handouts = ?2 WHERE seq = ?1",
                               "count a hand-out", a.seq, a.handouts);
        !st)
      return st;
    if (!a.load) continue;
    auto st = conn_->query(
        "SELECT d.id, d.tenant_id, d.endpoint_id, d.event_id, d.event_type, d.ordered,"
        " d.prior_attempts, d.due_ms, d.published_at_ms, d.body_id, b.body, d.traceparent"
        " FROM deliveries d JOIN bodies b ON b.id = d.body_id WHERE d.seq = ?1",
        a.seq);
    if (!st) return st.error();
    int rc = (*st)->step();
    if (rc != SQLITE_ROW)
      return conn_->error(rc == SQLITE_DONE ? SQLITE_CORRUPT : rc, "load a delivery");
    const auto& row = **st;
    auto d = std::make_shared<QueuedDelivery>();
    d->id = row.text(0);
    d->tenant_id = row.text(1);
    d->endpoint_id = row.text(2);
    d->event_id = row.text(3);
    d->event_type = row.text(4);
    d->ordered = row.int32(5) != 0;
    d->prior_attempts = row.int32(6);
    d->not_before_ms = row.int64(7);
    d->published_at_ms = row.int64(8);
    auto& body = bodies[row.int64(9)];
    if (!body) body = std::make_shared<const std::string>(row.blob(10));
    d->body = body;
    d->traceparent = row.text(11);
    a.data = std::move(d);
  }
  return tx->commit();
}

// Under the lock, after write(): on success the new rows become slots and the armed ones can be
// leased; on failure every push of the round fails (nothing of it was kept), the arms go back
// to waiting and the settles are tried again next round.
void SqliteQueue::apply(Round& r, const Status& st) {
  const int64_t now = clock_.now_ms();
  if (!st) {
    spdlog::error("queue: a commit failed ({} pushes, {} settles): {}", r.jobs.size(), r.ops.size(),
                  st.error().message);
    last_write_ = st;
    for (auto& job : r.jobs) {
      for (Slot& s : job->slots)
        if (s.state == State::kArming) unreserve(s.lane);
      for (Slot& s : job->slots) activate(s.lane);
      pending_push_ -= job->slots.size();
      pending_bytes_ -= job->bytes;
      job->done = true;
      job->result = st;
    }
    for (auto& a : r.arms) {
      Slot& s = slots_.at(a.seq);
      unreserve(s.lane);
      make_waiting(s, now);
      activate(s.lane);
    }
    ops_.insert(ops_.begin(), r.ops.begin(), r.ops.end());
    ops_taken_ = r.ops_ticket - r.ops.size();
    settle_switches(r, st, now);  // undone once every slot is back among the waiting
    return;
  }
  last_write_ = Status{};
  for (auto& job : r.jobs) {
    for (size_t i = 0; i < job->slots.size(); ++i) {
      Slot s = std::move(job->slots[i]);
      QueuedDelivery& d = job->deliveries[i];
      BodyRef& ref = body_refs_[s.body_id];
      if (ref.deliveries++ == 0) ref.bytes = d.body->size();
      if (s.state == State::kArming ||
          cached_ + d.body->size() + kSlotDataBytes <= options_.cache_bytes)
        cache(s, std::make_shared<QueuedDelivery>(std::move(d)));
      auto [it, fresh] = slots_.emplace(s.seq, std::move(s));
      Slot& slot = it->second;
      if (slot.state == State::kArming) {
        slot.state = State::kArmed;
        armed_.push_back(slot.seq);
        r.armed_any = true;
      } else {
        make_waiting(slot, now);
      }
    }
    pending_push_ -= job->slots.size();
    pending_bytes_ -= job->bytes;
    bytes_ += job->bytes;
    job->done = true;
    job->result = Status{};
  }
  for (auto& a : r.arms) {
    Slot& s = slots_.at(a.seq);
    s.handouts = a.handouts;
    if (a.data) cache(s, std::move(a.data));
    s.state = State::kArmed;
    armed_.push_back(s.seq);
    r.armed_any = true;
  }
  ops_done_ = r.ops_ticket;
  settle_switches(r, st, now);
}

}  // namespace sealhook
