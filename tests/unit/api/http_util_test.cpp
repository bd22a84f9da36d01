#include "api/http_util.hpp"

#include <gtest/gtest.h>

#include "core/ids.hpp"

namespace sealhook::api {
namespace {

net::Request with_body(std::string body) {
  net::Request r;
  r.body() = std::move(body);
  return r;
}

TEST(RequestValidation, MalformedJsonAndNonObjectsAre400) {
  auto bad = parse_object(with_body("{\"name\": "));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kBadRequest);
  EXPECT_EQ(bad.error().code, "malformed_json");
  auto arr = parse_object(with_body("[1,2]"));
  ASSERT_FALSE(arr.ok());
  EXPECT_EQ(arr.error().code, "invalid_body");
  std::string deep(100, '[');
  EXPECT_FALSE(parse_object(with_body(deep + std::string(100, ']'))).ok());
}

TEST(RequestValidation, TypedFields) {
  auto o =
      parse_object(
          with_body(R"({"s":"x","n":5,"l":["a","b"],"bad":7,"big":1e30,"lb":[1],"f":6.0,"h":6.5})"))
          .value();
  EXPECT_EQ(required_string(o, "s").value(), "x");
  EXPECT_EQ(required_string(o, "missing").error().code, "missing_field");
  EXPECT_EQ(required_string(o, "bad").error().code, "invalid_field");
  EXPECT_EQ(optional_string(o, "s", 0).error().code, "invalid_field");  // over max length
  EXPECT_EQ(optional_int(o, "n").value(), 5);
  EXPECT_FALSE(optional_int(o, "s").ok());
  EXPECT_FALSE(optional_int(o, "big").ok());
  EXPECT_EQ(optional_int(o, "f").value(), 6);
  // Lengths count characters: 4 two-byte characters fit in 4, not in 3.
  auto u = parse_object(with_body(R"({"u":"\u00e9\u00e9\u00e9\u00e9"})")).value();
  EXPECT_EQ(optional_string(u, "u", 4).value(), "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_EQ(optional_string(u, "u", 3).error().code, "invalid_field");
  EXPECT_EQ(optional_int(o, "h").error().code, "invalid_field");
  EXPECT_EQ(optional_string_list(o, "l").value()->size(), 2u);
  EXPECT_FALSE(optional_string_list(o, "lb").ok());
  EXPECT_FALSE(optional_string_list(o, "s").ok());
  EXPECT_FALSE(only_fields(o, {"s", "n"}).ok());
  EXPECT_TRUE(only_fields(o, {"s", "n", "l", "bad", "big", "lb", "f", "h"}).ok());
}

TEST(RequestValidation, TargetsAndPages) {
  const std::string cursor = new_id("msg_", 1);
  auto t = parse_target("/v1/deliveries/msg_1/replay?limit=10&cursor=" + cursor + "&status=dead")
               .value();
  EXPECT_EQ(t.segments, (std::vector<std::string>{"v1", "deliveries", "msg_1", "replay"}));
  EXPECT_EQ(t.query.at("status"), "dead");
  auto p = page_params(t, "msg_").value();
  EXPECT_EQ(p.limit, 10u);
  EXPECT_EQ(*p.cursor, cursor);
  // A cursor that no list returned: garbage, another list's id, an id of the wrong shape.
  for (std::string c : {std::string("garbage"), new_id("ep_", 1), std::string("msg_0")}) {
    auto bad = page_params(parse_target("/x?cursor=" + c).value(), "msg_");
    ASSERT_FALSE(bad.ok()) << c;
    EXPECT_EQ(bad.error().code, "invalid_cursor");
  }
  EXPECT_FALSE(parse_target("/v1/%zz").ok());
  for (const char* q : {"/x?limit=0", "/x?limit=101", "/x?limit=abc", "/x?limit=5x"})
    EXPECT_FALSE(page_params(parse_target(q).value(), "msg_").ok()) << q;
  EXPECT_EQ(page_params(parse_target("/x").value(), "msg_").value().limit, 50u);
}

}  // namespace
}  // namespace sealhook::api
