#include "core/json_text.hpp"

#include <gtest/gtest.h>

namespace sealhook {
namespace {

std::string text_of(std::string_view body, std::string_view key = "payload") {
  auto r = member_text(body, key);
  EXPECT_TRUE(r.ok());
  return r.ok() && r->has_value() ? std::string(**r) : "<none>";
}

TEST(MemberText, NumbersAndSpacingAreKeptByteForByte) {
  EXPECT_EQ(text_of(R"({"type":"a","payload":1e400})"), "1e400");
  EXPECT_EQ(text_of(R"({"payload": 123456789012345678901234567890 ,"type":"a"})"),
            "123456789012345678901234567890");
  EXPECT_EQ(text_of(R"({"payload":0.1})"), "0.1");
  EXPECT_EQ(text_of("{ \"payload\" :\n {\"a\" : [1, 2.50, {\"b\":null}]} }"),
            "{\"a\" : [1, 2.50, {\"b\":null}]}");
  EXPECT_EQ(text_of(R"({"payload":"x\"}]\\"})"), R"("x\"}]\\")");
  EXPECT_EQ(text_of(R"({"payload":[]})"), "[]");
  EXPECT_EQ(text_of(R"({"payload":true,"id":"k"})"), "true");
  EXPECT_EQ(text_of(R"({"payload":-0.0e-0})"), "-0.0e-0");
}

TEST(MemberText, FindsTheTopLevelMemberOnly) {
  EXPECT_EQ(text_of(R"({"x":{"payload":1},"payload":2})"), "2");
  EXPECT_EQ(text_of(R"({"x":"\"payload\":3","payload":4})"), "4");
  EXPECT_EQ(text_of(R"({"type":"a"})"), "<none>");
  EXPECT_EQ(text_of(R"({})"), "<none>");
  // An escaped key is the same key.
  EXPECT_EQ(text_of(R"({"pay\u006coad":5})"), "5");
}

TEST(MemberText, ADuplicateKeyIs400) {
  auto r = member_text(R"({"payload":1,"payload":2})", "payload");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "duplicate_field");
  EXPECT_EQ(r.error().kind, ErrorKind::kBadRequest);
}

}  // namespace
}  // namespace sealhook
