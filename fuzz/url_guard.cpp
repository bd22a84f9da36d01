// URL parsing and address classification (the SSRF guard). Only literal addresses are
// checked end to end: a host name would mean a DNS lookup.
// Input: a URL; its first 16 bytes are also read as a raw IPv6 (and IPv4) address.
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "delivery/ssrf_guard.hpp"

namespace {

namespace ip = boost::asio::ip;
using namespace sealhook::delivery;

void check(bool ok) {
  if (!ok) std::abort();
}

// Never a DNS lookup: names fail as unresolvable (only literal addresses reach the checks).
sealhook::Result<AddressList> no_dns(const std::string&) {
  return sealhook::make_error(sealhook::ErrorKind::kUnprocessable, "unresolvable_host", "no DNS");
}

UrlGuard& guard(bool allow_private) {
  static UrlGuard strict(AddressPolicy{}, LookupOptions{}, no_dns);
  static UrlGuard open(AddressPolicy{true, {}}, LookupOptions{}, no_dns);
  return allow_private ? open : strict;
}

void url(std::string_view text) {
  auto parsed = parse_url(text);
  if (!parsed) return;
  check(!parsed->host.empty() && parsed->port != 0 && !parsed->target.empty() &&
        parsed->target.front() == '/');
  check(parse_url(parsed->origin() + parsed->target).ok());
  boost::system::error_code ec;
  ip::address literal = ip::make_address(parsed->host, ec);
  if (ec) return;
  sealhook::Status st = guard(false).check(text);
  check(st.ok() != is_forbidden_address(literal));
  check(guard(true).check(text).ok());
}

// An IPv4 address and its IPv4-mapped IPv6 form are judged alike.
void raw(const uint8_t* data, size_t size) {
  if (size < 16) return;
  ip::address_v6::bytes_type b;
  std::memcpy(b.data(), data, 16);
  (void)is_forbidden_address(ip::address_v6(b));
  ip::address_v4 v4({b[12], b[13], b[14], b[15]});
  std::memset(b.data(), 0, 10);
  b[10] = b[11] = 0xff;
  check(is_forbidden_address(v4) == is_forbidden_address(ip::address_v6(b)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  url(std::string_view(reinterpret_cast<const char*>(data), size));
  raw(data, size);
  return 0;
}
