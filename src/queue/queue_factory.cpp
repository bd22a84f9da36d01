// The one place that knows every queue backend.
#include "queue/kafka/kafka_queue.hpp"
#include "queue/memory/memory_queue.hpp"
#include "queue/queue.hpp"
#include "queue/redis/redis_queue.hpp"
#include "queue/sqlite/sqlite_queue.hpp"

namespace sealhook {

Result<std::unique_ptr<Queue>> make_queue(const QueueConfig& config, const Clock& clock) {
  if (config.kind == "memory")
    return std::unique_ptr<Queue>(std::make_unique<MemoryQueue>(config.options, clock));
  if (config.kind == "sqlite") {
    if (config.path.empty())
      return make_error(ErrorKind::kBadRequest, "invalid_queue", "the sqlite queue needs a path");
    SqliteQueueOptions o;
    o.queue = config.options;
    o.path = config.path;
    o.sync_full = config.sync_full;
    o.round_gap = config.round_gap;
    auto q = SqliteQueue::open(o, clock);
    if (!q) return q.error();
    return std::unique_ptr<Queue>(std::move(q.value()));
  }
  if (config.kind == "redis") {
    auto address = parse_redis_url(config.redis_url);
    if (!address) return address.error();
    RedisQueueOptions o;
    o.queue = config.options;
    o.address = address.value();
    if (!config.redis_owner.empty()) o.owner = config.redis_owner;
    o.timeout = std::chrono::milliseconds(config.redis_timeout_ms);
    auto q = RedisQueue::open(o, clock);
    if (!q) return q.error();
    return std::unique_ptr<Queue>(std::move(q.value()));
  }
  if (config.kind == "kafka") {
    KafkaQueueOptions o;
    o.queue = config.options;
    o.brokers = config.kafka_brokers;
    o.prefix = config.kafka_prefix;
    o.group = config.kafka_group;
    if (!config.redis_owner.empty()) o.owner = config.redis_owner;
    o.partitions = config.kafka_partitions;
    o.timeout = std::chrono::milliseconds(config.kafka_timeout_ms);
    o.session_timeout = std::chrono::milliseconds(config.kafka_session_timeout_ms);
    o.held_per_partition = config.kafka_held_per_partition;
    o.batch = std::chrono::milliseconds(config.kafka_batch_ms);
    o.ack_record_after = std::chrono::milliseconds(config.kafka_ack_record_ms);
    auto q = KafkaQueue::open(o, clock);
    if (!q) return q.error();
    return std::unique_ptr<Queue>(std::move(q.value()));
  }
  return make_error(
      ErrorKind::kBadRequest, "invalid_queue",
      "unknown queue '" + config.kind + "' (expected sqlite, memory, redis or kafka)");
}

}  // namespace sealhook
