// The kafka queue counts hand-outs with one mark per batch of first hand-outs (kafka_record.hpp):
// a process killed with deliveries leased leaves them counted for the next owner, and a clean
// handover (a rebalance, a shutdown) counts only what was really handed out. Against the broker
// of the ctest fixture `kafka`; the crash is a real one (a child process that _exit()s with its
// leases held, no destructor run).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "core/clock.hpp"
#include "queue/kafka/kafka_queue.hpp"
#include "test_kafka_brokers.hpp"

namespace sealhook {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kIds{"dlv_a", "dlv_b", "dlv_c"};

std::unique_ptr<KafkaQueue> open_handout_queue(const std::string& prefix, const Clock& clock) {
  KafkaQueueOptions o;
  o.brokers = testing::test_kafka_brokers();
  o.prefix = prefix;
  o.owner = "handout-test";
  o.partitions = 1;
  o.session_timeout = 6000ms;  // the killed member leaves the group this soon (the broker's least)
  auto q = KafkaQueue::open(o, clock);
  return q.ok() ? std::move(q.value()) : nullptr;
}

std::vector<QueuedDelivery> three(const Clock& clock) {
  std::vector<QueuedDelivery> out;
  for (const auto& id : kIds) {
    QueuedDelivery d;
    d.id = id;
    d.tenant_id = "tn";
    d.endpoint_id = "ep_" + id;  // one endpoint each: all leasable at once
    d.event_id = "evt_" + id;
    d.event_type = "a";
    d.body = std::make_shared<const std::string>("cipher");
    d.not_before_ms = clock.now_ms();
    out.push_back(std::move(d));
  }
  return out;
}

// Pushes three, leases one of them; its index in kIds, or -1.
int push_and_lease_one(KafkaQueue& q, const Clock& clock) {
  if (!q.push(three(clock)) || !q.quiesce(30s)) return -1;
  auto got = q.lease(clock.now_ms(), 1, 600'000);
  if (got.size() != 1) return -1;
  return static_cast<int>(std::find(kIds.begin(), kIds.end(), got[0].delivery->id) - kIds.begin());
}

// The three as the next owner hands them out: hand-outs by id.
std::map<std::string, int> next_owner_handouts(const std::string& prefix, const Clock& clock) {
  auto q = open_handout_queue(prefix, clock);
  EXPECT_NE(q, nullptr);
  std::map<std::string, int> out;
  if (q == nullptr || !q->quiesce(60s)) return out;
  for (const auto& l : q->lease(clock.now_ms(), 10, 600'000)) out[l.delivery->id] = l.handouts;
  return out;
}

std::string fresh_prefix(const std::string& what, const Clock& clock) {
  return "handout-" + what + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(clock.now_ms());
}

class KafkaHandouts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::test_kafka_brokers().empty())
      GTEST_FAIL() << "no test Kafka broker: run through ctest (fixture `kafka`), or set "
                      "SEALHOOK_TEST_KAFKA=127.0.0.1:PORT";
  }
};

TEST_F(KafkaHandouts, AProcessKilledWithALeaseLeavesItCounted) {
  SystemClock clock;
  const std::string prefix = fresh_prefix("killed", clock);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto q = open_handout_queue(prefix, clock);
    const int leased = q ? push_and_lease_one(*q, clock) : -1;
    _exit(leased < 0 ? 100 : leased);  // killed with it in flight: no revoke, no destructor
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  const int leased = WEXITSTATUS(status);
  ASSERT_LT(leased, 3) << "the child failed (exit " << leased << ")";
  auto got = next_owner_handouts(prefix, clock);
  ASSERT_EQ(got.size(), 3u) << "nothing accepted is lost";
  EXPECT_EQ(got[kIds[leased]], 2) << "its first hand-out died with the process, counted";
  // The others were read, never handed out: the mark covers them too (counted, not lost).
  for (const auto& [id, n] : got) EXPECT_GE(n, 1) << id;
}

TEST_F(KafkaHandouts, ACleanHandoverCountsOnlyWhatWasHandedOut) {
  SystemClock clock;
  const std::string prefix = fresh_prefix("clean", clock);
  int leased = -1;
  {
    auto q = open_handout_queue(prefix, clock);
    ASSERT_NE(q, nullptr);
    leased = push_and_lease_one(*q, clock);
    ASSERT_GE(leased, 0);
  }  // closed with the lease held: revoked, as at a rebalance
  auto got = next_owner_handouts(prefix, clock);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(got[kIds[i]], i == leased ? 2 : 1)
        << kIds[i] << (i == leased ? ": handed out once before" : ": read, never handed out");
}

}  // namespace
}  // namespace sealhook
