// The special-purpose table (IANA registries), address by address at each range's edges.
#include "delivery/address_ranges.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace sealhook::delivery {
namespace {

using boost::asio::ip::make_address;

bool forbidden(const std::string& text) { return is_forbidden_address(make_address(text)); }

// Each range's first and last address (refused) and the addresses just outside (allowed,
// unless a neighbouring range starts there).
TEST(SsrfRanges, RefusesEachRangeUpToItsEdges) {
  const std::pair<const char*, bool> cases[] = {
      {"0.0.0.0", true},
      {"0.255.255.255", true},
      {"1.0.0.0", false},
      {"9.255.255.255", false},
      {"10.0.0.0", true},
      {"10.255.255.255", true},
      {"11.0.0.0", false},
      {"100.63.255.255", false},
      {"100.64.0.0", true},
      {"100.127.255.255", true},
      {"100.128.0.0", false},
      {"126.255.255.255", false},
      {"127.0.0.0", true},
      {"127.255.255.255", true},
      {"128.0.0.0", false},
      {"169.253.255.255", false},
      {"169.254.0.0", true},
      {"169.254.169.254", true},
      {"169.254.255.255", true},
      {"169.255.0.0", false},
      {"172.15.255.255", false},
      {"172.16.0.0", true},
      {"172.31.255.255", true},
      {"172.32.0.0", false},
      {"191.255.255.255", false},
      {"192.0.0.0", true},
      {"192.0.0.255", true},
      {"192.0.1.0", false},
      {"192.0.2.0", true},
      {"192.0.2.255", true},
      {"192.0.3.0", false},
      {"192.31.195.255", false},
      {"192.31.196.0", true},
      {"192.31.196.255", true},
      {"192.31.197.0", false},
      {"192.52.192.255", false},
      {"192.52.193.0", true},
      {"192.52.193.255", true},
      {"192.52.194.0", false},
      {"192.88.98.255", false},
      {"192.88.99.0", true},
      {"192.88.99.255", true},
      {"192.88.100.0", false},
      {"192.167.255.255", false},
      {"192.168.0.0", true},
      {"192.168.255.255", true},
      {"192.169.0.0", false},
      {"192.175.47.255", false},
      {"192.175.48.0", true},
      {"192.175.48.255", true},
      {"192.175.49.0", false},
      {"198.17.255.255", false},
      {"198.18.0.0", true},
      {"198.19.255.255", true},
      {"198.20.0.0", false},
      {"198.51.99.255", false},
      {"198.51.100.0", true},
      {"198.51.100.255", true},
      {"198.51.101.0", false},
      {"203.0.112.255", false},
      {"203.0.113.0", true},
      {"203.0.113.255", true},
      {"203.0.114.0", false},
      {"223.255.255.255", false},
      {"224.0.0.0", true},
      {"239.255.255.255", true},
      {"240.0.0.0", true},
      {"255.255.255.254", true},
      {"255.255.255.255", true},
      // IPv6
      {"::", true},
      {"::1", true},
      {"::2", true},
      {"::ffff:ffff", true},
      {"::1:0:0", false},
      {"::fffe:ffff:ffff", false},
      {"::ffff:0.0.0.0", true},
      {"::ffff:255.255.255.255", true},
      {"::1:0:0:0", false},
      {"::ffff:0:0.0.0.0", true},
      {"::ffff:0:255.255.255.255", true},
      {"::ffff:1:0:0", false},
      {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"64:ff9b::", true},
      {"64:ff9b::ffff:ffff", true},
      {"64:ff9b::1:0:0", false},
      {"64:ff9b:0:ffff:ffff:ffff:ffff:ffff", false},
      {"64:ff9b:1::", true},
      {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true},
      {"64:ff9b:2::", false},
      {"ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"100::", true},
      {"100::ffff:ffff:ffff:ffff", true},
      {"100:0:0:1::", true},
      {"100:0:0:1:ffff:ffff:ffff:ffff", true},
      {"100:0:0:2::", false},
      {"2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"2001::", true},
      {"2001:0:4136:e378:8000:63bf:3fff:fdd2", true},  // a Teredo address
      {"2001:1::1", true},
      {"2001:2::1", true},
      {"2001:3::1", true},
      {"2001:4:112::1", true},
      {"2001:20::1", true},
      {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"2001:200::", false},
      {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"2001:db8::", true},
      {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"2001:db9::", false},
      {"2620:4f:7fff:ffff:ffff:ffff:ffff:ffff", false},
      {"2620:4f:8000::", true},
      {"2620:4f:8000:ffff:ffff:ffff:ffff:ffff", true},
      {"2620:4f:8001::", false},
      {"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"3fff::", true},
      {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"3fff:1000::", false},
      {"5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"5f00::", true},
      {"5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"5f01::", false},
      {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"fc00::", true},
      {"fd00:ec2::254", true},
      {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"fe00::", false},
      {"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false},
      {"fe80::", true},
      {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"fec0::", true},
      {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
      {"ff00::", true},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
  };
  for (const auto& [address, refused] : cases) EXPECT_EQ(forbidden(address), refused) << address;
}

// The mapped, translated, NAT64 and 6to4 forms are judged by the IPv4 address inside.
TEST(SsrfRanges, JudgesEmbeddedIpv4ByItsAddress) {
  for (const char* a :
       {"::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:0:127.0.0.1",
        "::ffff:0:192.168.1.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.0.1",
        "2002:7f00:1::1", "2002:a9fe:a9fe::", "2002:c0a8:101::", "2002:c058:6301::", "::127.0.0.1",
        "::8.8.8.8"})
    EXPECT_TRUE(forbidden(a)) << a;
  for (const char* a : {"::ffff:8.8.8.8", "::ffff:0:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
                        "8.8.8.8", "1.1.1.1", "2606:4700::1111", "2001:4860:4860::8888"})
    EXPECT_FALSE(forbidden(a)) << a;
}

// Every row parses, and its first and last address are refused (the rows that carry an IPv4
// address carry 0.0.0.0 and 255.255.255.255 there, both refused).
TEST(SsrfRanges, EveryRowRefusesItsFirstAndLastAddress) {
  ASSERT_GE(special_purpose_ranges().size(), 40u);
  for (const SpecialRange& r : special_purpose_ranges()) {
    Cidr last = r.net;
    const int bits = r.net.v4 ? 32 : 128;
    for (int bit = r.net.prefix; bit < bits; ++bit)
      last.bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
    for (const Cidr& edge : {r.net, last}) {
      const std::string text = edge.to_string();
      const std::string address = text.substr(0, text.find('/'));
      EXPECT_TRUE(forbidden(address)) << address << " in " << r.net.to_string() << " " << r.what;
    }
  }
}

TEST(SsrfRanges, ParsesCidrsAndRefusesBadOnes) {
  auto n = parse_cidr("10.1.0.0/16");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n->contains(make_address("10.1.255.255")));
  EXPECT_FALSE(n->contains(make_address("10.2.0.0")));
  EXPECT_FALSE(n->contains(make_address("::ffff:10.1.0.1")));  // a family is a family
  EXPECT_EQ(n->to_string(), "10.1.0.0/16");
  EXPECT_EQ(parse_cidr("fd00:1::/64")->to_string(), "fd00:1::/64");
  EXPECT_EQ(parse_cidr("127.0.0.1")->to_string(), "127.0.0.1/32");
  EXPECT_EQ(parse_cidr("0.0.0.0/0")->prefix, 0);
  for (const char* bad :
       {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "10.0.0.0/-1", "10.0.0.1/8",
        "fd00::1/8", "example.com/8", "10.0.0.0/0008", "10.0.0.0/8/8"}) {
    auto r = parse_cidr(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, "invalid_cidr") << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
  EXPECT_NE(parse_cidr("10.0.0.1/8").error().message.find("10.0.0.0/8"), std::string::npos);
  auto list = parse_cidr_list(" 127.0.0.0/8, fd00::/8 ,,");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 2u);
  EXPECT_TRUE(parse_cidr_list("")->empty());
  EXPECT_FALSE(parse_cidr_list("127.0.0.0/8,nope").ok());
}

TEST(SsrfPolicy, AllowedNetworksOpenOnlyThemselves) {
  AddressPolicy p;
  p.allowed = parse_cidr_list("127.0.0.0/8,fd00:1::/64").value();
  for (const char* a : {"127.0.0.1", "127.255.255.255", "::ffff:127.0.0.1", "fd00:1::5", "8.8.8.8"})
    EXPECT_TRUE(p.permits(make_address(a))) << a;
  for (const char* a : {"10.0.0.1", "::1", "fd00:2::5", "169.254.169.254", "64:ff9b::7f00:1"})
    EXPECT_FALSE(p.permits(make_address(a))) << a;
  AddressPolicy all{.allow_private = true, .allowed = {}};
  EXPECT_TRUE(all.permits(make_address("10.0.0.1")));
  EXPECT_FALSE(AddressPolicy{}.permits(make_address("127.0.0.1")));
}

}  // namespace
}  // namespace sealhook::delivery
