#include "app/welcome.hpp"

#include <gtest/gtest.h>

namespace sealhook::app {
namespace {

namespace ip = boost::asio::ip;

ListenAddress at(const char* address, uint16_t port) {
  return describe_listen(ip::tcp::endpoint(ip::make_address(address), port));
}

TEST(Welcome, SaysWhatItIsBoundToAndAURLThatReachesIt) {
  auto any4 = at("0.0.0.0", 4242);
  EXPECT_EQ(any4.bound, "0.0.0.0:4242");
  EXPECT_EQ(any4.url, "http://127.0.0.1:4242");
  EXPECT_TRUE(any4.wildcard);
  auto any6 = at("::", 4242);
  EXPECT_EQ(any6.bound, "[::]:4242");
  EXPECT_EQ(any6.url, "http://[::1]:4242");
  auto one = at("10.1.2.3", 80);
  EXPECT_EQ(one.bound, "10.1.2.3:80");
  EXPECT_EQ(one.url, "http://10.1.2.3:80");
  EXPECT_FALSE(one.wildcard);
  EXPECT_EQ(at("fd00::1", 8080).url, "http://[fd00::1]:8080");
}

}  // namespace
}  // namespace sealhook::app
