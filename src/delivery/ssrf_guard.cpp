#include "delivery/ssrf_guard.hpp"

namespace sealhook::delivery {
namespace {

constexpr size_t kMaxUrlLength = 2048;

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

UrlGuard::UrlGuard(AddressPolicy policy, LookupOptions lookups, ResolveFn resolve)
    : policy_(std::move(policy)), lookup_(lookups, std::move(resolve)) {}

Status UrlGuard::check(std::string_view url) {
  auto parsed = parse_url(url);
  if (!parsed) return parsed.error();
  boost::system::error_code ec;
  const auto literal = boost::asio::ip::make_address(parsed->host, ec);
  AddressList addrs;
  if (!ec) {
    addrs.push_back(literal);
  } else {
    auto resolved = lookup_.resolve(parsed->host);
    if (!resolved) return resolved.error();
    addrs = std::move(resolved.value());
  }
  if (addrs.empty())
    return make_error(ErrorKind::kUnprocessable, "unresolvable_host",
                      "host '" + parsed->host + "' has no addresses");
  for (const auto& a : addrs) {
    if (!policy_.permits(a))
      return make_error(ErrorKind::kUnprocessable, "forbidden_address",
                        "the URL's host resolves to a non-public address (loopback, private, "
                        "link-local or another special-purpose range)");
  }
  return {};
}

}  // namespace sealhook::delivery
