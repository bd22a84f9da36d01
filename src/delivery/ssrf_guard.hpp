#pragma once
// Classification of URLs and addresses for the SSRF guard (PRODUCT.md §6).
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sealhook::delivery {

struct ParsedUrl {
  std::string scheme;  // "http" | "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;
  std::string target;          // path + query, at least "/"
  std::string origin() const;  // scheme://host:port
};

// http/https only, a host, no userinfo, no fragment, a port in range, at most 2048 characters.
Result<ParsedUrl> parse_url(std::string_view url);

// True for loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast,
// broadcast, documentation/benchmark ranges, IPv4-mapped forms of those, and the cloud
// metadata addresses (169.254.169.254, fd00:ec2::254).
bool is_forbidden_address(const boost::asio::ip::address& addr);

// At registration: the URL parses, and its host (a literal IP, or a name resolved with
// getaddrinfo, bounded to 5 s) has no forbidden address unless allow_private. Errors are
// kUnprocessable: invalid_url, forbidden_address, unresolvable_host. The sender checks the
// addresses again at connect time (DNS may change).
Status check_endpoint_url(std::string_view url, bool allow_private);

}  // namespace sealhook::delivery
