// The kafka queue's generation (Queue::generation(), queue.hpp): every process on the same
// topics reads the same one back, the first written; topics made afresh (as after a broker that
// lost its data) have another. Against the broker of the ctest fixture `kafka`.
#include <gtest/gtest.h>

#include <regex>

#include "core/clock.hpp"
#include "queue/kafka/kafka_queue.hpp"
#include "test_kafka_brokers.hpp"

namespace sealhook {
namespace {

std::unique_ptr<KafkaQueue> open_on(const std::string& prefix, const Clock& clock) {
  KafkaQueueOptions o;
  o.brokers = testing::test_kafka_brokers();
  o.prefix = prefix;
  o.owner = "generation-test";
  o.partitions = 1;
  o.consume = false;
  auto q = KafkaQueue::open(o, clock);
  EXPECT_TRUE(q.ok()) << (q.ok() ? "" : q.error().message);
  return q.ok() ? std::move(q.value()) : nullptr;
}

TEST(KafkaGeneration, SharedByEveryProcessOnTheTopicsAndNewForNewTopics) {
  if (testing::test_kafka_brokers().empty())
    GTEST_FAIL() << "no test Kafka broker: run through ctest (fixture `kafka`), or set "
                    "SEALHOOK_TEST_KAFKA=127.0.0.1:PORT";
  SystemClock clock;
  const std::string prefix =
      "generation-" + std::to_string(::getpid()) + "-" + std::to_string(clock.now_ms());
  auto first = open_on(prefix, clock);
  ASSERT_NE(first, nullptr);
  const auto g = first->generation();
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(std::regex_match(*g, std::regex(R"(\d{13}-\S+)"))) << *g;
  auto second = open_on(prefix, clock);  // another process on the same topics
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->generation(), g);
  second.reset();
  first.reset();
  auto again = open_on(prefix, clock);  // a restart
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->generation(), g);
  auto fresh = open_on(prefix + "-new", clock);  // the topics made afresh
  ASSERT_NE(fresh, nullptr);
  ASSERT_TRUE(fresh->generation().has_value());
  EXPECT_NE(fresh->generation(), g);
}

}  // namespace
}  // namespace sealhook
