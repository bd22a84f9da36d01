#pragma once
// Which addresses an endpoint may have (PRODUCT.md §6): never a special-purpose one, unless the
// operator allows it (--allow-private-networks, --allow-networks).
#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealhook::delivery {

// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or fc00::/7.
struct Cidr {
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4
  int prefix = 0;
  bool v4 = false;

  bool contains(const boost::asio::ip::address& addr) const;
  std::string to_string() const;
};

// "a.b.c.d/n" or "v6/n" (n optional: one address). Host bits must be zero. kBadRequest otherwise.
Result<Cidr> parse_cidr(std::string_view text);
// Comma-separated CIDRs; blanks around the commas are ignored; "" is an empty list.
Result<std::vector<Cidr>> parse_cidr_list(std::string_view text);

// One row of the special-purpose table. Rows whose addresses carry an IPv4 address (mapped,
// translated, NAT64, 6to4) are judged by that address, found at byte `v4_at` (else -1).
struct SpecialRange {
  Cidr net;
  int v4_at;
  std::string_view what;
};
std::span<const SpecialRange> special_purpose_ranges();

// True when `addr` is in a special-purpose range (or carries a special-purpose IPv4 address).
bool is_forbidden_address(const boost::asio::ip::address& addr);

struct AddressPolicy {
  bool allow_private = false;  // --allow-private-networks: every address
  std::vector<Cidr> allowed;   // --allow-networks: these, even if special-purpose
  bool permits(const boost::asio::ip::address& addr) const;
};

}  // namespace sealhook::delivery
