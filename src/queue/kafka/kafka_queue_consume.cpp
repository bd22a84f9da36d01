// The kafka queue's consumer side: the group member's thread (messages, rebalances, commits,
// pausing), reading a partition's state back at assignment, and following the orderings.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <future>
#include <thread>

#include "core/ids.hpp"

#include "queue/kafka/kafka_queue.hpp"

namespace sealhook {

namespace {

using Steady = std::chrono::steady_clock;
constexpr auto kCommitEvery = std::chrono::milliseconds(100);
constexpr auto kProbeEvery = std::chrono::milliseconds(500);  // while no broker answers
constexpr int kBurst = 2000;  // messages taken at once, their first hand-outs marked together

kafka::PartitionList one_partition(const std::string& topic, int32_t partition, int64_t offset) {
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = offset;
  return list;
}

std::string key_of(const rd_kafka_message_t* m) {
  return m->key ? std::string(static_cast<const char*>(m->key), m->key_len) : std::string();
}

std::string_view value_of(const rd_kafka_message_t* m) {
  return m->payload ? std::string_view(static_cast<const char*>(m->payload), m->len)
                    : std::string_view();
}

}  // namespace

void KafkaQueue::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* self = static_cast<KafkaQueue*>(opaque);
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->assign(partitions);
    rd_kafka_assign(rk, partitions);
    return;
  }
  if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    spdlog::warn("kafka: rebalance failed: {}", rd_kafka_err2str(err));
  self->revoke();
  rd_kafka_assign(rk, nullptr);
}

void KafkaQueue::consume_loop() {
  auto last = Steady::now();
  auto probed = last;
  auto handle = [this](rd_kafka_message_t* m) {
    if (!m->err)
      on_message(m);
    else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      spdlog::warn("kafka: consuming: {}", rd_kafka_message_errstr(m));
    rd_kafka_message_destroy(m);
  };
  while (running_) {
    if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer_.get(), 50)) {
      handle(m);
      // What is already fetched, at once: one hand-out mark for all of it.
      for (int n = 1; n < kBurst && (m = rd_kafka_consumer_poll(consumer_.get(), 0)); ++n)
        handle(m);
    }
    write_marks();
    if (offsets_pending_) learn_committed();
    if (!up_ && Steady::now() - probed >= kProbeEvery) {
      probe_brokers();
      probed = Steady::now();
    }
    if (Steady::now() - last >= kCommitEvery) {
      commit(false);
      pause_or_resume();
      rerecord();
      last = Steady::now();
    }
  }
  // Leaving the group revokes the assignment (revoke() commits what is done).
  rd_kafka_consumer_close(consumer_.get());
}

void KafkaQueue::probe_brokers() {
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_metadata(offsets_.get(), 0, nullptr, &md, 500) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(md);
    up_ = true;
    spdlog::info("kafka: a broker answers again");
  }
}

void KafkaQueue::assign(rd_kafka_topic_partition_list_t* partitions) {
  std::map<int32_t, Partition> parts;
  std::map<int32_t, std::unordered_map<std::string, kafka::DeliveryState>> states;
  std::map<int32_t, int64_t> marks;
  std::string names;
  for (int i = 0; i < partitions->cnt; ++i) {
    const int32_t p = partitions->elems[i].partition;
    const int32_t slot = slot_of(partitions->elems[i].topic, p);
    parts.emplace(slot, Partition{});
    if (states.contains(p)) continue;  // its deliveries and retries partitions share it
    auto state = read_state(p, marks[p]);
    if (!state) {
      // Without its state a partition would deliver again what was done past its commit
      // point: duplicates, not losses. Said, and carried on.
      spdlog::warn("kafka: partition {}: its state was not read back: {}", p,
                   state.error().message);
      states[p];
    } else {
      states.emplace(p, std::move(state.value()));
    }
    names += (names.empty() ? "" : ",") + std::to_string(p);
  }
  for (auto& [slot, part] : parts)
    if (!retry_slot(slot)) part.handed_out = marks[slot];
  {
    std::lock_guard lock(parts_mu_);
    drop_partitions();
    partitions_ = std::move(parts);
    states_ = std::move(states);
  }
  // The committed offsets are asked for once the assignment is in place (an offset fetch from
  // inside the rebalance callback can wait for the rebalance it is part of).
  offsets_pending_ = true;
  spdlog::info("kafka: rebalance: partitions [{}] of {} assigned to {}", names, deliveries_topic_,
               options_.owner);
}

void KafkaQueue::learn_committed() {
  offsets_pending_ = false;
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(slots()));
  {
    std::lock_guard lock(parts_mu_);
    for (const auto& [slot, part] : partitions_)
      rd_kafka_topic_partition_list_add(list.get(), topic_of(slot).c_str(),
                                        partition_of_slot(slot));
  }
  if (list->cnt == 0) return;
  if (auto e = rd_kafka_committed(offsets_.get(), list.get(),
                                  static_cast<int>(options_.timeout.count()));
      e) {
    spdlog::warn("kafka: reading the committed offsets: {}", rd_kafka_err2str(e));
    offsets_pending_ = true;  // asked again on the next tick
    return;
  }
  std::vector<std::pair<int32_t, std::string>> stale;
  {
    std::lock_guard lock(parts_mu_);
    std::map<int32_t, int64_t> committed;
    for (int i = 0; i < list->cnt; ++i) {
      const auto& tp = list->elems[i];
      const int32_t slot = slot_of(tp.topic, tp.partition);
      auto it = partitions_.find(slot);
      if (it == partitions_.end() || tp.offset < 0) continue;
      Partition& part = it->second;
      part.committed = tp.offset;
      committed[slot] = tp.offset;
      if (part.next < 0) part.next = tp.offset;
    }
    auto passed = [&](int32_t slot, int64_t offset) {
      auto c = committed.find(slot);
      return c != committed.end() && offset < c->second;
    };
    // Left from before the commit points (the tombstone was not written): written now. A
    // retried copy's goes once both it and its original are passed.
    for (auto& [p, state] : states_)
      for (auto s = state.begin(); s != state.end();) {
        const kafka::DeliveryState& st = s->second;
        const bool gone = st.retried
                              ? passed(options_.partitions + p, st.offset) && passed(p, st.origin)
                              : passed(p, st.offset);
        if (gone) {
          stale.emplace_back(p, s->first);
          s = state.erase(s);
        } else {
          ++s;
        }
      }
  }
  for (const auto& [p, id] : stale) produce(state_topic_, p, id, nullptr, nullptr);
}

void KafkaQueue::drop_partitions() {
  for (const auto& [p, part] : partitions_) unrecorded_ -= static_cast<int>(part.recording.size());
  partitions_.clear();
  states_.clear();
  copies_in_flight_ = 0;
  failed_at_.clear();
  for (const auto& [id, k] : known_)
    for (const auto& m : {k.move, k.arriving})
      if (m) end_move(m);
  known_.clear();
}

void KafkaQueue::revoke() {
  // Retries being moved finish first (their originals are then done and committed past), so
  // that the new owner does not deliver them again before their time.
  await_moves(options_.timeout, true);
  commit(true);
  hand_back();
  std::vector<int32_t> had = assigned();
  {
    std::unique_lock lock(epoch_mu_);
    epoch_++;
    inner_ = fresh_inner();
  }
  {
    std::lock_guard lock(parts_mu_);
    drop_partitions();
  }
  if (!had.empty())
    spdlog::info("kafka: rebalance: {} partitions revoked from {}; its leases are lost", had.size(),
                 options_.owner);
}

void KafkaQueue::on_message(const rd_kafka_message_t* m) {
  const int32_t slot = slot_of(rd_kafka_topic_name(m->rkt), m->partition);
  const int64_t offset = m->offset;
  auto decoded = kafka::decode_delivery(value_of(m));
  uint64_t epoch = 0;
  {
    std::shared_lock lock(epoch_mu_);
    epoch = epoch_;
  }
  std::unique_lock lock(parts_mu_);
  auto it = partitions_.find(slot);
  if (it == partitions_.end()) return;
  Partition& part = it->second;
  part.next = offset + 1;
  if (!decoded) {
    spdlog::error("kafka: {} partition {} offset {}: not a delivery record; skipped",
                  topic_of(slot), m->partition, offset);
    part.entries[offset] = Entry{"", true};
    return;
  }
  auto d = std::make_shared<QueuedDelivery>(std::move(*decoded));
  int next = 0;
  int64_t origin = -1;
  bool by_mark = false;
  if (!take(slot, offset, d, next, origin, by_mark)) return;
  if (auto m = spill(slot, offset, d, next, epoch)) {
    lock.unlock();
    copy_out(m);
    return;
  }
  // The attempt about to be made is recorded before the delivery can be leased.
  const kafka::DeliveryState handout = admit(slot, offset, d, next, origin, by_mark);
  if (by_mark) {
    part.marked = offset;  // recorded by the next mark (write_marks())
    return;
  }
  lock.unlock();  // a write refused at once is answered inside record()
  record(slot, epoch, *d, handout);
}

bool KafkaQueue::take(int32_t slot, int64_t offset, const std::shared_ptr<QueuedDelivery>& d,
                      int& next, int64_t& origin, bool& by_mark) {
  Partition& part = partitions_[slot];
  const bool retried = retry_slot(slot);
  auto skip = [&](bool moved, int64_t from) {
    Entry e{d->id, true};
    e.moved = moved;
    e.origin = from;
    part.entries[offset] = std::move(e);
    return false;
  };
  if (retried)
    if (auto k = known_.find(d->id); k != known_.end()) {
      // A copy this process moved here.
      Known& kn = k->second;
      if (kn.move && (kn.move->copy < 0 || kn.move->copy == offset)) {
        // Consumed before its move was recorded: admitted once it is (on_move_recorded()).
        if (kn.parked) mark_moved(slot, kn.parked_at);  // a stray copy before it
        Entry e{d->id, false};
        e.origin = kn.move->origin;
        hold(part, e, d->endpoint_id);
        part.entries[offset] = std::move(e);
        kn.parked = d;
        kn.parked_at = offset;
        return false;
      }
      if (kn.move || kn.slot != slot || kn.offset != offset) return skip(true, -1);
      next = kn.recorded;
      origin = kn.origin;
      return true;
    }
  const kafka::DeliveryState* st = nullptr;
  if (auto ps = states_.find(partition_of_slot(slot)); ps != states_.end())
    if (auto s = ps->second.find(d->id); s != ps->second.end()) st = &s->second;
  // The live copy is the one its state names; a retried copy has a state, or is long done.
  if (retried ? st == nullptr || !st->names(true, offset)
              : st != nullptr && !st->names(false, offset))
    return skip(true, -1);
  if (st != nullptr && st->done()) return skip(false, st->origin);
  // No state of its own: handed out once if the partition's mark covers it, else never.
  const bool covered = st == nullptr && offset <= part.handed_out;
  by_mark = st == nullptr && !covered && !retried;
  const int recorded =
      std::max(d->prior_attempts + (covered ? 1 : 0), st != nullptr ? st->attempt : 0);
  // A retry's record names the attempt it waits to make (and its time); a hand-out's the
  // attempt made.
  const bool waiting = st != nullptr && st->kind == kafka::DeliveryState::Kind::kRetry;
  if (waiting) d->not_before_ms = std::max(d->not_before_ms, st->at_ms);
  next = waiting ? recorded : recorded + 1;
  origin = st != nullptr ? st->origin : -1;
  return true;
}

kafka::DeliveryState KafkaQueue::admit(int32_t slot, int64_t offset,
                                       const std::shared_ptr<QueuedDelivery>& d, int next,
                                       int64_t origin, bool by_mark) {
  Partition& part = partitions_[slot];
  auto [e, fresh] = part.entries.try_emplace(offset, Entry{d->id, true});
  e->second.origin = origin;
  e->second.unstated = by_mark;
  if (fresh) hold(part, e->second, d->endpoint_id);
  Known k;
  k.slot = slot;
  k.offset = offset;
  k.origin = origin;
  k.recorded = next;
  k.base = next - 1 - d->prior_attempts;
  const kafka::DeliveryState handout = state_at(k, kafka::DeliveryState::Kind::kHandout, next);
  // An ordered lane's order is its deliveries partition's: a retried copy keeps its place.
  d->order = static_cast<uint64_t>(origin >= 0 ? origin : offset) + 1;
  auto [kn, fresh_id] = known_.try_emplace(d->id);
  if (!fresh_id) k.arriving = std::move(kn->second.arriving);  // a moved retry, back
  kn->second = std::move(k);
  part.recording.add(offset, d, handout, by_mark);
  unrecorded_++;
  return handout;
}

void KafkaQueue::record(int32_t slot, uint64_t epoch, const QueuedDelivery& d,
                        const kafka::DeliveryState& state) {
  write_state(partition_of_slot(slot), d.id, state,
              [this, slot, epoch, offset = state.offset](Status written) {
                on_recorded(slot, epoch, offset, written);
              });
}

void KafkaQueue::on_recorded(int32_t slot, uint64_t epoch, int64_t offset, const Status& written) {
  leasable(slot, epoch, [&](kafka::HandoutLine& line) {
    if (!written)
      spdlog::warn(
          "kafka: {} partition {} offset {}: its hand-out was not recorded ({}); written "
          "again",
          topic_of(slot), partition_of_slot(slot), offset, written.error().message);
    return line.answer(offset, bool(written));
  });
}

void KafkaQueue::leasable(
    int32_t slot, uint64_t epoch,
    const std::function<std::vector<QueuedDelivery>(kafka::HandoutLine&)>& answer) {
  std::shared_lock elock(epoch_mu_);
  if (epoch != epoch_) return;  // revoked meanwhile: the new owner has it
  std::lock_guard lock(parts_mu_);
  auto it = partitions_.find(slot);
  if (it == partitions_.end()) return;
  auto ready = answer(it->second.recording);
  unrecorded_ -= static_cast<int>(ready.size());
  for (const auto& d : ready)
    if (auto k = known_.find(d.id); k != known_.end() && k->second.arriving) {
      end_move(k->second.arriving);  // a moved retry is back in its lane
      k->second.arriving.reset();
    }
  // Pushed under parts_mu_: the partition's next answer goes after these.
  if (!ready.empty()) (void)inner_->push(std::move(ready));
}

void KafkaQueue::rerecord() {
  uint64_t epoch = 0;
  {
    std::shared_lock lock(epoch_mu_);
    epoch = epoch_;
  }
  std::vector<std::pair<int32_t, kafka::HandoutLine::Item>> again;
  {
    std::lock_guard lock(parts_mu_);
    for (auto& [p, part] : partitions_)
      for (auto& item : part.recording.rewrite()) {
        if (auto k = known_.find(item.delivery->id); k != known_.end()) stated(k->second);
        again.emplace_back(p, std::move(item));
      }
  }
  for (const auto& [p, item] : again) record(p, epoch, *item.delivery, item.state);
}

void KafkaQueue::write_marks() {
  uint64_t epoch = 0;
  {
    std::shared_lock lock(epoch_mu_);
    epoch = epoch_;
  }
  std::vector<std::pair<int32_t, int64_t>> marks;
  {
    std::lock_guard lock(parts_mu_);
    for (auto& [slot, part] : partitions_)
      if (part.marked > part.mark_sent) {
        part.mark_sent = part.marked;
        marks.emplace_back(slot, part.marked);
      }
  }
  const std::string key(kafka::kHandoutMarkKey);
  for (const auto& mark : marks) {
    const int32_t slot = mark.first;  // named (clang captures no structured binding)
    const int64_t through = mark.second;
    auto w = std::make_shared<Waiter>();
    w->left = 1;
    w->done = [this, slot, epoch, through](Status st) { on_marked(slot, epoch, through, st); };
    const std::string value = kafka::encode_handout_mark(through);
    produce(state_topic_, partition_of_slot(slot), key, &value, w);
  }
}

void KafkaQueue::on_marked(int32_t slot, uint64_t epoch, int64_t through, const Status& written) {
  leasable(slot, epoch, [&](kafka::HandoutLine& line) {
    if (!written)
      spdlog::warn(
          "kafka: {} partition {}: the hand-out mark through {} was not written ({}); "
          "each is written again on its own",
          topic_of(slot), partition_of_slot(slot), through, written.error().message);
    return line.answer_marked(through, bool(written));
  });
}

void KafkaQueue::hand_back() {
  std::vector<std::tuple<int32_t, std::string, kafka::DeliveryState>> handouts;
  std::vector<std::pair<int32_t, int64_t>> marks;
  {
    std::lock_guard lock(parts_mu_);
    if (partitions_.empty()) return;
    for (auto& [id, k] : known_) {
      if (retry_slot(k.slot) || !k.leased) continue;
      auto p = partitions_.find(k.slot);
      if (p == partitions_.end()) continue;
      auto e = p->second.entries.find(k.offset);
      if (e == p->second.entries.end() || e->second.done || !e->second.unstated) continue;
      e->second.unstated = false;
      handouts.emplace_back(partition_of_slot(k.slot), id,
                            state_at(k, kafka::DeliveryState::Kind::kHandout, k.recorded));
    }
    for (auto& [slot, part] : partitions_) {
      if (retry_slot(slot) || part.next < 0 || part.mark_sent < 0) continue;
      const int64_t point = part.entries.empty() ? part.next : part.entries.begin()->first;
      marks.emplace_back(slot, point - 1);
    }
  }
  for (const auto& [p, id, st] : handouts) write_state(p, id, st);
  const std::string key(kafka::kHandoutMarkKey);
  for (const auto& [slot, through] : marks) {
    const std::string value = kafka::encode_handout_mark(through);
    produce(state_topic_, partition_of_slot(slot), key, &value, nullptr);
  }
  // Written before the next owner reads them back, with the `A`s of the last commit (bounded: a
  // broker away leaves the old mark, which counts more hand-outs than were made, never fewer).
  flush();
}

bool KafkaQueue::quiesce(std::chrono::milliseconds timeout) {
  const auto deadline = Steady::now() + timeout;
  flush();
  for (; Steady::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    std::vector<std::pair<int32_t, int64_t>> parts;
    {
      std::lock_guard lock(parts_mu_);
      for (const auto& [p, part] : partitions_) parts.emplace_back(p, part.next);
    }
    if (parts.empty() || unrecorded_ > 0 || moving_ > 0) continue;
    bool at_end = true;
    for (const auto& [slot, next] : parts) {
      int64_t low = 0, high = 0;
      if (rd_kafka_query_watermark_offsets(offsets_.get(), topic_of(slot).c_str(),
                                           partition_of_slot(slot), &low, &high,
                                           1000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
          std::max<int64_t>(next, low) < high)
        at_end = false;
    }
    if (at_end && unrecorded_ == 0 && moving_ == 0) {
      flush();
      return true;
    }
  }
  return false;
}

namespace {

// The deliveries a commit passes: their state records go once the broker has the commit.
struct Passed {
  KafkaQueue* queue;
  std::vector<std::pair<int32_t, std::string>> ids;
};

// An `A` due at a commit tick: a delivery acked past its partition's commit point.
struct AckDue {
  int32_t partition;
  std::string id;
  kafka::DeliveryState state;
};

}  // namespace

void KafkaQueue::commit(bool sync) {
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(4));
  auto passed = std::make_unique<Passed>(Passed{this, {}});
  std::vector<AckDue> acks;
  const auto acked_by = Steady::now() - options_.ack_record_after;
  {
    std::lock_guard lock(parts_mu_);
    // The deliveries slots first (a retried copy's state goes only once its original's
    // partition is passed too).
    for (auto& [slot, part] : partitions_) {
      const int32_t p = partition_of_slot(slot);
      auto& entries = part.entries;
      while (!entries.empty() && entries.begin()->second.done) {
        const Entry& e = entries.begin()->second;
        if (e.ack_due) part.acks_due--;  // passed: nobody reads it again, no `A` needed
        if (!e.id.empty() && state_goes(slot, e)) {
          passed->ids.emplace_back(p, e.id);
          if (auto st = states_.find(p); st != states_.end()) st->second.erase(e.id);
        }
        entries.erase(entries.begin());
      }
      const int64_t point = entries.empty() ? part.next : entries.begin()->first;
      // Acked past the point a while: a new owner reading from the point must find them done.
      for (auto e = entries.begin(); part.acks_due > 0 && e != entries.end(); ++e) {
        if (!e->second.ack_due || (!sync && e->second.acked_at > acked_by)) continue;
        kafka::DeliveryState a{kafka::DeliveryState::Kind::kAcked, 0, 0, e->first};
        a.retried = retry_slot(slot);
        a.origin = a.retried ? e->second.origin : -1;
        acks.push_back(AckDue{p, e->second.id, a});
        e->second.ack_due = false;
        e->second.unstated = false;
        part.acks_due--;
      }
      for (auto d = part.drop_at.begin(); d != part.drop_at.end() && d->first < point;) {
        passed->ids.emplace_back(p, d->second);
        if (auto st = states_.find(p); st != states_.end()) st->second.erase(d->second);
        d = part.drop_at.erase(d);
      }
      const size_t done_past = entries.size() - part.held;  // the rest are done
      if (point >= 0 && (point > part.committed || done_past != part.done_past)) {
        auto* tp = rd_kafka_topic_partition_list_add(list.get(), topic_of(slot).c_str(), p);
        tp->offset = point;
        // How many are done past the point, for every process's depth (refresh_depth()).
        std::string meta = "d=" + std::to_string(done_past);
        tp->metadata = rd_kafka_mem_malloc(nullptr, meta.size());
        memcpy(tp->metadata, meta.data(), meta.size());
        tp->metadata_size = meta.size();
        part.committed = point;
        part.done_past = done_past;
      }
    }
  }
  for (const AckDue& a : acks) write_state(a.partition, a.id, a.state);
  if (list->cnt == 0) {
    for (const auto& [p, id] : passed->ids) produce(state_topic_, p, id, nullptr, nullptr);
    return;
  }
  // When `sync`, answered here, once: rd_kafka_commit() returns the broker's answer. (A sync
  // rd_kafka_commit_queue() both runs the callback and returns its error: answering that error
  // again used `passed` after the callback freed it: serve aborted when a revoke's commit
  // failed.)
  if (sync) {
    const auto e = rd_kafka_commit(consumer_.get(), list.get(), 0);
    on_committed(consumer_.get(), e, list.get(), passed.release());
    return;
  }
  // Answered on the consumer's queue (served by this thread's polls).
  auto e = rd_kafka_commit_queue(consumer_.get(), list.get(), consumer_queue_,
                                 &KafkaQueue::on_committed, passed.get());
  if (!e) {
    passed.release();  // the callback owns it
    return;
  }
  on_committed(consumer_.get(), e, list.get(), passed.release());
}

bool KafkaQueue::state_goes(int32_t slot, const Entry& e) {
  if (!retry_slot(slot)) {
    if (e.moved) return e.drop_state;  // the move wrote a state naming the copy
    return !e.unstated;                // none written: nothing to tombstone
  }
  if (e.moved) return false;  // it lives on elsewhere (or was never the live copy)
  // A copy that finished here: its state goes once its original is passed too (a new owner
  // reading the original again must find it done).
  const int32_t p = partition_of_slot(slot);
  auto d = partitions_.find(p);
  if (d == partitions_.end()) return true;  // not owned: nothing of it reads it again here
  Partition& part = d->second;
  if (e.origin < 0 || e.origin < part.committed) return true;
  if (auto o = part.entries.find(e.origin); o != part.entries.end()) {
    o->second.drop_state = true;
  } else {
    part.drop_at.emplace(e.origin, e.id);
  }
  return false;
}

void KafkaQueue::on_committed(rd_kafka_t*, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  std::unique_ptr<Passed> passed(static_cast<Passed*>(opaque));
  KafkaQueue& q = *passed->queue;
  if (err) {
    spdlog::warn("kafka: committing offsets: {}", rd_kafka_err2str(err));
    // Committed again on the next tick; the state records stay: a new owner needs them.
    std::lock_guard lock(q.parts_mu_);
    for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i)
      if (auto it =
              q.partitions_.find(q.slot_of(offsets->elems[i].topic, offsets->elems[i].partition));
          it != q.partitions_.end())
        it->second.committed = -1;
    return;
  }
  // Past the commit point nobody reads them again: their state goes (compaction drops it).
  for (const auto& [p, id] : passed->ids) q.produce(q.state_topic_, p, id, nullptr, nullptr);
}

void KafkaQueue::refresh_depth(std::chrono::milliseconds fresh) const {
  std::lock_guard one(refresh_mu_);
  {
    std::lock_guard lock(depth_mu_);
    if (Steady::now() - refreshed_ < fresh) return;
  }
  // Two short requests; none while no broker answers (the last figures stand meanwhile).
  if (!up_) return;
  const int timeout = static_cast<int>(std::min<int64_t>(options_.timeout.count(), 1000));
  kafka::PartitionList ends(rd_kafka_topic_partition_list_new(slots()));
  kafka::PartitionList committed(rd_kafka_topic_partition_list_new(slots()));
  std::vector<int32_t> owned = assigned();
  for (int32_t slot = 0; slot < slots(); ++slot) {
    const int32_t p = partition_of_slot(slot);
    rd_kafka_topic_partition_list_add(ends.get(), topic_of(slot).c_str(), p)->offset =
        RD_KAFKA_OFFSET_END;  // as a timestamp: "latest", the end offset
    if (std::find(owned.begin(), owned.end(), p) == owned.end())
      rd_kafka_topic_partition_list_add(committed.get(), topic_of(slot).c_str(), p);
  }
  if (rd_kafka_offsets_for_times(offsets_.get(), ends.get(), timeout)) return;
  if (committed->cnt > 0 && rd_kafka_committed(offsets_.get(), committed.get(), timeout)) return;
  std::map<int32_t, int64_t> end_of;
  for (int i = 0; i < ends->cnt; ++i)
    if (!ends->elems[i].err)
      end_of[slot_of(ends->elems[i].topic, ends->elems[i].partition)] = ends->elems[i].offset;
  size_t depth = 0;
  for (int i = 0; i < committed->cnt; ++i) {
    const auto& tp = committed->elems[i];
    int64_t done = 0;
    std::string_view meta(static_cast<const char*>(tp.metadata), tp.metadata_size);
    if (meta.starts_with("d=")) std::from_chars(meta.data() + 2, meta.data() + meta.size(), done);
    const int64_t n =
        end_of[slot_of(tp.topic, tp.partition)] - std::max<int64_t>(tp.offset, 0) - done;
    if (n > 0) depth += static_cast<size_t>(n);
  }
  std::lock_guard lock(depth_mu_);
  depth_elsewhere_ = depth;
  ends_ = std::move(end_of);
  refreshed_ = Steady::now();
}

void KafkaQueue::pause_or_resume() {
  kafka::PartitionList pause(rd_kafka_topic_partition_list_new(1));
  kafka::PartitionList resume(rd_kafka_topic_partition_list_new(1));
  {
    std::lock_guard lock(parts_mu_);
    for (auto& [slot, part] : partitions_) {
      const char* topic = topic_of(slot).c_str();
      // What a failing unordered endpoint of a deliveries partition holds does not count: it
      // stopped growing (what it is sent now spills, spill()), and it drains at the pace of
      // its timeouts; counted, it would keep the partition paused for the healthy ones.
      size_t held = part.held;
      if (!retry_slot(slot))
        for (const auto& [ep, n] : part.per_endpoint)
          if (failing(ep)) held -= std::min(held, n);
      if (!part.paused && held >= options_.held_per_partition) {
        rd_kafka_topic_partition_list_add(pause.get(), topic, partition_of_slot(slot));
        part.paused = true;
      } else if (part.paused && held < options_.held_per_partition / 2) {
        rd_kafka_topic_partition_list_add(resume.get(), topic, partition_of_slot(slot));
        part.paused = false;
      }
    }
  }
  if (pause->cnt > 0) rd_kafka_pause_partitions(consumer_.get(), pause.get());
  if (resume->cnt > 0) rd_kafka_resume_partitions(consumer_.get(), resume.get());
}

Result<std::unordered_map<std::string, kafka::DeliveryState>> KafkaQueue::read_state(
    int32_t partition, int64_t& handed_out) {
  std::unordered_map<std::string, kafka::DeliveryState> out;
  handed_out = -1;
  int64_t low = 0, high = 0;
  if (Status st = kafka::query_watermarks(state_reader_.get(), state_topic_, partition, low, high,
                                          options_.timeout);
      !st)
    return st.error();
  if (high <= low) return out;
  auto list = one_partition(state_topic_, partition, RD_KAFKA_OFFSET_BEGINNING);
  if (auto e = rd_kafka_assign(state_reader_.get(), list.get()); e)
    return kafka::kafka_error(e, "reading the state back");
  const auto deadline = Steady::now() + options_.timeout;
  bool done = false;
  while (!done && Steady::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(state_reader_.get(), 100);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      done = true;
    } else if (!m->err) {
      const std::string id = key_of(m);
      if (id == kafka::kHandoutMarkKey) {
        if (auto through = kafka::decode_handout_mark(value_of(m))) handed_out = *through;
      } else if (m->payload == nullptr) {
        out.erase(id);
      } else if (auto s = kafka::decode_state(value_of(m))) {
        out[id] = *s;
      }
      done = m->offset + 1 >= high;
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_assign(state_reader_.get(), nullptr);
  if (!done)
    return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                      "kafka: reading the state back timed out");
  return out;
}

Status KafkaQueue::read_orderings() {
  rd_kafka_t* reader = orderings_reader_.get();
  int64_t low = 0, high = 0;
  if (Status st = kafka::query_watermarks(reader, orderings_topic_, 0, low, high, options_.timeout);
      !st)
    return st;
  auto list = one_partition(orderings_topic_, 0, RD_KAFKA_OFFSET_BEGINNING);
  if (auto e = rd_kafka_assign(reader, list.get()); e)
    return kafka::kafka_error(e, "reading the orderings");
  if (high <= low) return {};
  const auto deadline = Steady::now() + options_.timeout;
  while (Steady::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(reader, 100);
    if (m == nullptr) continue;
    bool end = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
    if (!m->err) {
      on_orderings_record(m);
      end = m->offset + 1 >= high;
    }
    rd_kafka_message_destroy(m);
    if (end) return {};
  }
  return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                    "kafka: reading the orderings timed out");
}

void KafkaQueue::follow_orderings() {
  while (running_) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(orderings_reader_.get(), 100);
    if (m == nullptr) continue;
    if (!m->err) on_orderings_record(m);
    rd_kafka_message_destroy(m);
  }
}

namespace {
constexpr std::string_view kGenerationKey = "generation/";
}  // namespace

void KafkaQueue::on_orderings_record(const rd_kafka_message_t* m) {
  const std::string key = key_of(m);
  if (!key.starts_with(kGenerationKey)) {
    if (auto o = kafka::decode_ordering(key, value_of(m))) apply_ordering(*o, m->offset);
    return;
  }
  {
    std::lock_guard lock(modes_mu_);
    if (generation_.empty()) generation_ = key.substr(kGenerationKey.size());
  }
  modes_cv_.notify_all();
}

Status KafkaQueue::make_generation() {
  {
    std::lock_guard lock(modes_mu_);
    if (!generation_.empty()) return {};
  }
  // Each writer's under a key of its own (compaction keeps them all): two processes starting
  // on new topics at once both read the first one back.
  const std::string key =
      std::string(kGenerationKey) + std::to_string(clock_.now_ms()) + "-" + random_token("", 9);
  auto promise = std::make_shared<std::promise<Status>>();
  auto answer = promise->get_future();
  auto w = std::make_shared<Waiter>();
  w->left = 1;
  w->done = [promise](Status st) { promise->set_value(std::move(st)); };
  const std::string value = "g";
  produce(orderings_topic_, 0, key, &value, w);
  if (Status st = answer.get(); !st) return st;
  std::unique_lock lock(modes_mu_);
  if (!modes_cv_.wait_for(lock, options_.timeout, [&] { return !generation_.empty(); }))
    return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                      "kafka: the queue's generation was written but not read back in time");
  return {};
}

std::optional<std::string> KafkaQueue::generation() const {
  std::lock_guard lock(modes_mu_);
  return generation_;
}

}  // namespace sealhook
