// The store contract: what a restart relies on. Pending records listed (whole, or a page at a
// time by tenant and newest first) and settled only while still pending; small facts kept.
#include <algorithm>
#include <cstdint>

#include "contract/store_contract.hpp"

namespace sealhook::contract {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

class RecoveryContract : public StoreContract {
 protected:
  void SetUp() override {
    StoreContract::SetUp();
    if (store == nullptr) return;  // skipped or failed
    for (const char* t : {"tn_c", "tn_a", "tn_b", "tn_d"}) add_tenant(t);
  }

  // Pending ones updated before 1035 for tn_a and tn_c, none for tn_b (dead, lost and
  // delivered only) nor tn_d (nothing). Returns them by tenant, then newest first.
  Pairs fill() {
    std::vector<DeliveryUpdate> batch;
    Pairs want;
    for (const char* t : {"tn_a", "tn_c"}) {
      for (int i = 40; i >= 1; --i) {
        DeliveryStatus st = i % 7 == 0    ? DeliveryStatus::kDead
                            : i % 5 == 0  ? DeliveryStatus::kDelivered
                            : i % 11 == 0 ? DeliveryStatus::kLost
                                          : DeliveryStatus::kPending;
        DeliveryUpdate u = update(delivery(t, i, st));  // updated at 1000 + i
        if (st == DeliveryStatus::kDead) u.dead_body = "x";
        if (st == DeliveryStatus::kPending && u.record.updated_at_ms < 1035)
          want.emplace_back(t, u.record.id);
        batch.push_back(u);
      }
    }
    for (int i = 1; i <= 10; ++i) {
      DeliveryStatus st = i % 3 == 0   ? DeliveryStatus::kDelivered
                          : i % 3 == 1 ? DeliveryStatus::kLost
                                       : DeliveryStatus::kDead;
      DeliveryUpdate u = update(delivery("tn_b", 100 + i, st));
      if (st == DeliveryStatus::kDead) u.dead_body = "x";
      batch.push_back(u);
    }
    write(batch);
    return want;
  }
};

TEST_P(RecoveryContract, PendingRecordsUpdatedBeforeTheBound) {
  Pairs want = fill();
  auto all = store->pending_deliveries(1035);
  ASSERT_TRUE(all.ok()) << all.error().message;
  Pairs got = *all;
  std::sort(got.begin(), got.end());
  Pairs sorted = want;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(got, sorted);
  EXPECT_EQ(got.size(), 2u * 21u);  // of 1..34 per tenant: not 7k (dead), 5k, 11k
  auto every = store->pending_deliveries(INT64_MAX);
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->size(), 2u * 25u);
  auto none = store->pending_deliveries(1001);  // 1001 is not before 1001
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// Every pending record once, tenant by tenant and newest first, whatever the page size; dead,
// lost and delivered ones and a tenant with none pending are passed over.
TEST_P(RecoveryContract, PendingRecordsComeInPagesInOrder) {
  Pairs want = fill();
  for (size_t limit : {1u, 3u, 7u, 23u, 24u, 100u}) {
    Pairs seen;
    std::optional<std::pair<std::string, std::string>> after;
    for (size_t pages = 0;; ++pages) {
      ASSERT_LT(pages, 100u) << limit;
      auto page = store->pending_deliveries(1035, after, limit);
      ASSERT_TRUE(page.ok()) << page.error().message;
      if (page->empty()) break;
      ASSERT_LE(page->size(), limit);
      seen.insert(seen.end(), page->begin(), page->end());
      after = page->back();
    }
    EXPECT_EQ(seen, want) << limit;
  }
  auto empty = store->pending_deliveries(1001, std::nullopt, 10);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST_P(RecoveryContract, SettlingTouchesOnlyWhatIsStillPending) {
  DeliveryRecord pending = delivery("tn_a", 1);
  pending.attempts = 2;
  pending.next_attempt_at_ms = 5000;
  pending.last_error = "HTTP 503";
  DeliveryRecord delivered = delivery("tn_a", 2, DeliveryStatus::kDelivered);
  DeliveryRecord other = delivery("tn_b", 3);
  DeliveryRecord untouched = delivery("tn_a", 4);
  write({update(pending), update(delivered), update(other), update(untouched)});
  ASSERT_TRUE(store
                  ->settle_pending({{"tn_a", pending.id},
                                    {"tn_a", delivered.id},
                                    {"tn_a", other.id},  // tn_b's, named with the wrong tenant
                                    {"tn_a", "msg_missing"}},
                                   DeliveryStatus::kLost, "lost with the queue", 7000)
                  .ok());
  DeliveryRecord lost = pending;
  lost.status = DeliveryStatus::kLost;
  lost.last_error = "lost with the queue";
  lost.updated_at_ms = 7000;
  lost.next_attempt_at_ms = 0;
  expect_same(read("tn_a", pending.id), lost);
  expect_same(read("tn_a", delivered.id), delivered);
  expect_same(read("tn_b", other.id), other);
  expect_same(read("tn_a", untouched.id), untouched);
  // Settled once: a second settle to another status finds it no longer pending.
  ASSERT_TRUE(
      store->settle_pending({{"tn_a", pending.id}}, DeliveryStatus::kDelivered, "", 8000).ok());
  expect_same(read("tn_a", pending.id), lost);
  ASSERT_TRUE(
      store->settle_pending({{"tn_b", other.id}}, DeliveryStatus::kDelivered, "", 8000).ok());
  DeliveryRecord done = other;
  done.status = DeliveryStatus::kDelivered;
  done.updated_at_ms = 8000;
  expect_same(read("tn_b", other.id), done);
  EXPECT_TRUE(store->settle_pending({}, DeliveryStatus::kLost, "", 9000).ok());
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kPending), 1);
}

TEST_P(StoreContract, MetaKeepsSmallFacts) {
  auto missing = store->get_meta("queue");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  ASSERT_TRUE(store->put_meta("queue", "sqlite").ok());
  ASSERT_TRUE(store->put_meta("admin_token_sha256", std::string(64, 'a')).ok());
  ASSERT_TRUE(store->put_meta("queue", "redis").ok());  // replaced
  EXPECT_EQ(store->get_meta("queue")->value_or("(none)"), "redis");
  EXPECT_EQ(store->get_meta("admin_token_sha256")->value_or("(none)"), std::string(64, 'a'));
  EXPECT_TRUE(store->ping().ok());
  EXPECT_EQ(store->get_meta("queue")->value_or("(none)"), "redis");
  // Another process on the same store reads them.
  auto other = open_another();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->get_meta("queue")->value_or("(none)"), "redis");
  EXPECT_TRUE(other->ping().ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, RecoveryContract, ::testing::ValuesIn(kStoreBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sealhook::contract
