#include "api/allow.hpp"

#include <gtest/gtest.h>

namespace sealhook::api {
namespace {

Target at(std::string_view path) { return parse_target(path).value(); }

TEST(Allow, ListsTheMethodsOfEachPath) {
  EXPECT_EQ(allowed_methods(at("/v1/tenants").segments), "GET, POST");
  EXPECT_EQ(allowed_methods(at("/v1/endpoints/ep_1").segments), "DELETE, GET, PATCH");
  EXPECT_EQ(allowed_methods(at("/v1/deliveries/msg_1/replay").segments), "POST");
  EXPECT_EQ(allowed_methods(at("/openapi.json").segments), "GET");
  EXPECT_EQ(allowed_methods(at("/v1/keys/a/b").segments), "");
  EXPECT_EQ(allowed_methods(at("/v1/deliveries/msg_1/retry").segments), "");
}

TEST(Allow, A405CarriesAllowAndAPathWithoutRoutesIs404) {
  auto res = method_not_allowed_at(at("/v1/subscriptions"), 11, true);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->result_int(), 405);
  EXPECT_EQ((*res)[boost::beast::http::field::allow], "GET, PUT");
  EXPECT_NE(res->body().find("\"method_not_allowed\""), std::string::npos);
  auto none = method_not_allowed_at(at("/v1/endpoints/ep_1/secret"), 11, true);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace sealhook::api
