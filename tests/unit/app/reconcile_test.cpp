// reconcile() (app/node.hpp) against the real SQLite store and a durable queue: what it settles
// and, with a shared queue's `unchanged_for_ms`, what it must leave to the process that is
// delivering it right now.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>

#include "app/node.hpp"
#include "config_test_util.hpp"
#include "core/clock.hpp"
#include "core/ids.hpp"
#include "queue/queue.hpp"
#include "store/store.hpp"

namespace sealhook::app {
namespace {

using testing::ScratchDir;

constexpr int64_t kNow = 1'000'000;

DeliveryRecord pending_record(const std::string& id, int64_t updated_at_ms) {
  DeliveryRecord d;
  d.id = id;
  d.tenant_id = "tn_a";
  d.endpoint_id = "ep_1";
  d.event_id = "evt_" + id;
  d.event_type = "order.created";
  d.created_at_ms = updated_at_ms;
  d.updated_at_ms = updated_at_ms;
  d.next_attempt_at_ms = updated_at_ms;
  return d;
}

class ReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = make_store("sqlite:" + (dir_.path() / "store.db").string());
    ASSERT_TRUE(store.ok()) << store.error().message;
    store_ = std::move(store.value());
    ASSERT_TRUE(store_->insert_tenant(Tenant{"tn_a", "a", 1}, ApiKey{"ak_a", "tn_a", "h", 1}).ok());
    QueueConfig qc;
    qc.kind = "sqlite";
    qc.path = (dir_.path() / "queue.db").string();
    auto queue = make_queue(qc, clock_);
    ASSERT_TRUE(queue.ok()) << queue.error().message;
    queue_ = std::move(queue.value());
    // The same queue as the last run's: records no queue holds were acknowledged.
    ASSERT_TRUE(store_->put_meta("queue", "redis").ok());
  }

  void record(const std::string& id, int64_t updated_at_ms) {
    ASSERT_TRUE(
        store_->write_deliveries({{pending_record(id, updated_at_ms), {}, {}, false}}).ok());
  }

  void queue_holds(const std::string& id) {
    QueuedDelivery q;
    q.id = id;
    q.tenant_id = "tn_a";
    q.endpoint_id = "ep_1";
    q.event_id = "evt_" + id;
    q.event_type = "order.created";
    q.body = std::make_shared<const std::string>("jwe");
    std::vector<QueuedDelivery> batch{q};
    ASSERT_TRUE(queue_->push(std::move(batch)).ok());
  }

  DeliveryStatus status_of(const std::string& id) {
    auto d = store_->get_delivery("tn_a", id);
    EXPECT_TRUE(d.ok() && d->has_value());
    return d.ok() && d->has_value() ? (*d)->status : DeliveryStatus::kPending;
  }

  ScratchDir dir_;
  ManualClock clock_{kNow};
  std::unique_ptr<Store> store_;
  std::unique_ptr<Queue> queue_;
};

TEST_F(ReconcileTest, SettlesOnlyRecordsUnchangedForTheGivenTime) {
  record("msg_old", kNow - 60'001);    // unchanged for longer than 60 s: no one is on it
  record("msg_fresh", kNow - 59'000);  // another process may be settling it right now
  record("msg_queued", kNow - 90'000);
  queue_holds("msg_queued");  // still queued (a retry due later): not settled, however old

  auto settled = reconcile(*store_, queue_.get(), "redis", kNow, 60'000);
  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_EQ(*settled, 1u);
  EXPECT_EQ(status_of("msg_old"), DeliveryStatus::kDelivered);
  EXPECT_EQ(status_of("msg_fresh"), DeliveryStatus::kPending);
  EXPECT_EQ(status_of("msg_queued"), DeliveryStatus::kPending);

  // A later round (the timer's) takes the fresh one once it has aged past the bound.
  settled = reconcile(*store_, queue_.get(), "redis", kNow + 2'000, 60'000);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(*settled, 1u);
  EXPECT_EQ(status_of("msg_fresh"), DeliveryStatus::kDelivered);
  EXPECT_EQ(status_of("msg_queued"), DeliveryStatus::kPending);
}

TEST_F(ReconcileTest, WithoutABoundEveryOrphanIsSettled) {
  record("msg_a", kNow - 1);
  record("msg_b", kNow);
  auto settled = reconcile(*store_, queue_.get(), "redis", kNow, 0);
  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_EQ(*settled, 2u);
  EXPECT_EQ(status_of("msg_a"), DeliveryStatus::kDelivered);
  EXPECT_EQ(status_of("msg_b"), DeliveryStatus::kDelivered);
}

TEST_F(ReconcileTest, ARecordUpdatedAfterTheReadIsNotOverwritten) {
  record("msg_a", kNow - 120'000);
  // The worker that delivered it wrote its outcome (dead) first: reconcile leaves it dead.
  DeliveryRecord dead = pending_record("msg_a", kNow - 1);
  dead.status = DeliveryStatus::kDead;
  ASSERT_TRUE(store_->write_deliveries({{dead, {}, std::string("jwe"), false}}).ok());
  auto settled = reconcile(*store_, queue_.get(), "redis", kNow, 60'000);
  ASSERT_TRUE(settled.ok());
  EXPECT_EQ(*settled, 0u);
  EXPECT_EQ(status_of("msg_a"), DeliveryStatus::kDead);
}

// More records than one page of the reconcile (10,000), with new_id()'s ids (kept packed) and
// others: each settled once, the queued ones left alone.
TEST_F(ReconcileTest, ManyRecordsAreCheckedInPages) {
  std::vector<DeliveryUpdate> batch;
  std::vector<std::string> ids;
  for (int i = 0; i < 12'345; ++i) {
    ids.push_back(new_id("msg_", kNow - 100'000 + i));
    batch.push_back({pending_record(ids.back(), kNow - 100'000), {}, {}, false});
  }
  batch.push_back({pending_record("msg_other", kNow - 100'000), {}, {}, false});
  ASSERT_TRUE(store_->write_deliveries(batch).ok());
  for (int i : {0, 9'999, 10'000, 12'344}) queue_holds(ids[static_cast<size_t>(i)]);

  auto settled = reconcile(*store_, queue_.get(), "redis", kNow, 0);
  ASSERT_TRUE(settled.ok()) << settled.error().message;
  EXPECT_EQ(*settled, 12'346u - 4u);
  for (int i : {0, 9'999, 10'000, 12'344})
    EXPECT_EQ(status_of(ids[static_cast<size_t>(i)]), DeliveryStatus::kPending) << i;
  for (int i : {1, 5'000, 10'001, 12'343})
    EXPECT_EQ(status_of(ids[static_cast<size_t>(i)]), DeliveryStatus::kDelivered) << i;
  EXPECT_EQ(status_of("msg_other"), DeliveryStatus::kDelivered);
  auto left = store_->count_deliveries(DeliveryStatus::kPending);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 4);
}

}  // namespace
}  // namespace sealhook::app
