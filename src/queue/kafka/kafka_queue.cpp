#include "queue/kafka/kafka_queue.hpp"

#include <spdlog/spdlog.h>

#include <future>

namespace sealhook {

namespace {

constexpr int kEpochShift = 44;  // a lease token: the epoch above, the inner queue's below
constexpr uint64_t kInnerMask = (uint64_t{1} << kEpochShift) - 1;

Error closed_error() {
  return make_error(ErrorKind::kUnavailable, "queue_closed", "the queue is closed");
}

}  // namespace

KafkaQueue::KafkaQueue(const KafkaQueueOptions& options, const Clock& clock)
    : options_(options),
      clock_(clock),
      deliveries_topic_(options.prefix + ".deliveries"),
      retries_topic_(options.prefix + ".retries"),
      state_topic_(options.prefix + ".state"),
      orderings_topic_(options.prefix + ".orderings"),
      dead_topic_(options.prefix + ".dead") {
  if (options_.group.empty()) options_.group = options_.prefix + ".workers";
  inner_ = fresh_inner();
}

Result<std::unique_ptr<KafkaQueue>> KafkaQueue::open(const KafkaQueueOptions& options,
                                                     const Clock& clock) {
  if (options.brokers.empty())
    return make_error(ErrorKind::kBadRequest, "invalid_queue", "the kafka queue needs brokers");
  if (options.partitions < 1 || options.partitions > 10'000)
    return make_error(ErrorKind::kBadRequest, "invalid_queue",
                      "kafka partitions must be 1 to 10000");
  std::unique_ptr<KafkaQueue> q(new KafkaQueue(options, clock));
  if (Status st = q->start(); !st) return st.error();
  return q;
}

std::shared_ptr<MemoryQueue> KafkaQueue::fresh_inner() {
  QueueOptions o = options_.queue;
  // What the inner queue holds is bounded by the partitions' own bound (paused past it).
  o.capacity = std::numeric_limits<size_t>::max() / 2;
  o.max_bytes = std::numeric_limits<size_t>::max() / 2;
  auto inner = std::make_shared<MemoryQueue>(o, clock_);
  inner->set_ready_listener([this] {
    std::lock_guard lock(listener_mu_);
    if (listener_) listener_();
  });
  std::lock_guard lock(modes_mu_);
  for (const auto& [ep, mode] : modes_) (void)inner->set_ordering(mode);
  return inner;
}

Status KafkaQueue::start() {
  const std::string timeout = std::to_string(options_.timeout.count());
  auto conf = kafka::make_conf({{"bootstrap.servers", options_.brokers},
                                {"client.id", options_.owner},
                                {"enable.idempotence", "true"},
                                {"acks", "all"},
                                {"linger.ms", std::to_string(options_.batch.count())},
                                {"message.timeout.ms", timeout},
                                {"socket.timeout.ms", timeout}});
  if (!conf) return conf.error();
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &KafkaQueue::on_delivery);
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaQueue::on_error);
  rd_kafka_conf_set_opaque(conf->get(), this);
  auto producer = kafka::make_handle(RD_KAFKA_PRODUCER, std::move(conf.value()));
  if (!producer) return producer.error();
  producer_ = std::move(producer.value());

  const std::string retention = std::to_string(options_.retention_ms);
  const kafka::Settings compacted{{"cleanup.policy", "compact"}};
  const kafka::Settings retained{{"cleanup.policy", "delete"}, {"retention.ms", retention}};
  if (Status st = kafka::create_topics(producer_.get(),
                                       {{deliveries_topic_, options_.partitions, retained},
                                        {retries_topic_, options_.partitions, retained},
                                        {state_topic_, options_.partitions, compacted},
                                        {orderings_topic_, 1, compacted},
                                        {dead_topic_, options_.partitions, retained}},
                                       options_.timeout);
      !st)
    return st;
  producer_thread_ = std::thread([this] {
    const Status late = make_error(ErrorKind::kUnavailable, "queue_unavailable",
                                   "kafka: writing to the broker: no answer in time");
    while (running_) {
      rd_kafka_poll(producer_.get(), 100);
      // Pushes past their bound unanswered: answered here (the record may still land).
      for (const auto& a : push_deadlines_.expired(std::chrono::steady_clock::now()))
        std::static_pointer_cast<Waiter>(a)->done(late);
    }
  });

  auto orderings = make_consumer(Role::kReader);
  if (!orderings) return orderings.error();
  orderings_reader_ = std::move(orderings.value());
  if (Status st = read_orderings(); !st) return st;
  orderings_thread_ = std::thread([this] { follow_orderings(); });
  if (Status st = make_generation(); !st) return st;
  if (!options_.consume) return {};
  auto reader = make_consumer(Role::kReader);
  if (!reader) return reader.error();
  state_reader_ = std::move(reader.value());
  auto offsets = make_consumer(Role::kOffsets);
  if (!offsets) return offsets.error();
  offsets_ = std::move(offsets.value());
  auto consumer = make_consumer(Role::kMember);
  if (!consumer) return consumer.error();
  consumer_ = std::move(consumer.value());
  rd_kafka_poll_set_consumer(consumer_.get());
  consumer_queue_ = rd_kafka_queue_get_consumer(consumer_.get());
  // The range assignor gives a member the same partition numbers of both topics.
  kafka::PartitionList topics(rd_kafka_topic_partition_list_new(2));
  rd_kafka_topic_partition_list_add(topics.get(), deliveries_topic_.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_topic_partition_list_add(topics.get(), retries_topic_.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(consumer_.get(), topics.get()); e)
    return kafka::kafka_error(e, "subscribing to " + deliveries_topic_);
  refresh_depth(std::chrono::milliseconds(0));
  consumer_thread_ = std::thread([this] { consume_loop(); });
  return {};
}

Result<kafka::Handle> KafkaQueue::make_consumer(Role role) {
  const bool in_group = role == Role::kMember;
  kafka::Settings s{{"bootstrap.servers", options_.brokers},
                    {"client.id", options_.owner},
                    {"enable.auto.commit", "false"},
                    {"enable.auto.offset.store", "false"},
                    {"auto.offset.reset", "earliest"},
                    {"isolation.level", "read_committed"},
                    {"enable.partition.eof", "true"},
                    {"socket.timeout.ms", std::to_string(options_.timeout.count())}};
  // The readers never join the group (assign() only) and never commit; librdkafka wants a
  // group id for the consumer API all the same.
  s.emplace_back("group.id", role == Role::kReader ? options_.group + ".readers" : options_.group);
  if (in_group) {
    const auto session = options_.session_timeout.count();
    s.insert(s.end(),
             {{"partition.assignment.strategy", "range"},
              {"session.timeout.ms", std::to_string(session)},
              // Heartbeats also carry rebalances: a short interval makes a join or leave take
              // effect fast.
              {"heartbeat.interval.ms", std::to_string(std::clamp<int64_t>(session / 3, 1, 250))},
              {"enable.partition.eof", "false"},
              // A fetch waits this long for more data at most (it holds the connection:
              // commits wait behind it); a full batch ends the wait at once.
              {"fetch.wait.max.ms", std::to_string(std::max<int64_t>(options_.batch.count(), 1))},
              {"fetch.min.bytes", options_.batch.count() > 0 ? "65536" : "1"}});
  }
  auto conf = kafka::make_conf(s);
  if (!conf) return conf.error();
  rd_kafka_conf_set_error_cb(conf->get(), &KafkaQueue::on_error);
  if (in_group) rd_kafka_conf_set_rebalance_cb(conf->get(), &KafkaQueue::on_rebalance);
  rd_kafka_conf_set_opaque(conf->get(), this);
  return kafka::make_handle(RD_KAFKA_CONSUMER, std::move(conf.value()));
}

KafkaQueue::~KafkaQueue() {
  running_ = false;
  if (consumer_thread_.joinable()) consumer_thread_.join();
  if (consumer_queue_ != nullptr) rd_kafka_queue_destroy(consumer_queue_);
  if (orderings_thread_.joinable()) orderings_thread_.join();
  if (producer_) rd_kafka_flush(producer_.get(), static_cast<int>(options_.timeout.count()));
  if (producer_thread_.joinable()) producer_thread_.join();
}

void KafkaQueue::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaQueue*>(opaque);
  // The producer's view decides (publishing is what fails); a reader's late report of an
  // outage already over would refuse publishes the producer could make.
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && rk == self->producer_.get()) self->up_ = false;
  spdlog::warn("kafka: {}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

void KafkaQueue::on_delivery(rd_kafka_t*, const rd_kafka_message_t* msg, void* opaque) {
  auto* self = static_cast<KafkaQueue*>(opaque);
  if (!msg->err) self->up_ = true;
  auto* holder = static_cast<std::shared_ptr<Waiter>*>(msg->_private);
  if (holder == nullptr) {
    if (msg->err)
      spdlog::warn("kafka: a state record was not written: {}", rd_kafka_err2str(msg->err));
    return;
  }
  std::shared_ptr<Waiter> w = std::move(*holder);
  delete holder;
  {
    std::lock_guard lock(w->mu);
    if (msg->err && !w->err) w->err = msg->err;
    if (!msg->err) w->offset = std::max(w->offset, msg->offset);
  }
  if (w->left.fetch_sub(1) == 1 && w->done && w->claim()) {
    Status st;
    if (w->err) st = kafka::kafka_error(w->err, "writing to the broker");
    w->done(st);
  }
}

void KafkaQueue::produce(const std::string& topic, int32_t partition, const std::string& key,
                         const std::string* value, const std::shared_ptr<Waiter>& waiter) {
  auto* holder = waiter ? new std::shared_ptr<Waiter>(waiter) : nullptr;
  rd_kafka_resp_err_t e = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(value ? const_cast<char*>(value->data()) : nullptr,
                       value ? value->size() : 0),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(holder), RD_KAFKA_V_END);
  if (!e) return;
  // Not queued (the local queue is full): counted as failed at once.
  if (holder == nullptr) {
    spdlog::warn("kafka: a state record was not queued: {}", rd_kafka_err2str(e));
    return;
  }
  rd_kafka_message_t fake{};
  fake.err = e;
  fake._private = holder;
  on_delivery(producer_.get(), &fake, this);
}

void KafkaQueue::write_state(int32_t partition, const std::string& id,
                             const kafka::DeliveryState& s, std::function<void(Status)> done) {
  std::shared_ptr<Waiter> w;
  if (done) {
    w = std::make_shared<Waiter>();
    w->left = 1;
    w->done = std::move(done);
  }
  const std::string value = kafka::encode_state(s);
  produce(state_topic_, partition, id, &value, w);
}

void KafkaQueue::push_async(std::vector<QueuedDelivery>&& batch, std::function<void(Status)> done) {
  if (closed_) return done(closed_error());
  // While no broker answers, at once rather than after --kafka-timeout-ms (probe_brokers()
  // notices when one does again).
  if (!up_)
    return done(
        make_error(ErrorKind::kUnavailable, "queue_unavailable", "kafka: no broker is reachable"));
  if (batch.empty()) return done({});
  auto w = std::make_shared<Waiter>();
  w->left = static_cast<int>(batch.size());
  w->done = std::move(done);
  push_deadlines_.add(w, std::chrono::steady_clock::now() + options_.timeout);
  for (const auto& d : batch) {
    const std::string value = kafka::encode_delivery(d);
    produce(deliveries_topic_, kafka::partition_of(d.endpoint_id, options_.partitions),
            d.endpoint_id, &value, w);
  }
}

Status KafkaQueue::push(std::vector<QueuedDelivery>&& batch) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto answer = promise->get_future();
  push_async(std::move(batch), [promise](Status st) { promise->set_value(std::move(st)); });
  return answer.get();
}

void KafkaQueue::flush() {
  rd_kafka_flush(producer_.get(), static_cast<int>(options_.timeout.count()));
}

std::vector<Lease> KafkaQueue::lease(int64_t now_ms, size_t max, int64_t lease_ms) {
  std::shared_lock lock(epoch_mu_);
  std::vector<Lease> out = inner_->lease(now_ms, max, lease_ms);
  std::lock_guard parts(parts_mu_);
  for (Lease& l : out) {
    l.token |= epoch_ << kEpochShift;
    auto k = known_.find(l.delivery->id);
    if (k == known_.end()) continue;
    l.handouts += k->second.base;  // the previous owners' hand-outs of this round
    k->second.leased = true;
    // A lease that expired in this process is handed out again without a record of its own:
    // record it now (the first hand-out and every retry were recorded before).
    if (l.attempt() > k->second.recorded) {
      k->second.recorded = l.attempt();
      stated(k->second);
      write_state(partition_of_slot(k->second.slot), l.delivery->id,
                  state_at(k->second, kafka::DeliveryState::Kind::kHandout, l.attempt()));
    }
  }
  return out;
}

Status KafkaQueue::settle(const Lease& lease,
                          const std::function<Status(MemoryQueue&, const Lease&)>& op,
                          const std::function<void(const Known&)>& then) {
  std::shared_lock lock(epoch_mu_);
  if ((lease.token >> kEpochShift) != epoch_) return lease_lost();
  Lease inner = lease;
  inner.token &= kInnerMask;
  if (Status st = op(*inner_, inner); !st) return st;
  if (!then) return {};
  Known k;
  {
    std::lock_guard parts(parts_mu_);
    auto it = known_.find(lease.delivery->id);
    if (it == known_.end()) return {};
    k = it->second;
  }
  then(k);
  return {};
}

Status KafkaQueue::ack(const Lease& lease) {
  return settle(
      lease, [](MemoryQueue& q, const Lease& l) { return q.ack(l); },
      [&](const Known& k) { mark_done(k.slot, k.offset, true); });
}

Status KafkaQueue::dead(const Lease& lease) {
  return settle(
      lease, [](MemoryQueue& q, const Lease& l) { return q.dead(l); },
      [&](const Known& k) {
        const std::string letter = kafka::encode_delivery(*lease.delivery);
        produce(dead_topic_, partition_of_slot(k.slot), lease.delivery->endpoint_id, &letter,
                nullptr);
        write_state(partition_of_slot(k.slot), lease.delivery->id,
                    state_at(k, kafka::DeliveryState::Kind::kDead));
        mark_done(k.slot, k.offset, false);
      });
}

Status KafkaQueue::retry(const Lease& lease, int64_t at_ms) {
  return put_back(lease, at_ms, false);
}

Status KafkaQueue::defer(const Lease& lease, int64_t at_ms) { return put_back(lease, at_ms, true); }

Status KafkaQueue::put_back(const Lease& lease, int64_t at_ms, bool give_back) {
  // The attempt its next hand-out makes: the same again when the hand-out is given back.
  const int next = lease.attempt() + (give_back ? 0 : 1);
  {
    std::lock_guard parts(parts_mu_);
    failed_at_[lease.delivery->endpoint_id] = clock_.now_ms();
  }
  // Unordered: moved to the retries topic (the inner queue lets it go; it comes back from
  // there when due), so what follows it in its partition goes on and is committed past it.
  if (moves(*lease.delivery)) {
    std::optional<std::pair<Known, uint64_t>> took;
    Status st = settle(
        lease, [](MemoryQueue& q, const Lease& l) { return q.ack(l); },
        [&](const Known& k) { took.emplace(k, epoch_); });
    // Outside the epoch lock: a write refused at once is answered inside produce().
    if (st && took) start_move(lease, took->first, at_ms, next, took->second);
    return st;
  }
  return settle(
      lease,
      [at_ms, give_back](MemoryQueue& q, const Lease& l) {
        return give_back ? q.defer(l, at_ms) : q.retry(l, at_ms);
      },
      [&](const Known& k) {
        // The next attempt is recorded with its time before it can be made.
        {
          std::lock_guard parts(parts_mu_);
          if (auto it = known_.find(lease.delivery->id); it != known_.end()) {
            it->second.recorded = std::max(it->second.recorded, next);
            stated(it->second);
          }
        }
        write_state(partition_of_slot(k.slot), lease.delivery->id,
                    state_at(k, kafka::DeliveryState::Kind::kRetry, next, at_ms));
      });
}

Status KafkaQueue::extend(const Lease& lease, int64_t deadline_ms) {
  return settle(
      lease, [deadline_ms](MemoryQueue& q, const Lease& l) { return q.extend(l, deadline_ms); },
      nullptr);
}

kafka::DeliveryState KafkaQueue::state_at(const Known& k, kafka::DeliveryState::Kind kind,
                                          int attempt, int64_t at_ms) const {
  kafka::DeliveryState s{kind, attempt, at_ms, k.offset};
  s.retried = retry_slot(k.slot);
  s.origin = s.retried ? k.origin : -1;
  return s;
}

void KafkaQueue::mark_done(int32_t slot, int64_t offset, bool acked) {
  std::lock_guard parts(parts_mu_);
  const std::string* id = finish(slot, offset, false);
  if (id == nullptr) return;
  Partition& part = partitions_[slot];
  Entry& e = part.entries[offset];
  if (acked) {
    e.ack_due = true;
    e.acked_at = std::chrono::steady_clock::now();
    part.acks_due++;
  } else {
    e.unstated = false;
  }
  known_.erase(*id);
}

void KafkaQueue::stated(const Known& k) {
  if (auto p = partitions_.find(k.slot); p != partitions_.end())
    if (auto e = p->second.entries.find(k.offset); e != p->second.entries.end())
      e->second.unstated = false;
}

Status KafkaQueue::set_ordering(const EndpointOrdering& ordering) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto answer = promise->get_future();
  auto w = std::make_shared<Waiter>();
  w->left = 1;
  w->done = [promise](Status st) { promise->set_value(std::move(st)); };
  const std::string value = kafka::encode_ordering(ordering);
  produce(orderings_topic_, 0, ordering.endpoint_id, &value, w);
  if (Status st = answer.get(); !st) return st;
  // Applied by the follower in the topic's order, as every other process applies it: a switch
  // back and forth lands as it was written.
  {
    std::unique_lock lock(modes_mu_);
    if (!modes_cv_.wait_for(lock, options_.timeout, [&] { return modes_offset_ >= w->offset; }))
      return make_error(ErrorKind::kUnavailable, "queue_unavailable",
                        "kafka: the ordering was written but not read back in time");
  }
  // Retries this process is moving rejoin their lanes (in their place) before it returns.
  await_moves(options_.timeout, false);
  return {};
}

void KafkaQueue::apply_ordering(const EndpointOrdering& o, int64_t offset) {
  bool changed = false;
  {
    std::lock_guard lock(modes_mu_);
    auto it = modes_.find(o.endpoint_id);
    changed = it == modes_.end() || it->second.ordered != o.ordered;
    modes_[o.endpoint_id] = o;
  }
  if (changed) {
    std::shared_lock lock(epoch_mu_);
    (void)inner_->set_ordering(o);
  }
  {
    std::lock_guard lock(modes_mu_);
    modes_offset_ = std::max(modes_offset_, offset);
  }
  modes_cv_.notify_all();
}

std::vector<EndpointOrdering> KafkaQueue::orderings() const {
  std::lock_guard lock(modes_mu_);
  std::vector<EndpointOrdering> out;
  for (const auto& [ep, mode] : modes_) out.push_back(mode);
  return out;
}

void KafkaQueue::set_ready_listener(std::function<void()> listener) {
  std::lock_guard lock(listener_mu_);
  listener_ = std::move(listener);
}

std::optional<int64_t> KafkaQueue::next_due_ms() const {
  std::shared_lock lock(epoch_mu_);
  return inner_->next_due_ms();
}

QueueStats KafkaQueue::stats() const {
  QueueStats s;
  {
    std::shared_lock lock(epoch_mu_);
    s = inner_->stats();
  }
  s.capacity = options_.held_per_partition * static_cast<size_t>(options_.partitions);
  s.max_bytes = 0;
  s.up = up_;
  if (!consumer_) return s;
  refresh_depth(std::chrono::milliseconds(100));
  // The owned partitions from this process's own counts; the others as last refreshed.
  std::lock_guard depth(depth_mu_);
  s.depth = depth_elsewhere_;
  std::lock_guard parts(parts_mu_);
  for (const auto& [slot, part] : partitions_) {
    int64_t low = 0, high = 0;
    if (rd_kafka_get_watermark_offsets(consumer_.get(), topic_of(slot).c_str(),
                                       partition_of_slot(slot), &low,
                                       &high) != RD_KAFKA_RESP_ERR_NO_ERROR)
      high = 0;
    if (auto h = ends_.find(slot); h != ends_.end()) high = std::max(high, h->second);
    const int64_t point =
        part.entries.empty() ? std::max<int64_t>(part.next, 0) : part.entries.begin()->first;
    const auto done = static_cast<int64_t>(part.entries.size() - part.held);
    const int64_t n = std::max(high, part.next) - point - done;
    if (n > 0) s.depth += static_cast<size_t>(n);
  }
  s.depth -= std::min(s.depth, copies_in_flight_);
  return s;
}

Status KafkaQueue::ping() {
  if (!up_)
    return make_error(ErrorKind::kUnavailable, "queue_unavailable", "kafka: no broker is up");
  return {};
}

Result<std::vector<std::string>> KafkaQueue::holding(const std::vector<std::string>& ids) {
  std::lock_guard parts(parts_mu_);
  // Owning every partition and read to its end, this process knows all that is held: what it
  // consumed and has not done. Otherwise only what it read back as done (acked or dead) is
  // not held; anything else may still be delivered by some process.
  bool all_known = consumer_ && partitions_.size() == static_cast<size_t>(slots());
  for (const auto& [slot, part] : partitions_) {
    int64_t low = 0, high = 0;
    if (!all_known) break;
    all_known = rd_kafka_get_watermark_offsets(consumer_.get(), topic_of(slot).c_str(),
                                               partition_of_slot(slot), &low,
                                               &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                high >= 0 && std::max<int64_t>(part.next, 0) >= high;
  }
  std::vector<std::string> out;
  for (const auto& id : ids) {
    bool held = known_.contains(id);
    if (!held && !all_known) {
      held = true;
      for (const auto& [p, state] : states_)
        if (auto it = state.find(id); it != state.end() && it->second.done()) held = false;
    }
    if (held) out.push_back(id);
  }
  return out;
}

std::vector<int32_t> KafkaQueue::assigned() const {
  std::lock_guard parts(parts_mu_);
  std::vector<int32_t> out;
  for (const auto& [slot, part] : partitions_)
    if (!retry_slot(slot)) out.push_back(slot);
  return out;
}

}  // namespace sealhook
