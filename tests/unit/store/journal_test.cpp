#include "store/journal.hpp"

#include <gtest/gtest.h>

#include "test_util.hpp"

namespace sealhook {
namespace {

using testing::delivery;

DeliveryUpdate update(DeliveryRecord r, bool create_only = false, int attempt = 0) {
  DeliveryUpdate u;
  u.record = std::move(r);
  u.create_only = create_only;
  if (attempt) u.attempts.push_back(AttemptRecord{u.record.id, attempt, 1, 1, 500, "http 500"});
  return u;
}

TEST(Coalesce, MergesUpdatesOfOneDeliveryInOrder) {
  auto pending = delivery("tn", 1);
  auto done = delivery("tn", 1, DeliveryStatus::kDelivered);
  done.attempts = 2;
  std::vector<DeliveryUpdate> batch;
  batch.push_back(update(pending, true));
  batch.push_back(update(delivery("tn", 2), true));
  batch.push_back(update(pending, false, 1));
  batch.push_back(update(done, false, 2));
  auto out = coalesce(std::move(batch));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].record.status, DeliveryStatus::kDelivered);
  EXPECT_FALSE(out[0].create_only);
  ASSERT_EQ(out[0].attempts.size(), 2u);
  EXPECT_EQ(out[0].attempts[0].number, 1);
  EXPECT_EQ(out[0].attempts[1].number, 2);
  EXPECT_TRUE(out[1].create_only);
}

TEST(Coalesce, LateCreateOnlyNeverOverwritesAnOutcome) {
  auto done = delivery("tn", 1, DeliveryStatus::kDead);
  std::vector<DeliveryUpdate> batch;
  batch.push_back(update(done, false, 1));
  batch.back().dead_body = "cipher";
  batch.push_back(update(delivery("tn", 1), true));
  auto out = coalesce(std::move(batch));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].record.status, DeliveryStatus::kDead);
  EXPECT_EQ(out[0].dead_body, "cipher");
}

TEST(Journal, FlushMakesEverySubmittedUpdateVisible) {
  auto store = testing::open_store("sqlite::memory:");
  ASSERT_TRUE(store->insert_tenant(testing::tenant("tn"), testing::api_key("ak", "tn")).ok());
  Journal journal(
      *store,
      JournalOptions{.max_batch = 7, .max_backlog = 100, .linger = std::chrono::milliseconds(50)});
  for (int i = 0; i < 250; ++i) journal.submit(update(delivery("tn", i), true));
  auto done = delivery("tn", 3, DeliveryStatus::kDelivered);
  journal.submit(update(done, false, 1));
  journal.flush();
  auto n = store->count_deliveries(std::nullopt);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 250);
  auto rec = store->get_delivery("tn", done.id);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ((*rec)->status, DeliveryStatus::kDelivered);
  EXPECT_EQ(store->get_attempts(done.id)->size(), 1u);
  EXPECT_EQ(journal.write_errors(), 0u);
}

}  // namespace
}  // namespace sealhook
