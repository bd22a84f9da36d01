#include "net/server_limits.hpp"

#include <gtest/gtest.h>

namespace sealhook::net {
namespace {

TEST(HttpLimits, ByteBudgetTakesOnlyWhatIsLeft) {
  ByteBudget b(1000);
  EXPECT_TRUE(b.try_take(600));
  EXPECT_FALSE(b.try_take(401));
  EXPECT_TRUE(b.try_take(400));
  EXPECT_FALSE(b.try_take(1));
  b.give(600);
  EXPECT_EQ(b.used(), 400u);
  EXPECT_FALSE(b.try_take(SIZE_MAX));
  EXPECT_TRUE(b.try_take(600));
}

TEST(HttpLimits, ClientSlotsCountPerAddress) {
  ClientSlots slots(2);
  auto a = boost::asio::ip::make_address("127.0.0.1");
  auto b = boost::asio::ip::make_address("::1");
  EXPECT_TRUE(slots.try_take(a));
  EXPECT_TRUE(slots.try_take(a));
  EXPECT_FALSE(slots.try_take(a));
  EXPECT_TRUE(slots.try_take(b));
  slots.give(a);
  EXPECT_TRUE(slots.try_take(a));
}

}  // namespace
}  // namespace sealhook::net
