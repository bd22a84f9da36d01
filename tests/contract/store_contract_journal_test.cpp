// The store contract: the delivery and attempt journal. Records are upserted by id, attempts
// appended, a dead delivery keeps its body; a publish-time record (create_only) and an earlier
// attempt's outcome arriving late never overwrite what a later one wrote.
#include <thread>

#include "contract/store_contract.hpp"
#include "core/ids.hpp"

namespace sealhook::contract {
namespace {

class JournalContract : public TwoTenants {};

TEST_P(JournalContract, UpsertsAppendsAttemptsAndKeepsDeadLetters) {
  DeliveryRecord d = delivery("tn_a", 1);
  write({update(d)});
  expect_same(read("tn_a", d.id), d);
  EXPECT_TRUE(store->get_attempts(d.id)->empty());

  d.attempts = 1;
  d.updated_at_ms = 2000;
  d.next_attempt_at_ms = 3000;
  d.last_error = "HTTP 503";
  write({update(d, {attempt(1, 2000, 503, "HTTP 503")})});
  expect_same(read("tn_a", d.id), d);

  d.status = DeliveryStatus::kDead;
  d.attempts = 2;
  d.updated_at_ms = 3000;
  d.next_attempt_at_ms = 0;
  d.last_error = "timeout";
  const char raw[] = "eyJhbGciOi.\0binary.\xff\x01ok";
  const std::string body(raw, sizeof raw - 1);
  DeliveryUpdate dead = update(d, {attempt(2, 3000, 0, "timeout")});
  dead.dead_body = body;
  write({dead});
  expect_same(read("tn_a", d.id), d);

  auto attempts = store->get_attempts(d.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);  // in order of number
  AttemptRecord first = attempt(1, 2000, 503, "HTTP 503"), second = attempt(2, 3000, 0, "timeout");
  first.delivery_id = second.delivery_id = d.id;
  expect_same((*attempts)[0], first);
  expect_same((*attempts)[1], second);

  auto letter = store->get_dead_letter("tn_a", d.id);
  ASSERT_TRUE(letter.ok() && letter->has_value());
  EXPECT_EQ((*letter)->body, body);  // binary-safe
  expect_same((*letter)->record, d);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 1);

  // Replayed: pending again, the dead letter goes, the attempts stay.
  d.status = DeliveryStatus::kPending;
  d.updated_at_ms = 4000;
  d.next_attempt_at_ms = 4000;
  DeliveryUpdate replayed = update(d);
  replayed.clear_dead_body = true;
  write({replayed});
  EXPECT_FALSE(store->get_dead_letter("tn_a", d.id)->has_value());
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 0);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kPending), 1);
  EXPECT_EQ(store->get_attempts(d.id)->size(), 2u);
  expect_same(read("tn_a", d.id), d);
}

TEST_P(JournalContract, AttemptsOfSeveralBatchesAreAppendedInOrder) {
  DeliveryRecord d = delivery("tn_a", 1);
  std::vector<AttemptRecord> want;
  for (int n = 1; n <= 5; ++n) {
    d.attempts = n;
    d.updated_at_ms = 1000 + n;
    AttemptRecord a = attempt(n, 100 * n, n == 5 ? 200 : 500 + n, n == 5 ? "" : "HTTP 50x");
    write({update(d, {a})});
    a.delivery_id = d.id;
    want.push_back(a);
  }
  // The same attempt written twice (a batch retried after a failed commit) is one attempt.
  write({update(d, {attempt(5, 500, 200)})});
  auto got = store->get_attempts(d.id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) expect_same((*got)[i], want[i]);
  EXPECT_TRUE(store->get_attempts("msg_nothing")->empty());
}

TEST_P(JournalContract, CreateOnlyNeverOverwritesALaterUpdate) {
  DeliveryRecord done = delivery("tn_a", 1, DeliveryStatus::kDelivered);
  done.attempts = 1;
  done.updated_at_ms = 5000;
  write({update(done, {attempt(1, 5, 200)})});
  DeliveryUpdate created = update(delivery("tn_a", 1));
  created.create_only = true;
  DeliveryUpdate fresh = update(delivery("tn_a", 2));
  fresh.create_only = true;
  write({created, fresh});  // a later batch
  expect_same(read("tn_a", done.id), done);
  expect_same(read("tn_a", fresh.record.id), fresh.record);

  // In one batch: the outcome, then the publish-time record that was held back behind it.
  DeliveryRecord outcome = delivery("tn_a", 3, DeliveryStatus::kDelivered);
  outcome.attempts = 1;
  DeliveryUpdate late = update(delivery("tn_a", 3));
  late.create_only = true;
  write({update(outcome, {attempt(1, 7, 200)}), late});
  expect_same(read("tn_a", outcome.id), outcome);
  EXPECT_EQ(store->get_attempts(outcome.id)->size(), 1u);

  // A create_only record does create; an update after it in the same batch applies.
  DeliveryUpdate first = update(delivery("tn_a", 4));
  first.create_only = true;
  DeliveryRecord then = delivery("tn_a", 4, DeliveryStatus::kDelivered);
  then.attempts = 1;
  write({first, update(then, {attempt(1, 9, 200)})});
  expect_same(read("tn_a", then.id), then);
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 4);
}

// Two processes settle one delivery: attempt 2's worker records first, then attempt 1's (whose
// lease had expired) arrives late. The later attempt's record stands; the earlier attempt is
// still history, its dead letter is not.
TEST_P(JournalContract, AnEarlierAttemptNeverOverwritesALaterOne) {
  DeliveryRecord later = delivery("tn_a", 1, DeliveryStatus::kDelivered);
  later.attempts = 2;
  later.updated_at_ms = 2000;
  write({update(later, {attempt(2, 5, 200)})});
  DeliveryRecord stale = delivery("tn_a", 1, DeliveryStatus::kDead);
  stale.attempts = 1;
  stale.updated_at_ms = 1500;
  stale.last_error = "HTTP 500";
  DeliveryUpdate late = update(stale, {attempt(1, 4, 500, "HTTP 500")});
  late.dead_body = "jwe";
  write({late});
  expect_same(read("tn_a", later.id), later);
  EXPECT_FALSE(store->get_dead_letter("tn_a", later.id)->has_value());
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 0);
  auto attempts = store->get_attempts(later.id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].number, 1);
  EXPECT_EQ((*attempts)[0].status_code, 500);
  EXPECT_EQ((*attempts)[1].number, 2);

  DeliveryRecord next = delivery("tn_a", 1, DeliveryStatus::kPending);
  next.attempts = 2;  // as many attempts: written (a replay's pending record keeps the count)
  next.updated_at_ms = 2500;
  write({update(next)});
  expect_same(read("tn_a", later.id), next);
  next.attempts = 3;  // a later attempt still updates
  next.status = DeliveryStatus::kDelivered;
  write({update(next)});
  expect_same(read("tn_a", later.id), next);
}

TEST_P(JournalContract, ReadsAreScopedByTenant) {
  DeliveryUpdate dead = update(delivery("tn_a", 1, DeliveryStatus::kDead));
  dead.dead_body = "x";
  write({dead, update(delivery("tn_a", 2))});
  const std::string id = dead.record.id;
  EXPECT_TRUE(store->get_delivery("tn_a", id)->has_value());
  EXPECT_FALSE(store->get_delivery("tn_b", id)->has_value());
  EXPECT_TRUE(store->get_dead_letter("tn_a", id)->has_value());
  EXPECT_FALSE(store->get_dead_letter("tn_b", id)->has_value());
  EXPECT_FALSE(store->get_dead_letter("tn_a", delivery("tn_a", 2).id)->has_value());  // not dead
  EXPECT_FALSE(store->get_delivery("tn_a", "msg_missing")->has_value());
  EXPECT_FALSE(store->get_dead_letter("tn_a", "msg_missing")->has_value());
}

TEST_P(JournalContract, RecordsOfAVanishedTenantAreSkipped) {
  write({update(delivery("tn_a", 1))});
  DeliveryUpdate gone = update(delivery("tn_gone", 2, DeliveryStatus::kDead), {attempt(1, 1, 500)});
  gone.dead_body = "x";
  write({gone, update(delivery("tn_b", 3))});
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 2);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 0);  // no dead letter either
  EXPECT_TRUE(store->get_attempts(gone.record.id)->empty());
  EXPECT_FALSE(store->get_delivery("tn_gone", gone.record.id)->has_value());
  EXPECT_TRUE(store->get_delivery("tn_a", delivery("tn_a", 1).id)->has_value());
  EXPECT_TRUE(store->get_delivery("tn_b", delivery("tn_b", 3).id)->has_value());
}

TEST_P(JournalContract, CountsByStatus) {
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 0);
  std::vector<DeliveryUpdate> batch;
  for (int i = 1; i <= 20; ++i) {
    DeliveryStatus st = i <= 3   ? DeliveryStatus::kDead
                        : i <= 5 ? DeliveryStatus::kLost
                        : i <= 9 ? DeliveryStatus::kPending
                                 : DeliveryStatus::kDelivered;
    DeliveryUpdate u = update(delivery(i % 2 ? "tn_a" : "tn_b", i, st));
    if (st == DeliveryStatus::kDead) u.dead_body = "body-" + std::to_string(i);
    batch.push_back(u);
  }
  write(batch);
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 20);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 3);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kLost), 2);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kPending), 4);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDelivered), 11);
  EXPECT_EQ(read("tn_a", delivery("tn_a", 5).id).status, DeliveryStatus::kLost);
}

TEST_P(JournalContract, TenThousandRecordsInOneBatch) {
  std::vector<DeliveryUpdate> batch;
  for (int i = 0; i < 10'000; ++i) {
    DeliveryRecord d = delivery(i % 2 ? "tn_a" : "tn_b", i);
    d.id = new_id("msg_", 1'700'000'000'000 + i);
    d.status = i % 10 == 0 ? DeliveryStatus::kDead : DeliveryStatus::kDelivered;
    d.attempts = 1;
    DeliveryUpdate u =
        update(d, {attempt(1, d.created_at_ms, d.status == DeliveryStatus::kDead ? 500 : 200)});
    if (d.status == DeliveryStatus::kDead) u.dead_body = std::string(512, 'j');
    batch.push_back(u);
  }
  write(batch);
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 10'000);
  EXPECT_EQ(*store->count_deliveries(DeliveryStatus::kDead), 1'000);
  const DeliveryRecord& last = batch.back().record;
  auto page = store->list_deliveries("tn_a", std::nullopt, 1, std::nullopt);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->data.size(), 1u);
  expect_same(page->data[0], last);
  EXPECT_EQ(store->get_attempts(last.id)->size(), 1u);
  EXPECT_EQ((*store->get_dead_letter("tn_b", batch[0].record.id))->body, std::string(512, 'j'));
}

TEST_P(JournalContract, SeveralThreadsShareTheStore) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(store->write_deliveries({update(delivery("tn_a", t * 1000 + i))}).ok());
        EXPECT_TRUE(store->list_deliveries("tn_a", std::nullopt, 5, std::nullopt).ok());
        EXPECT_TRUE(store->ping().ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(*store->count_deliveries(std::nullopt), 200);
}

INSTANTIATE_TEST_SUITE_P(Backends, JournalContract, ::testing::ValuesIn(kStoreBackends),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sealhook::contract
