#include "delivery/ssrf_guard.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <optional>
#include <string>

namespace sealhook::delivery {
namespace {

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

// Host names resolve through this table: no DNS in unit tests.
Result<AddressList> fake_dns(const std::string& host) {
  using boost::asio::ip::make_address;
  if (host == "localhost") return AddressList{make_address("127.0.0.1"), make_address("::1")};
  if (host == "internal.example") return AddressList{make_address("10.20.30.40")};
  if (host == "mixed.example") return AddressList{make_address("8.8.8.8"), make_address("fd00::7")};
  if (host == "public.example") return AddressList{make_address("93.184.216.34")};
  if (host == "empty.example") return AddressList{};
  return make_error(ErrorKind::kUnprocessable, "unresolvable_host", "no such host " + host);
}

UrlGuard guard(AddressPolicy policy) { return UrlGuard(std::move(policy), {}, fake_dns); }

TEST(SsrfGuard, RefusesLocalTargetsUnlessPrivateAllowed) {
  UrlGuard strict = guard({});
  UrlGuard open = guard({.allow_private = true, .allowed = {}});
  for (const char* url : {"http://127.0.0.1/hook", "http://localhost:8080/", "https://[::1]/",
                          "http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.1]/",
                          "http://10.0.0.5/", "http://internal.example/", "http://mixed.example/",
                          "http://[::ffff:0:a00:1]/", "http://[2001::1]/",
                          "http://[64:ff9b:1::a00:1]/", "http://192.31.196.1/"}) {
    auto st = strict.check(url);
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().kind, ErrorKind::kUnprocessable) << url;
    EXPECT_EQ(st.error().code, "forbidden_address") << url;
    EXPECT_TRUE(open.check(url).ok()) << url;
  }
}

// getaddrinfo reads the old inet_aton forms of 127.0.0.1 without asking DNS.
TEST(SsrfGuard, RefusesNumericHostFormsOfLoopback) {
  UrlGuard strict(AddressPolicy{}, LookupOptions{});
  for (const char* url : {"http://0x7f.1/", "http://2130706433/", "http://0177.0.0.1/"}) {
    auto st = strict.check(url);
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().code, "forbidden_address") << url;
  }
}

// The answer never says what the host resolved to (nor repeats a literal address).
TEST(SsrfGuard, RefusalDoesNotRevealTheResolvedAddress) {
  auto st = guard({}).check("http://internal.example/x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "forbidden_address");
  EXPECT_EQ(st.error().message.find("10.20.30.40"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("non-public address"), std::string::npos);
  st = guard({}).check("http://mixed.example/");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.find("fd00"), std::string::npos) << st.error().message;
  st = guard({}).check("http://10.1.2.3:8080/");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message.find("10.1.2.3"), std::string::npos) << st.error().message;
}

TEST(SsrfGuard, AllowedNetworksLetTheirAddressesThrough) {
  UrlGuard g = guard({.allow_private = false, .allowed = parse_cidr_list("127.0.0.0/8").value()});
  EXPECT_TRUE(g.check("http://127.0.0.1:9/").ok());
  EXPECT_TRUE(g.check("http://[::ffff:127.0.0.2]:9/").ok());
  EXPECT_EQ(g.check("http://localhost/").error().code, "forbidden_address");  // ::1 is not in it
  EXPECT_EQ(g.check("http://10.0.0.1/").error().code, "forbidden_address");
}

TEST(SsrfGuard, AcceptsPublicTargetsAndReportsBadInput) {
  UrlGuard g = guard({});
  EXPECT_TRUE(g.check("https://8.8.8.8/hook").ok());
  EXPECT_TRUE(g.check("https://[2606:4700::1111]/hook").ok());
  EXPECT_TRUE(g.check("https://public.example/hook").ok());
  auto st = g.check("ftp://example.com/");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "invalid_url");
  for (const char* url : {"https://does-not-exist.invalid/", "https://empty.example/"}) {
    st = guard({.allow_private = true, .allowed = {}}).check(url);
    ASSERT_FALSE(st.ok()) << url;
    EXPECT_EQ(st.error().kind, ErrorKind::kUnprocessable);
    EXPECT_EQ(st.error().code, "unresolvable_host");
  }
}

// A lookup that never returns: it holds its place until released.
struct StuckDns {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released{release.get_future().share()};
  std::atomic<int> calls{0};

  ResolveFn fn() {
    return [this](const std::string&) -> Result<AddressList> {
      if (calls++ == 0) entered.set_value();
      released.wait();
      return AddressList{boost::asio::ip::make_address("8.8.8.8")};
    };
  }
};

TEST(SsrfLookup, OverTheBoundAnswersBusyAtOnce) {
  StuckDns dns;
  std::optional<HostLookup> lookup;
  lookup.emplace(LookupOptions{.max_concurrent = 1, .timeout = std::chrono::seconds(30)}, dns.fn());
  auto first = std::async(std::launch::async, [&] { return lookup->resolve("a.example"); });
  dns.entered.get_future().wait();
  auto busy = lookup->resolve("b.example");
  ASSERT_FALSE(busy.ok());
  EXPECT_EQ(busy.error().kind, ErrorKind::kUnavailable);
  EXPECT_EQ(busy.error().code, "lookups_busy");
  dns.release.set_value();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(lookup->resolve("c.example").ok());  // the place is free again
  EXPECT_EQ(dns.calls.load(), 2);
  lookup.reset();
}

TEST(SsrfLookup, GivesUpAtTheDeadlineAndKeepsThePlaceUntilTheLookupEnds) {
  StuckDns dns;
  HostLookup lookup(LookupOptions{.max_concurrent = 1, .timeout = std::chrono::milliseconds(20)},
                    dns.fn());
  auto late = lookup.resolve("slow.example");
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, "unresolvable_host");
  EXPECT_NE(late.error().message.find("timed out"), std::string::npos);
  EXPECT_EQ(lookup.resolve("next.example").error().code, "lookups_busy");
  dns.release.set_value();  // the destructor waits for the stuck lookup
}

}  // namespace
}  // namespace sealhook::delivery
