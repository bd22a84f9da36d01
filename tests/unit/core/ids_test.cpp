#include "core/ids.hpp"
#include "core/id_set.hpp"

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

TEST(Ids, BitsGiveTheIdBack) {
  for (int i = 0; i < 100; ++i) {
    auto id = new_id("msg_", 1'700'000'000'000 + i);
    auto bits = id_bits(id, "msg_");
    ASSERT_TRUE(bits.has_value()) << id;
    EXPECT_EQ(id_from_bits("msg_", *bits), id);
  }
  EXPECT_FALSE(id_bits("msg_old", "msg_").has_value());
  EXPECT_FALSE(id_bits(new_id("ep_", 1), "msg_").has_value());
  // A first character above 7 holds more than the 2 bits new_id leaves there.
  EXPECT_FALSE(id_bits("msg_80000000000000000000000000", "msg_").has_value());
  EXPECT_TRUE(id_bits("msg_70000000000000000000000000", "msg_").has_value());
}

TEST(Ids, IdSetHoldsPackedAndOtherIds) {
  IdSet set;
  std::vector<std::string> in;
  for (int i = 0; i < 1000; ++i) in.push_back(new_id("msg_", i));
  for (const auto& id : in) set.add(id);
  set.add("later");
  set.add("msg_80000000000000000000000000");
  set.seal();
  for (const auto& id : in) EXPECT_TRUE(set.contains(id));
  EXPECT_TRUE(set.contains("later"));
  EXPECT_TRUE(set.contains("msg_80000000000000000000000000"));
  EXPECT_FALSE(set.contains("nope"));
  EXPECT_FALSE(set.contains(new_id("msg_", 5)));
  EXPECT_EQ(set.size(), 1002u);
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
