// The store contract: the dead letter queue and the replay claim. A dead delivery keeps its
// body; a replay claims it atomically (of concurrent claimers, one wins) and gives it back when
// it could not be queued.
#include <atomic>

#include "contract/store_contract.hpp"

namespace sealhook::contract {
namespace {

class ReplayContract : public TwoTenants {
 protected:
  void SetUp() override {
    TwoTenants::SetUp();
    if (store == nullptr) return;  // skipped or failed
    dead_ = delivery("tn_a", 1, DeliveryStatus::kDead);
    dead_.attempts = 6;
    dead_.updated_at_ms = 1500;
    dead_.last_error = "HTTP 500";
    DeliveryUpdate u = update(dead_, {attempt(6, 1500, 500, "HTTP 500")});
    u.dead_body = body_;
    write({u, update(delivery("tn_a", 2, DeliveryStatus::kDelivered))});
  }

  DeliveryRecord dead_;
  const std::string body_{"jwe.\0body", 9};
};

TEST_P(ReplayContract, TheDeadLetterKeepsItsRecordAndBody) {
  auto letter = store->get_dead_letter("tn_a", dead_.id);
  ASSERT_TRUE(letter.ok() && letter->has_value());
  expect_same((*letter)->record, dead_);
  EXPECT_EQ((*letter)->body, body_);
  EXPECT_FALSE(store->get_dead_letter("tn_b", dead_.id)->has_value());
  EXPECT_FALSE(store->get_dead_letter("tn_a", delivery("tn_a", 2).id)->has_value());
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 1);
}

TEST_P(ReplayContract, AClaimTakesTheDeadLetterAndAnUnclaimGivesItBack) {
  auto claimed = store->claim_dead("tn_a", dead_.id, 9000);
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  EXPECT_TRUE(*claimed);
  DeliveryRecord pending = dead_;
  pending.status = DeliveryStatus::kPending;
  pending.updated_at_ms = pending.next_attempt_at_ms = 9000;
  expect_same(read("tn_a", dead_.id), pending);
  EXPECT_FALSE(store->get_dead_letter("tn_a", dead_.id)->has_value());
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 0);
  EXPECT_EQ(store->get_attempts(dead_.id)->size(), 1u);      // its history stays
  EXPECT_FALSE(*store->claim_dead("tn_a", dead_.id, 9001));  // claimed already

  ASSERT_TRUE(store->unclaim_dead("tn_a", dead_.id, body_).ok());
  DeliveryRecord back = pending;
  back.status = DeliveryStatus::kDead;
  back.next_attempt_at_ms = 0;
  expect_same(read("tn_a", dead_.id), back);
  auto letter = store->get_dead_letter("tn_a", dead_.id);
  ASSERT_TRUE(letter.ok() && letter->has_value());
  EXPECT_EQ((*letter)->body, body_);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 1);
  EXPECT_TRUE(*store->claim_dead("tn_a", dead_.id, 9100));  // and it can be replayed again
}

TEST_P(ReplayContract, OnlyADeadDeliveryOfTheTenantIsClaimed) {
  EXPECT_FALSE(*store->claim_dead("tn_b", dead_.id, 9000));                // another tenant's
  EXPECT_FALSE(*store->claim_dead("tn_a", delivery("tn_a", 2).id, 9000));  // delivered
  EXPECT_FALSE(*store->claim_dead("tn_a", "msg_missing", 9000));
  expect_same(read("tn_a", dead_.id), dead_);
  EXPECT_EQ(read("tn_a", delivery("tn_a", 2).id).status, DeliveryStatus::kDelivered);
  // Giving back what is not pending changes nothing: no dead letter for a delivered record.
  ASSERT_TRUE(store->unclaim_dead("tn_a", delivery("tn_a", 2).id, "x").ok());
  EXPECT_EQ(read("tn_a", delivery("tn_a", 2).id).status, DeliveryStatus::kDelivered);
  EXPECT_FALSE(store->get_dead_letter("tn_a", delivery("tn_a", 2).id)->has_value());
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 1);
}

// Two operators (on two serve processes) replay one dead delivery at once: one of them queues
// it, every other one is told it is no longer dead.
TEST_P(ReplayContract, ConcurrentClaimsOfOneDeliveryHaveOneWinner) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 3; ++round) {
    std::atomic<int> won{0}, lost{0};
    race(kThreads, [&](int i, Store& s) {
      auto claimed = s.claim_dead("tn_a", dead_.id, 9000 + i);
      EXPECT_TRUE(claimed.ok()) << (claimed.ok() ? "" : claimed.error().message);
      if (claimed.ok()) (*claimed ? won : lost)++;
    });
    ASSERT_EQ(won.load(), 1) << "round " << round;
    EXPECT_EQ(lost.load(), kThreads - 1);
    EXPECT_EQ(read("tn_a", dead_.id).status, DeliveryStatus::kPending);
    EXPECT_FALSE(store->get_dead_letter("tn_a", dead_.id)->has_value());
    ASSERT_TRUE(store->unclaim_dead("tn_a", dead_.id, body_).ok());  // dead again, next round
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ReplayContract, ::testing::ValuesIn(kStoreBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sealhook::contract
