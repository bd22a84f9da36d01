#include "catalog/event_types.hpp"

#include <gtest/gtest.h>

namespace sealhook {
namespace {

TEST(EventTypes, PatternsMatchExactlyOrBySuffixWildcard) {
  EXPECT_TRUE(pattern_matches("*", "anything.at.all"));
  EXPECT_TRUE(pattern_matches("invoice.*", "invoice.paid"));
  EXPECT_FALSE(pattern_matches("invoice.*", "invoices.paid"));
  EXPECT_TRUE(pattern_matches("order.created", "order.created"));
  EXPECT_FALSE(pattern_matches("order.created", "order.created.v2"));
  EXPECT_FALSE(any_pattern_matches({}, "a"));
}

TEST(EventTypes, Validation) {
  EXPECT_TRUE(is_valid_event_type("order.created_v2:eu-1"));
  EXPECT_FALSE(is_valid_event_type(""));
  EXPECT_FALSE(is_valid_event_type("a b"));
  EXPECT_FALSE(is_valid_event_type("a*"));
  EXPECT_FALSE(is_valid_event_type(std::string(257, 'a')));
  EXPECT_TRUE(is_valid_pattern("invoice.*"));
  EXPECT_FALSE(is_valid_pattern("*.paid"));
  auto n = normalize_patterns({"a", "b.*", "a"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, (std::vector<std::string>{"a", "b.*"}));
  EXPECT_EQ(normalize_patterns({"bad pattern"}).error().code, "invalid_event_type");
  EXPECT_EQ(normalize_patterns(std::vector<std::string>(300, "a")).error().code,
            "too_many_event_types");
}

}  // namespace
}  // namespace sealhook
