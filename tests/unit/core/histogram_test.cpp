#include "core/histogram.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sealhook {
namespace {

TEST(Histogram, BoundsAreInclusiveAndCountsCumulative) {
  Histogram h({10, 100, 1'000});
  for (int64_t v : {0, 10, 11, 100, 999, 1'000, 1'001, 50'000}) h.observe_ms(v);
  auto s = h.snapshot();
  EXPECT_EQ(s.bounds_s, (std::vector<double>{0.01, 0.1, 1.0}));
  // le=0.01: 0, 10; le=0.1: + 11, 100; le=1: + 999, 1000; +Inf: + 1001, 50000.
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{2, 4, 6, 8}));
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.sum_s, (0 + 10 + 11 + 100 + 999 + 1'000 + 1'001 + 50'000) / 1000.0);
}

TEST(Histogram, EmptyHasZeroEverywhere) {
  Histogram h(Histogram::default_bounds_ms());
  auto s = h.snapshot();
  EXPECT_EQ(s.cumulative.size(), Histogram::default_bounds_ms().size() + 1);
  for (uint64_t c : s.cumulative) EXPECT_EQ(c, 0u);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.sum_s, 0.0);
}

TEST(Histogram, NegativeValuesCountAsZero) {
  Histogram h({1});
  h.observe_ms(-5);
  auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{1, 1}));
  EXPECT_EQ(s.sum_s, 0.0);
}

TEST(Histogram, DefaultBoundsAscend) {
  auto b = Histogram::default_bounds_ms();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

TEST(Histogram, ConcurrentObservationsAreAllCounted) {
  Histogram h({5, 50});
  constexpr int kThreads = 4, kEach = 100'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&h, t] {
      for (int i = 0; i < kEach; ++i) h.observe_ms((i + t) % 100);
    });
  for (auto& t : threads) t.join();
  auto s = h.snapshot();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kEach);
  // Of each 100 consecutive values 0..99, 6 are <= 5 and 51 are <= 50.
  EXPECT_EQ(s.cumulative[0], uint64_t{kThreads} * kEach / 100 * 6);
  EXPECT_EQ(s.cumulative[1], uint64_t{kThreads} * kEach / 100 * 51);
  EXPECT_DOUBLE_EQ(s.sum_s, double{kThreads} * kEach / 100 * (99 * 100 / 2) / 1000.0);
}

}  // namespace
}  // namespace sealhook
