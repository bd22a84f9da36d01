#include "delivery/address_ranges.hpp"

#include <cstdlib>

namespace sealhook::delivery {
namespace {

using boost::asio::ip::address;

struct Row {
  const char* cidr;
  int v4_at;
  const char* what;
};

// The IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and its updates, RFC 8190;
// iana.org/assignments/iana-ipv4-special-registry and iana-ipv6-special-registry), every entry,
// plus the few ranges outside them that no endpoint has either (marked "not in the registry").
// A range inside another is kept when the registry names it, so that the table reads like it.
constexpr Row kRows[] = {
    // IPv4
    {"0.0.0.0/8", -1, "\"this network\" (RFC 791)"},
    {"10.0.0.0/8", -1, "private-use (RFC 1918)"},
    {"100.64.0.0/10", -1, "shared address space, CGNAT (RFC 6598)"},
    {"127.0.0.0/8", -1, "loopback (RFC 1122)"},
    {"169.254.0.0/16", -1, "link-local, cloud metadata (RFC 3927)"},
    {"172.16.0.0/12", -1, "private-use (RFC 1918)"},
    {"192.0.0.0/24", -1, "IETF protocol assignments, DS-Lite, NAT64 discovery (RFC 6890)"},
    {"192.0.2.0/24", -1, "documentation TEST-NET-1 (RFC 5737)"},
    {"192.31.196.0/24", -1, "AS112-v4 (RFC 7535)"},
    {"192.52.193.0/24", -1, "AMT (RFC 7450)"},
    {"192.88.99.0/24", -1, "deprecated 6to4 relay anycast (RFC 7526)"},
    {"192.168.0.0/16", -1, "private-use (RFC 1918)"},
    {"192.175.48.0/24", -1, "direct delegation AS112 service (RFC 7534)"},
    {"198.18.0.0/15", -1, "benchmarking (RFC 2544)"},
    {"198.51.100.0/24", -1, "documentation TEST-NET-2 (RFC 5737)"},
    {"203.0.113.0/24", -1, "documentation TEST-NET-3 (RFC 5737)"},
    {"224.0.0.0/4", -1, "multicast (RFC 5771; not in the registry)"},
    {"240.0.0.0/4", -1, "reserved (RFC 1112)"},
    {"255.255.255.255/32", -1, "limited broadcast (RFC 919)"},
    // IPv6
    {"::/128", -1, "unspecified (RFC 4291)"},
    {"::1/128", -1, "loopback (RFC 4291)"},
    {"::/96", -1, "deprecated IPv4-compatible (RFC 4291; not in the registry)"},
    {"::ffff:0:0/96", 12, "IPv4-mapped (RFC 4291)"},
    {"::ffff:0:0:0/96", 12, "IPv4-translated (RFC 2765; not in the registry)"},
    {"64:ff9b::/96", 12, "IPv4-IPv6 translation, NAT64 (RFC 6052)"},
    {"64:ff9b:1::/48", -1, "local-use IPv4-IPv6 translation (RFC 8215)"},
    {"100::/64", -1, "discard-only (RFC 6666)"},
    {"100:0:0:1::/64", -1, "dummy IPv6 prefix (RFC 9780)"},
    {"2001::/23", -1, "IETF protocol assignments: PCP, TURN, AMT, AS112, ORCHID (RFC 2928)"},
    {"2001::/32", -1, "Teredo (RFC 4380)"},
    {"2001:2::/48", -1, "benchmarking (RFC 5180)"},
    {"2001:db8::/32", -1, "documentation (RFC 3849)"},
    {"2002::/16", 2, "6to4 (RFC 3056)"},
    {"2620:4f:8000::/48", -1, "direct delegation AS112 service (RFC 7534)"},
    {"3fff::/20", -1, "documentation (RFC 9637)"},
    {"5f00::/16", -1, "segment routing SIDs (RFC 9602)"},
    {"fc00::/7", -1, "unique-local, fd00:ec2::254 metadata (RFC 4193)"},
    {"fe80::/10", -1, "link-local unicast (RFC 4291)"},
    {"fec0::/10", -1, "deprecated site-local (RFC 3879; not in the registry)"},
    {"ff00::/8", -1, "multicast (RFC 4291; not in the registry)"},
};

std::vector<SpecialRange> build_table() {
  std::vector<SpecialRange> out;
  for (const Row& r : kRows) {
    auto net = parse_cidr(r.cidr);
    if (!net) std::abort();  // a typo in kRows; the unit tests parse it
    out.push_back(SpecialRange{*net, r.v4_at, r.what});
  }
  return out;
}

Error bad_cidr(std::string_view text, std::string_view why) {
  return make_error(ErrorKind::kBadRequest, "invalid_cidr",
                    "'" + std::string(text) + "' is not a network: " + std::string(why));
}

// IPv4 as its 4 bytes, IPv6 as its 16.
std::array<uint8_t, 16> bytes_of(const address& a, bool& v4) {
  std::array<uint8_t, 16> out{};
  v4 = a.is_v4();
  if (v4) {
    const auto b = a.to_v4().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
  } else {
    const auto b = a.to_v6().to_bytes();
    std::copy(b.begin(), b.end(), out.begin());
  }
  return out;
}

bool prefix_equal(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<uint8_t>(bits >= 8 ? 0xff : 0xff << (8 - bits));
    if ((a[i] & mask) != (b[i] & mask)) return false;
  }
  return true;
}

address v4_inside(const std::array<uint8_t, 16>& b, int at) {
  return boost::asio::ip::address_v4({b[at], b[at + 1], b[at + 2], b[at + 3]});
}

}  // namespace

bool Cidr::contains(const address& addr) const {
  bool addr_v4 = false;
  const auto b = bytes_of(addr, addr_v4);
  return addr_v4 == v4 && prefix_equal(b, bytes, prefix);
}

std::string Cidr::to_string() const {
  address a;
  if (v4) {
    a = boost::asio::ip::address_v4({bytes[0], bytes[1], bytes[2], bytes[3]});
  } else {
    a = boost::asio::ip::address_v6(bytes);
  }
  return a.to_string() + "/" + std::to_string(prefix);
}

Result<Cidr> parse_cidr(std::string_view text) {
  const size_t slash = text.find('/');
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(std::string(text.substr(0, slash)), ec);
  if (ec) return bad_cidr(text, "expected an IPv4 or IPv6 address before the '/'");
  Cidr out;
  out.bytes = bytes_of(addr, out.v4);
  const int max = out.v4 ? 32 : 128;
  out.prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view len = text.substr(slash + 1);
    if (len.empty() || len.size() > 3) return bad_cidr(text, "expected a prefix length after '/'");
    int n = 0;
    for (char c : len) {
      if (c < '0' || c > '9') return bad_cidr(text, "the prefix length is not a number");
      n = n * 10 + (c - '0');
    }
    if (n > max) return bad_cidr(text, "the prefix length is over " + std::to_string(max));
    out.prefix = n;
  }
  Cidr network = out;
  for (int bit = out.prefix; bit < max; ++bit)
    network.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  if (network.bytes != out.bytes)
    return bad_cidr(text, "host bits are set (did you mean " + network.to_string() + "?)");
  return out;
}

Result<std::vector<Cidr>> parse_cidr_list(std::string_view text) {
  std::vector<Cidr> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty()) continue;
    auto net = parse_cidr(item);
    if (!net) return net.error();
    out.push_back(*net);
  }
  return out;
}

std::span<const SpecialRange> special_purpose_ranges() {
  static const std::vector<SpecialRange> table = build_table();
  return table;
}

bool is_forbidden_address(const address& addr) {
  for (const SpecialRange& r : special_purpose_ranges()) {
    if (!r.net.contains(addr)) continue;
    if (r.v4_at < 0) return true;
    return is_forbidden_address(v4_inside(addr.to_v6().to_bytes(), r.v4_at));  // rows are v6
  }
  return false;
}

bool AddressPolicy::permits(const address& addr) const {
  if (allow_private) return true;
  // An IPv4-mapped address is that IPv4 address on a dual-stack socket.
  const address plain =
      addr.is_v6() && addr.to_v6().is_v4_mapped()
          ? address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6()))
          : addr;
  for (const Cidr& net : allowed)
    if (net.contains(plain)) return true;
  return !is_forbidden_address(plain);
}

}  // namespace sealhook::delivery
