// The kafka queue's retries topic. An unordered delivery that waits for a retry moves to
// `<prefix>.retries`, in its endpoint's partition (owned by the same member as its deliveries
// partition), so the partition it came from goes on and its commit point passes it:
//  1. the copy (its time in `not_before`) is written to the retries topic;
//  2. then its state, naming the copy (`R attempt at rCOPY:ORIGIN`);
//  3. only then is the original done (moved: passing it leaves the state alone).
// A process that dies between two steps leaves a state naming the original (delivered again
// from there; the copy is skipped) or naming the copy (the original is skipped). The owner
// consumes its own copies like any record; what it holds of a retries partition is bounded
// like a deliveries partition's. A move that fails leaves the delivery retried in place.
#include <spdlog/spdlog.h>

#include "queue/kafka/kafka_queue.hpp"

namespace sealhook {

bool KafkaQueue::moves(const QueuedDelivery& d) const {
  std::lock_guard lock(modes_mu_);
  auto it = modes_.find(d.endpoint_id);
  return !(it != modes_.end() ? it->second.ordered : d.ordered);
}

void KafkaQueue::end_move(const std::shared_ptr<Move>& m) {
  if (m->ended.exchange(true)) return;
  {
    std::lock_guard lock(moves_mu_);
    moving_--;
  }
  moves_cv_.notify_all();
}

void KafkaQueue::await_moves(std::chrono::milliseconds timeout, bool copied) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (!copied) {
    std::unique_lock lock(moves_mu_);
    moves_cv_.wait_until(lock, deadline, [&] { return moving_ == 0; });
    return;
  }
  // On the consumer thread (a revoke): the producer's answers are served here meanwhile.
  for (;;) {
    bool copying = false;
    {
      std::lock_guard lock(parts_mu_);
      for (const auto& [id, k] : known_) copying = copying || k.move != nullptr;
    }
    if (!copying || std::chrono::steady_clock::now() >= deadline) return;
    rd_kafka_flush(producer_.get(), 50);
  }
}

const std::string* KafkaQueue::finish(int32_t slot, int64_t offset, bool moved) {
  auto p = partitions_.find(slot);
  if (p == partitions_.end()) return nullptr;
  auto e = p->second.entries.find(offset);
  if (e == p->second.entries.end() || e->second.done) return nullptr;
  e->second.moved = moved;
  release(p->second, e->second);
  return &e->second.id;
}

bool KafkaQueue::failing(const std::string& endpoint) {
  constexpr int64_t kFailingFor = 60'000;
  auto f = failed_at_.find(endpoint);
  if (f == failed_at_.end()) return false;
  if (f->second + kFailingFor >= clock_.now_ms()) return true;
  failed_at_.erase(f);
  return false;
}

void KafkaQueue::uncount(const std::shared_ptr<Move>& m) {
  if (!m->counted) return;
  m->counted = false;
  if (copies_in_flight_ > 0) copies_in_flight_--;
}

void KafkaQueue::hold(Partition& part, Entry& e, const std::string& endpoint) {
  e.done = false;
  e.endpoint = endpoint;
  part.held++;
  part.per_endpoint[endpoint]++;
}

void KafkaQueue::release(Partition& part, Entry& e) {
  if (e.done) return;
  e.done = true;
  if (part.held > 0) part.held--;
  if (auto n = part.per_endpoint.find(e.endpoint); n != part.per_endpoint.end() && --n->second == 0)
    part.per_endpoint.erase(n);
  e.endpoint.clear();
}

std::shared_ptr<KafkaQueue::Move> KafkaQueue::spill(int32_t slot, int64_t offset,
                                                    const std::shared_ptr<QueuedDelivery>& d,
                                                    int next, uint64_t epoch) {
  if (retry_slot(slot)) return nullptr;
  Partition& part = partitions_[slot];
  const size_t share = std::max<size_t>(options_.held_per_partition / 4, 1);
  if (auto n = part.per_endpoint.find(d->endpoint_id);
      n == part.per_endpoint.end() || n->second < share)
    return nullptr;
  if (!failing(d->endpoint_id) || !moves(*d))
    return nullptr;  // ordered: waits in its lane (past the bound, paused)
  auto m = std::make_shared<Move>();
  m->epoch = epoch;
  m->delivery = d;
  m->from_slot = slot;
  m->from = offset;
  m->origin = offset;
  m->next = next;
  m->at_ms = d->not_before_ms;
  Entry e{d->id, false};
  hold(part, e, d->endpoint_id);
  part.entries[offset] = std::move(e);
  Known k;
  k.slot = slot;
  k.offset = offset;
  k.recorded = next - 1;
  k.base = next - 1 - d->prior_attempts;
  k.move = m;
  known_[d->id] = std::move(k);
  moving_++;
  return m;
}

void KafkaQueue::start_move(const Lease& lease, const Known& k, int64_t at_ms, int next,
                            uint64_t epoch) {
  auto m = std::make_shared<Move>();
  m->epoch = epoch;
  m->delivery = lease.delivery;
  m->from_slot = k.slot;
  m->from = k.offset;
  m->origin = retry_slot(k.slot) ? k.origin : k.offset;
  m->next = next;
  m->at_ms = at_ms;
  {
    std::shared_lock elock(epoch_mu_);
    if (epoch != epoch_) return;  // revoked meanwhile: the new owner delivers it again
    std::lock_guard lock(parts_mu_);
    auto it = known_.find(lease.delivery->id);
    if (it == known_.end()) return;
    it->second.move = m;
    moving_++;
  }
  copy_out(m);
}

void KafkaQueue::copy_out(const std::shared_ptr<Move>& m) {
  QueuedDelivery copy = *m->delivery;
  copy.not_before_ms = m->at_ms;
  const std::string value = kafka::encode_delivery(copy);
  auto w = std::make_shared<Waiter>();
  w->left = 1;
  Waiter* raw = w.get();  // alive while its answer runs
  w->done = [this, m, raw](Status st) { on_copied(m, st, raw->offset); };
  produce(retries_topic_, partition_of_slot(m->from_slot), copy.endpoint_id, &value, w);
}

void KafkaQueue::on_copied(const std::shared_ptr<Move>& m, const Status& written, int64_t copy) {
  {
    std::shared_lock elock(epoch_mu_);
    if (m->epoch != epoch_) return end_move(m);
    std::lock_guard lock(parts_mu_);
    m->copy = copy;
    if (written) {
      m->counted = true;
      copies_in_flight_++;
    }
  }
  if (!written) {
    spdlog::warn("kafka: a retry was not moved to {} ({}); it waits in place", retries_topic_,
                 written.error().message);
    return stay_in_place(m);
  }
  kafka::DeliveryState s{kafka::DeliveryState::Kind::kRetry, m->next, m->at_ms, copy};
  s.retried = true;
  s.origin = m->origin;
  write_state(partition_of_slot(m->from_slot), m->delivery->id, s,
              [this, m](Status st) { on_move_recorded(m, st); });
}

void KafkaQueue::on_move_recorded(const std::shared_ptr<Move>& m, const Status& written) {
  if (!written) {
    spdlog::warn("kafka: a moved retry's state was not written ({}); it waits in place",
                 written.error().message);
    return stay_in_place(m);
  }
  std::shared_lock elock(epoch_mu_);
  if (m->epoch != epoch_) return end_move(m);
  std::unique_lock lock(parts_mu_);
  uncount(m);
  auto k = known_.find(m->delivery->id);
  if (k == known_.end() || k->second.move != m) return end_move(m);
  // The original is done: it lives on as the copy.
  mark_moved(m->from_slot, m->from);
  Known& kn = k->second;
  const int32_t slot = options_.partitions + partition_of_slot(m->from_slot);
  kn.move.reset();
  kn.slot = slot;
  kn.offset = m->copy;
  kn.origin = m->origin;
  kn.recorded = m->next;
  auto parked = std::move(kn.parked);
  const int64_t parked_at = kn.parked_at;
  kn.parked_at = -1;
  if (parked && parked_at != m->copy) {
    // A stray copy (of a move that failed but landed): done, the live one comes after it.
    mark_moved(slot, parked_at);
    parked.reset();
  }
  kn.arriving = m;      // until it is leasable again (on_recorded())
  if (!parked) return;  // admitted when consumed (take())
  const kafka::DeliveryState handout = admit(slot, m->copy, parked, m->next, m->origin);
  lock.unlock();
  const uint64_t epoch = epoch_;
  elock.unlock();
  record(slot, epoch, *parked, handout);
}

void KafkaQueue::stay_in_place(const std::shared_ptr<Move>& m) {
  std::shared_lock elock(epoch_mu_);
  if (m->epoch != epoch_) return end_move(m);
  kafka::DeliveryState s;
  {
    std::lock_guard lock(parts_mu_);
    uncount(m);
    auto k = known_.find(m->delivery->id);
    if (k == known_.end() || k->second.move != m) return end_move(m);
    Known& kn = k->second;
    kn.move.reset();
    kn.recorded = std::max(kn.recorded, m->next);
    kn.base = m->next - 1 - m->delivery->prior_attempts;  // the next hand-out makes m->next
    stated(kn);
    if (kn.parked) {
      // Its copy, consumed already, is skipped: the state names the original.
      mark_moved(options_.partitions + partition_of_slot(kn.slot), kn.parked_at);
      kn.parked.reset();
      kn.parked_at = -1;
    }
    s = state_at(kn, kafka::DeliveryState::Kind::kRetry, m->next, m->at_ms);
    QueuedDelivery again = *m->delivery;
    again.not_before_ms = m->at_ms;
    (void)inner_->push({std::move(again)});
  }
  end_move(m);
  elock.unlock();
  write_state(partition_of_slot(m->from_slot), m->delivery->id, s);
}

}  // namespace sealhook
