#pragma once
// Classification of URLs and addresses for the SSRF guard (PRODUCT.md §6).
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "delivery/address_ranges.hpp"
#include "delivery/host_lookup.hpp"

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

// At registration: the URL parses, and every address of its host (a literal IP, or a name
// looked up, bounded by HostLookup) is one the policy permits. Errors are kUnprocessable
// invalid_url, forbidden_address (without the address: it would map internal DNS),
// unresolvable_host; kUnavailable lookups_busy. The sender checks the addresses again at
// connect time (DNS may change).
class UrlGuard {
 public:
  UrlGuard(AddressPolicy policy, LookupOptions lookups, ResolveFn resolve = system_resolve);
  Status check(std::string_view url);  // thread-safe
  const AddressPolicy& policy() const { return policy_; }

 private:
  AddressPolicy policy_;
  HostLookup lookup_;
};

}  // namespace sealhook::delivery
