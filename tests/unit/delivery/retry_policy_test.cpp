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

// RFC 9110 §5.6.7: a recipient accepts all three HTTP-date forms. 1445412480 s is
// Wed, 21 Oct 2015 07:28:00 GMT.
TEST(RetryAfter, AcceptsAllThreeHttpDateForms) {
  const int64_t at = 1445412480'000;
  for (const char* date : {"Wed, 21 Oct 2015 07:28:00 GMT", "Wednesday, 21-Oct-15 07:28:00 GMT",
                           "Wed Oct 21 07:28:00 2015", " Wed, 21 Oct 2015 07:28:00 GMT\t"}) {
    EXPECT_EQ(parse_retry_after(date, at - 90'000), 90'000) << date;
    EXPECT_EQ(parse_retry_after(date, at + 1), 0) << date;  // in the past: no wait
  }
  // asctime pads a one-digit day with a space; a date at the start of a month.
  EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", 784111777'000 - 2000), 2000);
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111777'000 - 2000), 2000);
  EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", 784111777'000 - 2000), 2000);
}

// Two-digit years: the latest year with those digits not more than 50 years after now.
TEST(RetryAfter, ReadsRfc850YearsRelativeToNow) {
  const int64_t y2070 = 3'155'760'000'000;  // 2070-01-01T00:00:00Z
  EXPECT_EQ(parse_retry_after("Thursday, 01-Jan-70 00:00:10 GMT", y2070), 10'000);  // 2070
  // From 2015, "99" is 1999 (2099 is more than 50 years away): in the past, no wait.
  EXPECT_EQ(parse_retry_after("Friday, 31-Dec-99 23:59:59 GMT", 1445412480'000), 0);
  EXPECT_EQ(parse_retry_after("Tuesday, 31-Dec-30 23:59:59 GMT", 1445412480'000),
            int64_t{1924991999 - 1445412480} * 1000);  // 2030
}

TEST(RetryAfter, RefusesMalformedDates) {
  for (const char* bad : {"Wed, 21 Oct 2015 07:28:00", "Wed, 21 Oct 2015 07:28:00 UTC",
                          "Wed, 21 Oct 2015 7:28:00 GMT", "Wed, 31 Feb 2015 07:28:00 GMT",
                          "Wed, 21 Foo 2015 07:28:00 GMT", "Wed, 21 Oct 2015 24:00:00 GMT",
                          "Wed, 21 Oct 2015 07:60:00 GMT", "Wed, 21 Oct 15 07:28:00 GMT",
                          "Wed, 21-Oct-2015 07:28:00 GMT", "Wed Oct 21 07:28:00 15",
                          "Wed, 21 Oct 2015 07:28:00 GMT x", "We, 21 Oct 2015 07:28:00 GMT", "1.5",
                          "7s", "Wed Oct 21 07:28:00 2015 GMT"})
    EXPECT_FALSE(parse_retry_after(bad, 0).has_value()) << bad;
}

}  // namespace
}  // namespace sealhook::delivery
