#include "core/ids.hpp"

#include <gtest/gtest.h>

namespace sealhook {
namespace {

TEST(Ids, PrefixedAndSortableByTime) {
  auto a = new_id("msg_", 1'000);
  auto b = new_id("msg_", 2'000);
  EXPECT_TRUE(is_id(a, "msg_"));
  EXPECT_FALSE(is_id(a, "ep_"));
  EXPECT_LT(a, b);
  EXPECT_NE(new_id("msg_", 1'000), new_id("msg_", 1'000));
}

TEST(Ids, RejectsMalformed) {
  EXPECT_FALSE(is_id("msg_", "msg_"));
  EXPECT_FALSE(is_id("msg_0000000000000000000000000u", "msg_"));  // lowercase not Crockford
  EXPECT_FALSE(is_id("msg_../../etc/passwd", "msg_"));
}

TEST(Ids, TokensAreLongAndDistinct) {
  auto t = random_token("shk_", 24);
  EXPECT_EQ(t.size(), 4u + 32u);
  EXPECT_NE(t, random_token("shk_", 24));
}

TEST(Ids, Sha256AndConstantTimeEqual) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
}

}  // namespace
}  // namespace sealhook
