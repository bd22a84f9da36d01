#include "delivery/ssrf_guard.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sealhook::delivery {
namespace {

bool forbidden(const char* text) {
  return is_forbidden_address(boost::asio::ip::make_address(text));
}

TEST(SsrfGuard, ForbidsLocalPrivateAndReservedAddresses) {
  for (const char* a :
       {"127.0.0.1", "127.255.255.254", "0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.255",
        "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255",
        "169.254.0.1", "169.254.169.254", "192.0.0.8", "192.0.2.1", "198.18.0.1", "198.19.255.255",
        "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1",
        "255.255.255.255",
        // IPv6
        "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "ff02::1", "2001:db8::1",
        "fd00:ec2::254",
        // v4 embedded in v6: mapped, compatible, NAT64, 6to4
        "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::127.0.0.1",
        "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.0.1", "2002:7f00:1::1",
        "2002:a9fe:a9fe::"}) {
    EXPECT_TRUE(forbidden(a)) << a;
  }
}

TEST(SsrfGuard, AllowsPublicAddresses) {
  for (const char* a :
       {"8.8.8.8", "1.1.1.1", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.255.255",
        "100.128.0.1", "169.253.255.255", "192.169.0.1", "198.17.255.255", "198.20.0.1",
        "223.255.255.255", "2606:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8",
        "64:ff9b::808:808", "2002:808:808::1"}) {
    EXPECT_FALSE(forbidden(a)) << a;
  }
}

TEST(ParseUrl, AcceptsHttpAndHttps) {
  auto u = parse_url("https://Hooks.Example.com/in/x?a=1&b=2");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/in/x?a=1&b=2");
  EXPECT_EQ(u->origin(), "https://hooks.example.com:443");

  u = parse_url("HTTP://example.com");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->port, 80);
  EXPECT_EQ(u->target, "/");

  u = parse_url("http://example.com:8080?q");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/?q");

  u = parse_url("http://[2606:4700::1111]:65535/p");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "2606:4700::1111");
  EXPECT_EQ(u->port, 65535);
  EXPECT_EQ(u->origin(), "http://[2606:4700::1111]:65535");

  u = parse_url("https://[::1]");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 443);
}

TEST(ParseUrl, RefusesWithInvalidUrl) {
  const std::string long_url = "https://example.com/" + std::string(2048, 'a');
  for (const std::string& url :
       {std::string("ftp://example.com/"), std::string("example.com/x"),
        std::string("http:///path"), std::string("http://"),
        std::string("https://user:pw@example.com/"), std::string("https://user@example.com/"),
        std::string("http://example.com:0/"), std::string("http://example.com:65536/"),
        std::string("http://example.com:99999999/"), std::string("http://example.com:8a/"),
        std::string("http://example.com:/"), std::string("http://example.com/#frag"),
        std::string("http://example.com/a b"), std::string("http://example.com/a\r\nX-Injected: 1"),
        std::string("http://[::1/"), std::string("http://[zz::1]/"), std::string("http://[::1]x/"),
        std::string("http://exa$mple.com/"), long_url}) {
    auto u = parse_url(url);
    ASSERT_FALSE(u.ok()) << url;
    EXPECT_EQ(u.error().kind, ErrorKind::kUnprocessable) << url;
    EXPECT_EQ(u.error().code, "invalid_url") << url;
    EXPECT_FALSE(u.error().message.empty());
  }
  EXPECT_TRUE(parse_url("https://example.com/" + std::string(2028, 'a')).ok());  // 2048 exactly
}

TEST(CheckEndpointUrl, RefusesLocalTargetsUnlessPrivateAllowed) {
  for (const char* url : {"http://127.0.0.1/hook", "http://localhost:8080/", "https://[::1]/",
                          "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/",
                          "http://10.0.0.5/", "http://0x7f.1/"}) {
    auto st = check_endpoint_url(url, false);
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().kind, ErrorKind::kUnprocessable) << url;
    EXPECT_EQ(st.error().code, "forbidden_address") << url;
    EXPECT_TRUE(check_endpoint_url(url, true).ok()) << url;
  }
}

TEST(CheckEndpointUrl, AcceptsPublicLiteralsAndReportsBadInput) {
  EXPECT_TRUE(check_endpoint_url("https://8.8.8.8/hook", false).ok());
  EXPECT_TRUE(check_endpoint_url("https://[2606:4700::1111]/hook", false).ok());
  auto st = check_endpoint_url("ftp://example.com/", false);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "invalid_url");
  st = check_endpoint_url("https://does-not-exist.invalid/", true);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, ErrorKind::kUnprocessable);
  EXPECT_EQ(st.error().code, "unresolvable_host");
}

}  // namespace
}  // namespace sealhook::delivery
