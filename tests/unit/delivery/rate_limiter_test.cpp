// The rate limiter's arithmetic, time given by hand: the burst goes at once, the rest each at
// its own turn at the rate (kept for it), endpoints apart, and reservations bounded.
#include "delivery/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace sealhook::delivery {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

TEST(RateLimiter, TheBurstGoesAtOnceAndTheRestEachAtItsTurn) {
  RateLimiter r;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(r.admit("ep", "d" + std::to_string(i), 50, 5, kT0), 0);
  EXPECT_EQ(r.admit("ep", "d5", 50, 5, kT0), kT0 + 20);  // 50/s: one every 20 ms
  EXPECT_EQ(r.admit("ep", "d6", 50, 5, kT0), kT0 + 40);
  EXPECT_EQ(r.admit("ep", "d5", 50, 5, kT0 + 10), kT0 + 20);  // early: its turn stays
  EXPECT_EQ(r.admit("ep", "d5", 50, 5, kT0 + 20), 0);         // its turn: it goes
  EXPECT_EQ(r.admit("ep", "d7", 50, 5, kT0 + 20), kT0 + 60);  // d6's turn is taken
  EXPECT_EQ(r.reserved(), 2u);
  // d6 claims its turn (kT0 + 40) too late, a second after: it asks again, and waits its turn
  // behind d7's instead of going at once beside every other late one.
  EXPECT_EQ(r.admit("ep", "d6", 50, 5, kT0 + 1040), 0);  // the bucket has refilled meanwhile
  EXPECT_EQ(r.reserved(), 1u);
  // Late claims of a whole backlog do not go at once.
  RateLimiter late;
  for (int i = 0; i < 20; ++i) late.admit("ep", "l" + std::to_string(i), 50, 5, kT0);
  int went = 0;
  for (int i = 5; i < 20; ++i)
    went += late.admit("ep", "l" + std::to_string(i), 50, 5, kT0 + 5000) == 0;
  EXPECT_LE(went, 5);  // the burst, not the fifteen whose turns passed
  // Another endpoint has a bucket of its own.
  EXPECT_EQ(r.admit("other", "x", 50, 5, kT0 + 20), 0);
}

TEST(RateLimiter, AdmitsAtMostTheRateAndTheBurstInAnyWindowUnderEndlessDemand) {
  RateLimiter r;
  int sent = 0;
  std::map<int64_t, int> per_second;
  std::vector<std::pair<int64_t, std::string>> waiting;  // (turn, id)
  int next_id = 0;
  for (int64_t now = kT0; now < kT0 + 10'000; now += 5) {  // demand: 10 new every 5 ms
    for (int i = 0; i < 10; ++i) waiting.emplace_back(now, "d" + std::to_string(next_id++));
    std::vector<std::pair<int64_t, std::string>> later;
    for (auto& [turn, id] : waiting) {
      if (turn > now) {
        later.emplace_back(turn, id);
        continue;
      }
      int64_t again = r.admit("ep", id, 50, 10, now);
      if (again == 0) {
        sent++;
        per_second[(now - kT0) / 1000]++;
      } else {
        later.emplace_back(again, id);
      }
    }
    waiting.swap(later);
    if (waiting.size() > 20'000) waiting.resize(20'000);  // what the queue would hold back
  }
  EXPECT_GE(sent, 50 * 10 - 5);
  EXPECT_LE(sent, 50 * 10 + 10);
  EXPECT_LE(per_second[0], 50 + 10);  // the first second: the burst on top
  for (int s = 1; s < 10; ++s) EXPECT_LE(per_second[s], 51) << s;
}

TEST(RateLimiter, ReservesNoFurtherThanAMinuteAhead) {
  RateLimiter r;
  EXPECT_EQ(r.admit("ep", "first", 1, 1, kT0), 0);
  for (int i = 1; i <= 60; ++i)
    EXPECT_EQ(r.admit("ep", "d" + std::to_string(i), 1, 1, kT0), kT0 + 1000 * i) << i;
  EXPECT_EQ(r.admit("ep", "late", 1, 1, kT0), kT0 + 60'000);  // unreserved: asks again then
  EXPECT_EQ(r.reserved(), 60u);
  EXPECT_EQ(r.admit("ep", "late", 1, 1, kT0 + 60'000), kT0 + 61'000);  // after d60 now
}

}  // namespace
}  // namespace sealhook::delivery
