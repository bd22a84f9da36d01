#include "queue/kafka/push_deadlines.hpp"

#include <gtest/gtest.h>

namespace sealhook::kafka {
namespace {

using std::chrono::milliseconds;
const PushDeadlines::Time t0{};

TEST(PushDeadlines, AnUnansweredPushIsClaimedOnceItsDeadlinePassed) {
  PushDeadlines d;
  auto a = std::make_shared<Answer>();
  d.add(a, t0 + milliseconds(2000));
  EXPECT_TRUE(d.expired(t0 + milliseconds(1999)).empty());
  auto out = d.expired(t0 + milliseconds(2000));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], a);
  EXPECT_FALSE(a->claim()) << "the deadline gave the answer: a late delivery report gives none";
  EXPECT_TRUE(d.expired(t0 + milliseconds(9000)).empty()) << "claimed once only";
  EXPECT_EQ(d.size(), 0u);
}

TEST(PushDeadlines, APushAnsweredInTimeIsNotClaimedAgain) {
  PushDeadlines d;
  auto answered = std::make_shared<Answer>();
  auto waiting = std::make_shared<Answer>();
  d.add(answered, t0 + milliseconds(100));
  d.add(waiting, t0 + milliseconds(200));
  EXPECT_TRUE(answered->claim());  // its delivery reports came first
  auto out = d.expired(t0 + milliseconds(300));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], waiting);
}

TEST(PushDeadlines, OnlyThoseDueAreClaimedAndAPushGoneIsDropped) {
  PushDeadlines d;
  auto first = std::make_shared<Answer>();
  auto later = std::make_shared<Answer>();
  d.add(std::make_shared<Answer>(), t0 + milliseconds(50));  // gone at once
  d.add(first, t0 + milliseconds(100));
  d.add(later, t0 + milliseconds(500));
  auto out = d.expired(t0 + milliseconds(100));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], first);
  EXPECT_EQ(d.size(), 1u);
  EXPECT_EQ(d.expired(t0 + milliseconds(500)), std::vector<std::shared_ptr<Answer>>{later});
}

}  // namespace
}  // namespace sealhook::kafka
