#include "api/read_limit.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sealhook::api {
namespace {

TEST(ReadLimit, ABurstGoesAtOnceThenTheRateHolds) {
  ReadLimit limit(10, 3);  // 10/s: a token every 100 ms
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.take("t1", 1'000), 0) << i;
  EXPECT_EQ(limit.take("t1", 1'000), 100);  // the next token in 100 ms
  EXPECT_EQ(limit.take("t1", 1'040), 60);
  EXPECT_EQ(limit.take("t1", 1'100), 0);
  EXPECT_EQ(limit.take("t1", 1'100), 100);
  EXPECT_EQ(limit.limited(), 3u);
}

TEST(ReadLimit, EachTenantHasItsOwnBucket) {
  ReadLimit limit(1, 1);
  EXPECT_EQ(limit.take("a", 0), 0);
  EXPECT_GT(limit.take("a", 0), 0);
  EXPECT_EQ(limit.take("b", 0), 0) << "another tenant's polling must not limit this one";
}

TEST(ReadLimit, AnIdleTenantRefillsOnlyUpToItsBurst) {
  ReadLimit limit(100, 2);
  EXPECT_EQ(limit.take("t", 0), 0);
  // An hour idle: two reads at once, not 360,000.
  EXPECT_EQ(limit.take("t", 3'600'000), 0);
  EXPECT_EQ(limit.take("t", 3'600'000), 0);
  EXPECT_EQ(limit.take("t", 3'600'000), 10);
}

TEST(ReadLimit, AClockGoingBackGivesNoExtraTokens) {
  ReadLimit limit(1, 1);
  EXPECT_EQ(limit.take("t", 10'000), 0);
  EXPECT_GT(limit.take("t", 5'000), 0);
  EXPECT_GT(limit.take("t", 10'500), 0);
  EXPECT_EQ(limit.take("t", 11'000), 0);
}

TEST(ReadLimit, FullBucketsAreDroppedSoTheMapStaysBounded) {
  ReadLimit limit(1000, 1);
  for (int i = 0; i < 5000; ++i) EXPECT_EQ(limit.take("t" + std::to_string(i), i * 10), 0);
  // Each bucket was full again 1 ms after its read: pruned as the map grew.
  EXPECT_LT(limit.tracked(), 2048u);
  EXPECT_EQ(limit.take("t4999", 49'990), 1) << "a recent reader keeps its bucket";
}

}  // namespace
}  // namespace sealhook::api
