// The store contract: idempotency keys, reserved atomically before a publish fans out, answered
// after it, released when it fails; expired answers and stale reservations taken over.
#include "contract/store_contract.hpp"

namespace sealhook::contract {
namespace {

using R = Reservation;

// The state as an int: -1 when the call failed.
int reserve(Store& s, const std::string& scope, const std::string& key, const std::string& hash,
            int64_t now, int64_t expired_before, int64_t stale_before) {
  auto r = s.reserve_idempotency(scope, key, hash, now, expired_before, stale_before);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? static_cast<int>(r->state) : -1;
}

TEST_P(StoreContract, IdempotencyWindow) {
  // Reserved at 1000 (nothing expired, no reservation stale); held while in progress.
  EXPECT_EQ(reserve(*store, "tn_a", "key-1", "h", 1000, 0, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "tn_a", "key-1", "h", 1000, 0, 0), R::kInProgress);
  ASSERT_TRUE(store->complete_idempotency("tn_a", "key-1", R"({"event_id":"evt_1"})").ok());
  auto hit = store->reserve_idempotency("tn_a", "key-1", "h", 1000, 1000, 0);  // created 1000: kept
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(hit->state, R::kDone);
  EXPECT_EQ(hit->response_json, R"({"event_id":"evt_1"})");
  EXPECT_EQ(reserve(*store, "admin", "key-1", "h", 1000, 0, 0), R::kReserved);  // other scope
  ASSERT_TRUE(store->release_idempotency("admin", "key-1").ok());
  ASSERT_TRUE(store->release_idempotency("tn_a", "key-1").ok());  // an answer is not released
  EXPECT_EQ(reserve(*store, "tn_a", "key-1", "h", 1000, 1000, 0), R::kDone);

  // An expired answer may be reused: created before expired_before (1000 < 1001).
  EXPECT_EQ(reserve(*store, "tn_a", "key-1", "h", 5000, 1001, 0), R::kReserved);
  ASSERT_TRUE(store->complete_idempotency("tn_a", "key-1", R"({"event_id":"evt_2"})").ok());
  EXPECT_EQ(store->reserve_idempotency("tn_a", "key-1", "h", 5000, 4000, 0)->response_json,
            R"({"event_id":"evt_2"})");
  EXPECT_EQ(reserve(*store, "tn_a", "key-1", "h", 5000, 5000, 0), R::kDone);  // 5000: not before

  // A reservation whose publish died is taken over once stale, not before.
  EXPECT_EQ(reserve(*store, "tn_a", "key-2", "h", 100, 0, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "tn_a", "key-2", "h", 200, 0, 100), R::kInProgress);
  EXPECT_EQ(reserve(*store, "tn_a", "key-2", "h", 200, 0, 101), R::kReserved);
  // Taken over at 200: stale again only for a bound past 200.
  EXPECT_EQ(reserve(*store, "tn_a", "key-2", "h", 300, 0, 150), R::kInProgress);
  // A released one is free at once.
  ASSERT_TRUE(store->release_idempotency("tn_a", "key-2").ok());
  EXPECT_EQ(reserve(*store, "tn_a", "key-2", "h", 300, 0, 0), R::kReserved);
}

TEST_P(StoreContract, PurgeDropsWhatWasCreatedBeforeTheBound) {
  EXPECT_EQ(reserve(*store, "admin", "old", "h", 10, 0, 0), R::kReserved);
  ASSERT_TRUE(store->complete_idempotency("admin", "old", "{}").ok());
  EXPECT_EQ(reserve(*store, "admin", "old-reservation", "h", 20, 0, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "tn_a", "edge", "h", 5000, 0, 0), R::kReserved);
  ASSERT_TRUE(store->complete_idempotency("tn_a", "edge", R"({"edge":1})").ok());
  ASSERT_TRUE(store->purge_idempotency(5000).ok());
  EXPECT_EQ(reserve(*store, "admin", "old", "h2", 6000, 0, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "admin", "old-reservation", "h2", 6000, 0, 0), R::kReserved);
  auto edge = store->reserve_idempotency("tn_a", "edge", "h", 6000, 0, 0);  // 5000: kept
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge->state, R::kDone);
  EXPECT_EQ(edge->response_json, R"({"edge":1})");
}

TEST_P(StoreContract, IdempotencyKeyRemembersTheRequestThatUsedIt) {
  EXPECT_EQ(reserve(*store, "admin", "k", "h1", 1000, 0, 0), R::kReserved);
  // In progress: the same request waits, another one is refused.
  EXPECT_EQ(reserve(*store, "admin", "k", "h1", 1000, 0, 0), R::kInProgress);
  EXPECT_EQ(reserve(*store, "admin", "k", "h2", 1000, 0, 0), R::kMismatch);
  ASSERT_TRUE(store->complete_idempotency("admin", "k", R"({"event_id":"evt_1"})").ok());
  auto done = store->reserve_idempotency("admin", "k", "h1", 1000, 0, 0);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, R::kDone);
  EXPECT_EQ(done->response_json, R"({"event_id":"evt_1"})");
  auto other = store->reserve_idempotency("admin", "k", "h2", 1000, 0, 0);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->state, R::kMismatch);
  EXPECT_EQ(other->response_json, "");  // another request learns nothing of the first answer
  // Past its window a key is free for any request, which it then stands for.
  EXPECT_EQ(reserve(*store, "admin", "k", "h2", 9000, 1001, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "admin", "k", "h1", 9000, 0, 0), R::kMismatch);

  // A stale reservation (its publish died) is taken over by the same request only: the dead
  // publish may have queued its deliveries.
  EXPECT_EQ(reserve(*store, "admin", "s", "h1", 100, 0, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "admin", "s", "h2", 200, 0, 101), R::kMismatch);
  EXPECT_EQ(reserve(*store, "admin", "s", "h1", 200, 0, 101), R::kReserved);
  // Once past the window itself, a reservation is a record like any other: free for any request.
  EXPECT_EQ(reserve(*store, "admin", "s", "h2", 90'000, 201, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "admin", "s", "h1", 90'000, 0, 0), R::kMismatch);
}

// A record made without a hash (before hashes were kept) matches any request.
TEST_P(StoreContract, ARecordWithoutAHashMatchesAnyRequest) {
  EXPECT_EQ(reserve(*store, "admin", "k", "", 1000, 0, 0), R::kReserved);
  EXPECT_EQ(reserve(*store, "admin", "k", "h1", 1000, 0, 0), R::kInProgress);
  EXPECT_EQ(reserve(*store, "admin", "k", "h2", 2000, 0, 1001), R::kReserved);  // stale: taken
  EXPECT_EQ(reserve(*store, "admin", "k", "h1", 2000, 0, 0), R::kMismatch);     // now h2's
  EXPECT_EQ(reserve(*store, "admin", "n", "", 1000, 0, 0), R::kReserved);
  ASSERT_TRUE(store->complete_idempotency("admin", "n", R"({"old":true})").ok());
  auto any = store->reserve_idempotency("admin", "n", "h9", 1000, 0, 0);
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->state, R::kDone);
  EXPECT_EQ(any->response_json, R"({"old":true})");
}

// Publishes with one key reach several processes at once: exactly one of them fans out, the
// others see it in progress (or, for another request, a mismatch).
TEST_P(StoreContract, ConcurrentReservationsOfOneKeyReserveItOnce) {
  constexpr int kThreads = 8;
  for (int round = 0; round < 3; ++round) {
    const std::string key = "race-" + std::to_string(round);
    std::vector<int> got(kThreads, -1);
    race(kThreads, [&](int i, Store& s) {
      // Round 2: half of them are another request with the same key.
      std::string hash = round == 2 && i % 2 ? "other" : "h";
      got[i] = reserve(s, "tn_a", key, hash, 1000 + round, 0, 0);
    });
    int reserved = 0;
    std::string winner_hash;
    for (int i = 0; i < kThreads; ++i) {
      if (got[i] == R::kReserved) {
        reserved++;
        winner_hash = round == 2 && i % 2 ? "other" : "h";
      }
    }
    ASSERT_EQ(reserved, 1) << "round " << round;
    for (int i = 0; i < kThreads; ++i) {
      if (got[i] == R::kReserved) continue;
      std::string hash = round == 2 && i % 2 ? "other" : "h";
      EXPECT_EQ(got[i], hash == winner_hash ? R::kInProgress : R::kMismatch) << i;
    }
  }
}

}  // namespace
}  // namespace sealhook::contract
