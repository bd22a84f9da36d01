#include "contract/kafka_backend.hpp"

#include "queue/kafka/kafka_queue.hpp"
#include "test_kafka_brokers.hpp"

namespace sealhook::contract {
namespace {

std::string topic_prefix_for(const std::string& dir) {
  return shared_name_for(dir, "contract", "-");
}

}  // namespace

QueueBackend kafka_backend() {
  QueueBackend b;
  b.name = "kafka";
  b.durable = true;
  b.open = [](const QueueOptions& o, const Clock& c,
              const std::string& dir) -> Result<std::unique_ptr<Queue>> {
    std::string brokers = testing::test_kafka_brokers();
    if (brokers.empty())
      return make_error(ErrorKind::kUnavailable, "no_kafka",
                        "no test Kafka broker: run through ctest (fixture `kafka`), or set "
                        "SEALHOOK_TEST_KAFKA=127.0.0.1:PORT (scripts/start-kafka.sh)");
    KafkaQueueOptions ko;
    ko.queue = o;
    ko.brokers = brokers;
    ko.prefix = topic_prefix_for(dir);
    ko.owner = "contract";
    ko.partitions = 3;
    auto q = KafkaQueue::open(ko, c);
    if (!q) return q.error();
    return std::unique_ptr<Queue>(std::move(q.value()));
  };
  b.quiesce = [](Queue& q) {
    EXPECT_TRUE(static_cast<KafkaQueue&>(q).quiesce(std::chrono::seconds(20)))
        << "the kafka queue did not catch up with its partitions";
  };
  const std::string no_capacity =
      "a Kafka queue holds what the broker's disk and retention hold; a push is refused only "
      "when the broker or the client's buffer refuses it (no count or byte bound to test)";
  b.skips = {{"FullQueueRefusesTheWholeBatch", no_capacity},
             {"BytesAreBoundedAndASharedBodyCountsOnce", no_capacity},
             {"ConcurrentPushesEachGetTheirOwnVerdict", no_capacity}};
  return b;
}

}  // namespace sealhook::contract
