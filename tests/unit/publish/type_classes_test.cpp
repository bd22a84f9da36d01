#include "publish/type_classes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace sealhook {
namespace {

using Counts = std::vector<std::pair<std::string, uint64_t>>;

TEST(TypeClasses, FirstDotSegment) {
  EXPECT_EQ(TypeClassCounts::class_of("order.created"), "order");
  EXPECT_EQ(TypeClassCounts::class_of("order.line.added"), "order");
  EXPECT_EQ(TypeClassCounts::class_of("ping"), "ping");
}

TEST(TypeClasses, BoundedWithOtherForLaterClasses) {
  TypeClassCounts c(2);
  for (const char* t :
       {"order.created", "invoice.sent", "order.paid", "user.signup", "user.x", "invoice.void"})
    c.count(t);
  EXPECT_EQ(c.snapshot(), (Counts{{"order", 2}, {"invoice", 2}, {"other", 2}}));
}

TEST(TypeClasses, AClassNamedOtherOrEmptyIsCountedAsOther) {
  TypeClassCounts c(5);
  c.count("other.thing");
  c.count(".odd");
  c.count("a.b");
  EXPECT_EQ(c.snapshot(), (Counts{{"a", 1}, {"other", 2}}));
}

TEST(TypeClasses, ConcurrentCountsLoseNothingAndNameEachClassOnce) {
  TypeClassCounts c(3);
  constexpr int kThreads = 4, kEach = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&c] {
      const char* types[] = {"a.1", "b.1", "c.1", "d.1", "e.1"};
      for (int i = 0; i < kEach; ++i) c.count(types[i % 5]);
    });
  for (auto& t : threads) t.join();
  auto s = c.snapshot();
  ASSERT_EQ(s.size(), 4u);
  uint64_t total = 0, named = 0;
  for (const auto& [name, n] : s) {
    total += n;
    if (name != "other") {
      named++;
      EXPECT_EQ(n, uint64_t{kThreads} * kEach / 5) << name;
    }
  }
  EXPECT_EQ(named, 3u);
  EXPECT_EQ(total, uint64_t{kThreads} * kEach);
  EXPECT_EQ(s.back(),
            (std::pair<std::string, uint64_t>{"other", uint64_t{kThreads} * kEach / 5 * 2}));
}

}  // namespace
}  // namespace sealhook
