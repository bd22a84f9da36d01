// Adaptive concurrency's arithmetic, time given by hand: it starts at the maximum, an overload
// halves it once a round, a fast 2xx grows it by one a round, a Retry-After holds the endpoint,
// and other answers leave it.
#include "delivery/concurrency_limiter.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sealhook::delivery {
namespace {

constexpr int64_t kLimiterT0 = 1'700'000'000'000;

SendResult answer(int status, int64_t ms = 5, std::optional<std::string> retry_after = {}) {
  return SendResult{status, "", std::move(retry_after), std::chrono::milliseconds(ms)};
}

ConcurrencyOptions options(int max) {
  return ConcurrencyOptions{.max = max, .fast_ms = 100, .max_wait_ms = 50, .max_hold_ms = 10'000};
}

// Takes every slot the endpoint has now; answers their rounds.
std::vector<uint64_t> fill(ConcurrencyLimiter& c, const std::string& ep, int64_t now) {
  std::vector<uint64_t> rounds;
  for (;;) {
    auto a = c.acquire(ep, now);
    if (!a.go) {
      EXPECT_FALSE(a.held);
      EXPECT_GT(a.wait_ms, now);  // a turn later than now, within the longest wait
      EXPECT_LE(a.wait_ms, now + c.options().max_wait_ms);
      return rounds;
    }
    rounds.push_back(a.round);
  }
}

TEST(ConcurrencyLimiter, StartsAtTheMaximumAndAnOverloadedRoundHalvesItOnce) {
  ConcurrencyLimiter c(options(16));
  auto rounds = fill(c, "ep", kLimiterT0);
  ASSERT_EQ(rounds.size(), 16u);
  // All sixteen answered 503 together: one cut, not sixteen.
  for (uint64_t r : rounds) c.release("ep", r, answer(503), kLimiterT0);
  EXPECT_EQ(c.limit("ep"), 8);
  EXPECT_EQ(c.cuts(), 1u);
  EXPECT_EQ(c.reduced(), 1u);
  EXPECT_EQ(fill(c, "ep", kLimiterT0).size(), 8u);
  // Each overload class cuts (in a round of its own), down to 1 and never below.
  std::vector<SendResult> overloads = {answer(429), answer(502), answer(504),
                                       SendResult{0, "timeout", {}, {}}, answer(503)};
  for (const auto& o : overloads) {
    auto a = c.acquire("other", kLimiterT0);
    c.release("other", a.round, o, kLimiterT0);
  }
  EXPECT_EQ(c.limit("other"), 1);  // 16 -> 8 -> 4 -> 2 -> 1, and the fifth leaves it at 1
  EXPECT_EQ(c.cuts(), 5u);         // one for "ep", four for "other": a cut at 1 is none
}

TEST(ConcurrencyLimiter, OtherAnswersLeaveItAndFastSuccessesGrowItOneARound) {
  ConcurrencyLimiter c(options(8));
  {  // down to 2
    auto a = c.acquire("ep", kLimiterT0);
    c.release("ep", a.round, answer(503), kLimiterT0);
    a = c.acquire("ep", kLimiterT0);
    c.release("ep", a.round, answer(503), kLimiterT0);
  }
  ASSERT_EQ(c.limit("ep"), 2);
  for (const auto& r :
       {answer(500), answer(404), answer(200, 101), SendResult{0, "connect: refused", {}, {}}}) {
    auto a = c.acquire("ep", kLimiterT0);
    c.release("ep", a.round, r, kLimiterT0);
  }
  EXPECT_EQ(c.limit("ep"), 2);  // a 500, a 404, a slow 2xx, a refused connection: unchanged
  // Two fast successes at 2: one more.
  for (int i = 0; i < 2; ++i) {
    auto a = c.acquire("ep", kLimiterT0);
    c.release("ep", a.round, answer(200), kLimiterT0);
  }
  EXPECT_EQ(c.limit("ep"), 3);
  // Back to the top, where it stops; the endpoint is then forgotten.
  for (int i = 0; i < 100; ++i) {
    auto a = c.acquire("ep", kLimiterT0);
    c.release("ep", a.round, answer(204), kLimiterT0);
  }
  EXPECT_EQ(c.limit("ep"), 8);
  EXPECT_EQ(c.reduced(), 0u);
}

TEST(ConcurrencyLimiter, CutsInOneRoundFromAnEarlierOneCountOnce) {
  ConcurrencyLimiter c(options(64));
  auto early = fill(c, "ep", kLimiterT0);  // 64 in flight, round 0
  c.release("ep", early.back(), answer(503), kLimiterT0);
  early.pop_back();
  EXPECT_EQ(c.limit("ep"), 32);
  // The other 63 of round 0 answer 503 too, while one of round 1 is sent: no further cut...
  for (uint64_t r : early) c.release("ep", r, answer(503), kLimiterT0);
  EXPECT_EQ(c.limit("ep"), 32);
  // ...until an attempt started after the cut is overloaded too.
  auto a = c.acquire("ep", kLimiterT0);
  EXPECT_EQ(a.round, 1u);
  c.release("ep", a.round, answer(503), kLimiterT0);
  EXPECT_EQ(c.limit("ep"), 16);
}

TEST(ConcurrencyLimiter, DeliveriesOverTheLimitAreGivenTurnsAtThePaceOfItsAnswers) {
  ConcurrencyLimiter c(ConcurrencyOptions{.max = 4, .fast_ms = 100, .max_wait_ms = 1000});
  auto rounds = fill(c, "ep", kLimiterT0 - 1000);
  // Three answer in 20 ms each, the fourth stays in flight (an endpoint with nothing in flight
  // at the top of its limit is forgotten, answer time and all).
  for (int i = 0; i < 3; ++i) c.release("ep", rounds[i], answer(200, 20), kLimiterT0);
  fill(c, "ep", kLimiterT0 - 1000);
  // Four in flight answering in 20 ms: a slot about every 5 ms, one turn each.
  std::vector<int64_t> turns;
  for (int i = 0; i < 5; ++i) turns.push_back(c.acquire("ep", kLimiterT0).wait_ms - kLimiterT0);
  EXPECT_EQ(turns, (std::vector<int64_t>{5, 10, 15, 20, 25}));
  // Never further than the longest wait; later, the turns start from now again.
  for (int i = 0; i < 500; ++i) EXPECT_LE(c.acquire("ep", kLimiterT0).wait_ms, kLimiterT0 + 1000);
  EXPECT_EQ(c.acquire("ep", kLimiterT0 + 5000).wait_ms, kLimiterT0 + 5005);
}

TEST(ConcurrencyLimiter, RetryAfterHoldsTheEndpointUntilThenWithinItsBound) {
  ConcurrencyLimiter c(options(8));
  auto a = c.acquire("ep", kLimiterT0);
  c.release("ep", a.round, answer(429, 5, "2"), kLimiterT0);
  auto held = c.acquire("ep", kLimiterT0 + 1000);
  EXPECT_FALSE(held.go);
  EXPECT_TRUE(held.held);
  EXPECT_EQ(held.wait_ms, kLimiterT0 + 2000);
  EXPECT_TRUE(c.acquire("ep", kLimiterT0 + 2000).go);
  // A Retry-After of a day holds 10 s (max_hold_ms) at most; a 500's Retry-After holds nothing.
  a = c.acquire("far", kLimiterT0);
  c.release("far", a.round, answer(503, 5, "86400"), kLimiterT0);
  EXPECT_EQ(c.acquire("far", kLimiterT0).wait_ms, kLimiterT0 + 10'000);
  a = c.acquire("plain", kLimiterT0);
  c.release("plain", a.round, answer(500, 5, "60"), kLimiterT0);
  EXPECT_TRUE(c.acquire("plain", kLimiterT0).go);
}

TEST(ConcurrencyLimiter, GivingBackASlotFreesItWithoutAdapting) {
  ConcurrencyLimiter c(options(2));
  ASSERT_EQ(fill(c, "ep", kLimiterT0).size(), 2u);
  c.give_back("ep");
  EXPECT_TRUE(c.acquire("ep", kLimiterT0).go);
  EXPECT_EQ(c.limit("ep"), 2);
  EXPECT_EQ(c.cuts(), 0u);
}

}  // namespace
}  // namespace sealhook::delivery
