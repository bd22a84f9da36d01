#include "delivery/ssrf_guard.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace sealhook::delivery {
namespace {

constexpr size_t kMaxUrlLength = 2048;
constexpr auto kResolveTimeout = std::chrono::seconds(5);

Error invalid_url(std::string message) {
  return make_error(ErrorKind::kUnprocessable, "invalid_url", std::move(message));
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

bool is_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

Status parse_port(std::string_view port, ParsedUrl& out) {
  if (port.empty()) return invalid_url("empty port in URL");
  if (port.size() > 5) return invalid_url("URL port out of range 1..65535");
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return invalid_url("URL port is not a number");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < 1 || value > 65535) return invalid_url("URL port out of range 1..65535");
  out.port = static_cast<uint16_t>(value);
  return {};
}

// Parses "[v6]" or "name" plus an optional ":port" into out.host / out.port.
Status parse_authority(std::string_view auth, ParsedUrl& out) {
  if (auth.find('@') != std::string_view::npos)
    return invalid_url("user information (user:password@) is not allowed in the URL");
  std::string_view host, rest;  // rest: "" or ":port"
  if (!auth.empty() && auth.front() == '[') {
    const size_t close = auth.find(']');
    if (close == std::string_view::npos) return invalid_url("unterminated IPv6 literal in URL");
    host = auth.substr(1, close - 1);
    rest = auth.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return invalid_url("junk after IPv6 literal");
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return invalid_url("invalid IPv6 literal in URL");
  } else {
    const size_t colon = auth.find(':');
    host = auth.substr(0, colon);
    if (colon != std::string_view::npos) rest = auth.substr(colon);
    for (char c : host)
      if (!is_host_char(c)) return invalid_url("invalid character in URL host");
  }
  if (host.empty()) return invalid_url("URL has no host");
  out.host = to_lower(host);
  if (!rest.empty()) return parse_port(rest.substr(1), out);
  out.port = out.scheme == "https" ? 443 : 80;
  return {};
}

struct V4Net {
  uint32_t net;
  int prefix;
};

constexpr uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr std::array<V4Net, 15> kForbiddenV4{{
    {v4(0, 0, 0, 0), 8},        // "this" network, unspecified
    {v4(10, 0, 0, 0), 8},       // RFC 1918
    {v4(100, 64, 0, 0), 10},    // CGNAT
    {v4(127, 0, 0, 0), 8},      // loopback
    {v4(169, 254, 0, 0), 16},   // link-local, cloud metadata
    {v4(172, 16, 0, 0), 12},    // RFC 1918
    {v4(192, 0, 0, 0), 24},     // IETF protocol assignments
    {v4(192, 0, 2, 0), 24},     // TEST-NET-1
    {v4(192, 88, 99, 0), 24},   // 6to4 relay anycast
    {v4(192, 168, 0, 0), 16},   // RFC 1918
    {v4(198, 18, 0, 0), 15},    // benchmarking
    {v4(198, 51, 100, 0), 24},  // TEST-NET-2
    {v4(203, 0, 113, 0), 24},   // TEST-NET-3
    {v4(224, 0, 0, 0), 4},      // multicast
    {v4(240, 0, 0, 0), 4},      // reserved, broadcast
}};

bool forbidden_v4(uint32_t a) {
  for (const auto& n : kForbiddenV4) {
    const uint32_t mask = n.prefix == 0 ? 0 : ~uint32_t{0} << (32 - n.prefix);
    if ((a & mask) == n.net) return true;
  }
  return false;
}

using V6Bytes = boost::asio::ip::address_v6::bytes_type;

bool has_prefix(const V6Bytes& b, std::initializer_list<unsigned char> prefix, int bits) {
  int i = 0;
  for (unsigned char p : prefix) {
    const int take = std::min(8, bits - i * 8);
    if (take <= 0) break;
    const auto mask = static_cast<unsigned char>(0xff << (8 - take));
    if ((b[i] & mask) != (p & mask)) return false;
    ++i;
  }
  return true;
}

uint32_t v4_at(const V6Bytes& b, size_t off) {
  return (uint32_t{b[off]} << 24) | (uint32_t{b[off + 1]} << 16) | (uint32_t{b[off + 2]} << 8) |
         uint32_t{b[off + 3]};
}

bool forbidden_v6(const boost::asio::ip::address_v6& addr) {
  const V6Bytes b = addr.to_bytes();
  const bool zero96 = has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 96);
  const bool mapped = has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96);
  const bool nat64 = has_prefix(b, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}, 96);
  if (zero96 || mapped || nat64) return forbidden_v4(v4_at(b, 12));       // ::, ::1 via 0/8
  if (has_prefix(b, {0x20, 0x02}, 16)) return forbidden_v4(v4_at(b, 2));  // 6to4
  return has_prefix(b, {0xfc}, 7) ||                                      // ULA, fd00:ec2::254
         has_prefix(b, {0xfe, 0x80}, 10) ||                               // link-local
         has_prefix(b, {0xfe, 0xc0}, 10) ||                               // site-local
         has_prefix(b, {0xff}, 8) ||                                      // multicast
         has_prefix(b, {0x20, 0x01, 0x0d, 0xb8}, 32) ||                   // documentation
         has_prefix(b, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48) ||       // local NAT64
         has_prefix(b, {0x01, 0, 0, 0, 0, 0, 0, 0}, 64);                  // discard-only
}

using AddressList = std::vector<boost::asio::ip::address>;

// getaddrinfo has no timeout: run it on a detached thread and wait a bounded time.
Result<AddressList> resolve_bounded(const std::string& host) {
  auto promise = std::make_shared<std::promise<Result<AddressList>>>();
  auto future = promise->get_future();
  std::thread([host, promise] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0) {
      promise->set_value(make_error(ErrorKind::kUnprocessable, "unresolvable_host",
                                    "cannot resolve host '" + host + "': " + gai_strerror(rc)));
      return;
    }
    AddressList out;
    for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
      if (p->ai_family == AF_INET) {
        const auto* sa = reinterpret_cast<const sockaddr_in*>(p->ai_addr);
        out.emplace_back(boost::asio::ip::address_v4(ntohl(sa->sin_addr.s_addr)));
      } else if (p->ai_family == AF_INET6) {
        const auto* sa = reinterpret_cast<const sockaddr_in6*>(p->ai_addr);
        V6Bytes bytes;
        std::copy_n(sa->sin6_addr.s6_addr, 16, bytes.begin());
        out.emplace_back(boost::asio::ip::address_v6(bytes, sa->sin6_scope_id));
      }
    }
    ::freeaddrinfo(res);
    promise->set_value(std::move(out));
  }).detach();
  if (future.wait_for(kResolveTimeout) != std::future_status::ready)
    return make_error(ErrorKind::kUnprocessable, "unresolvable_host",
                      "timed out resolving host '" + host + "'");
  return future.get();
}

}  // namespace

std::string ParsedUrl::origin() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out;
  out.reserve(scheme.size() + host.size() + 11);
  out.append(scheme).append(v6 ? "://[" : "://").append(host).append(v6 ? "]:" : ":");
  out.append(std::to_string(port));
  return out;
}

Result<ParsedUrl> parse_url(std::string_view url) {
  if (url.size() > kMaxUrlLength) return invalid_url("URL is longer than 2048 characters");
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f)
      return invalid_url("URL contains a space, control or non-ASCII character");
  }
  if (url.find('#') != std::string_view::npos) return invalid_url("URL fragments are not allowed");
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos) return invalid_url("URL must start with http:// or https://");
  ParsedUrl out;
  out.scheme = to_lower(url.substr(0, sep));
  if (out.scheme != "http" && out.scheme != "https")
    return invalid_url("URL scheme must be http or https");
  std::string_view rest = url.substr(sep + 3);
  const size_t path_start = rest.find_first_of("/?");
  if (Status st = parse_authority(rest.substr(0, path_start), out); !st) return st.error();
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (target.empty() || target.front() == '?')
    out.target.push_back('/');  // GCC 12 -Wrestrict: not = "/"
  out.target.append(target);
  return out;
}

bool is_forbidden_address(const boost::asio::ip::address& addr) {
  if (addr.is_v4()) return forbidden_v4(addr.to_v4().to_uint());
  return forbidden_v6(addr.to_v6());
}

Status check_endpoint_url(std::string_view url, bool allow_private) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.error();
  boost::system::error_code ec;
  const auto literal = boost::asio::ip::make_address(parsed->host, ec);
  AddressList addrs;
  if (!ec) {
    addrs.push_back(literal);
  } else {
    auto resolved = resolve_bounded(parsed->host);
    if (!resolved) return resolved.error();
    addrs = std::move(resolved.value());
  }
  if (addrs.empty())
    return make_error(ErrorKind::kUnprocessable, "unresolvable_host",
                      "host '" + parsed->host + "' has no addresses");
  if (allow_private) return {};
  for (const auto& a : addrs) {
    if (is_forbidden_address(a))
      return make_error(ErrorKind::kUnprocessable, "forbidden_address",
                        "host '" + parsed->host + "' resolves to " + a.to_string() +
                            ", a loopback, private, link-local or reserved address");
  }
  return {};
}

}  // namespace sealhook::delivery
