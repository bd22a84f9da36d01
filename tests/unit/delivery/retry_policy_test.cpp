#include "delivery/retry_policy.hpp"

#include <gtest/gtest.h>

namespace sealhook::delivery {
namespace {

TEST(RetryPolicy, DoublesFromBaseUpToMaxWithoutJitter) {
  RetryPolicy p({.base_ms = 1000, .max_delay_ms = 3'600'000, .jitter = 0.2}, [] { return 0.0; });
  EXPECT_EQ(p.delay_ms(1), 1000);
  EXPECT_EQ(p.delay_ms(2), 2000);
  EXPECT_EQ(p.delay_ms(3), 4000);
  EXPECT_EQ(p.delay_ms(5), 16000);  // the original's 1, 2, 4, 8, 16 s
  EXPECT_EQ(p.delay_ms(13), 3'600'000);
  EXPECT_EQ(p.delay_ms(1000), 3'600'000);  // no overflow far past the cap
}

TEST(RetryPolicy, JitterShortensByAtMostItsFraction) {
  double u = 0.999999;
  RetryPolicy p({.base_ms = 1000, .max_delay_ms = 60'000, .jitter = 0.2}, [&] { return u; });
  EXPECT_EQ(p.delay_ms(1), 800);  // 1000 * (1 - 0.2 * 0.999999) = 800.0002
  u = 0.5;
  EXPECT_EQ(p.delay_ms(3), 3600);
  u = 0.0;
  EXPECT_EQ(p.delay_ms(3), 4000);
}

TEST(RetryPolicy, RetryAfterIsHonouredButCapped) {
  RetryPolicy p({.base_ms = 1000, .max_delay_ms = 60'000, .jitter = 0.2}, [] { return 0.0; });
  EXPECT_EQ(p.delay_ms(1, 7000), 7000);           // longer than backoff: wait as asked
  EXPECT_EQ(p.delay_ms(4, 1000), 8000);           // shorter: backoff still applies
  EXPECT_EQ(p.delay_ms(1, 999'999'999), 60'000);  // capped at max_delay
}

TEST(RetryAfter, ParsesSecondsAndHttpDates) {
  EXPECT_EQ(parse_retry_after("7", 0), 7000);
  EXPECT_EQ(parse_retry_after(" 120 ", 0), 120'000);
  // 2015-10-21T07:28:00Z = 1445412480 s
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480'000 - 5000), 5000);
  EXPECT_EQ(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480'000 + 5000), 0);
  EXPECT_FALSE(parse_retry_after("", 0).has_value());
  EXPECT_FALSE(parse_retry_after("-1", 0).has_value());
  EXPECT_FALSE(parse_retry_after("soon", 0).has_value());
  EXPECT_FALSE(parse_retry_after("99999999999999999999999", 0).has_value());
}

}  // namespace
}  // namespace sealhook::delivery
