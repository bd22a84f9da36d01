#include "queue/redis/redis_url.hpp"

#include <charconv>

namespace sealhook {
namespace {

Error bad_url(const std::string& url, const std::string& why) {
  return make_error(ErrorKind::kBadRequest, "invalid_redis_url",
                    "--redis '" + url + "': " + why + " (expected redis://HOST:PORT/DB)");
}

bool parse_int(std::string_view s, int lo, int hi, int& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && end == s.data() + s.size() && out >= lo && out <= hi;
}

}  // namespace

std::string RedisAddress::url() const {
  return "redis://" + host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

Result<RedisAddress> parse_redis_url(const std::string& url) {
  constexpr std::string_view kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0) return bad_url(url, "not a redis:// URL");
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  RedisAddress a;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (!parse_int(rest.substr(slash + 1), 0, 1 << 20, a.db)) return bad_url(url, "bad DB number");
    rest = rest.substr(0, slash);
  }
  if (rest.find('@') != std::string_view::npos)
    return bad_url(url, "credentials in the URL are not supported");
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    if (!parse_int(rest.substr(colon + 1), 1, 65535, a.port)) return bad_url(url, "bad port");
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return bad_url(url, "no host");
  a.host = std::string(rest);
  return a;
}

}  // namespace sealhook
