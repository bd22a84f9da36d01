#include "api/http_util.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>

#include "core/utf8.hpp"

#include "core/ids.hpp"

namespace sealhook::api {
namespace {

Error bad(std::string code, std::string message) {
  return make_error(ErrorKind::kBadRequest, std::move(code), std::move(message));
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      unsigned v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

}  // namespace

Result<Target> parse_target(std::string_view target) {
  Target t;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto seg = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!seg.empty()) {
      auto dec = percent_decode(seg);
      if (!dec) return bad("invalid_path", "malformed percent-encoding in the path");
      t.segments.push_back(*dec);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      auto amp = query.find('&');
      auto pair = query.substr(0, amp);
      auto eq = pair.find('=');
      auto k = percent_decode(pair.substr(0, eq));
      auto v = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!k || !v) return bad("invalid_query", "malformed percent-encoding in the query");
      if (!k->empty()) t.query[*k] = *v;
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  return t;
}

namespace {

// application/json, application/<anything>+json, or no Content-Type at all (the body is then
// taken for what the route expects); parameters such as charset are ignored.
bool is_json_media_type(std::string_view value) {
  value = value.substr(0, value.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  std::string type(value);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type == "application/json" ||
         (type.starts_with("application/") && type.ends_with("+json"));
}

}  // namespace

Result<boost::json::object> parse_object(const net::Request& req) {
  if (auto ct = req.find(boost::beast::http::field::content_type);
      ct != req.end() && !is_json_media_type(ct->value()))
    return make_error(ErrorKind::kUnsupportedMediaType, "unsupported_media_type",
                      "the request body must be JSON (Content-Type: application/json)");
  boost::system::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 64;
  auto v = boost::json::parse(req.body(), ec, {}, opts);
  if (ec) return bad("malformed_json", "the request body is not valid JSON: " + ec.message());
  if (!v.is_object()) return bad("invalid_body", "the request body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> required_string(const boost::json::object& o, std::string_view key,
                                    size_t max_len) {
  auto r = optional_string(o, key, max_len);
  if (!r) return r.error();
  if (!r->has_value()) return bad("missing_field", "'" + std::string(key) + "' is required");
  return std::move(**r);
}

Result<std::optional<std::string>> optional_string(const boost::json::object& o,
                                                   std::string_view key, size_t max_len) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string())
    return bad("invalid_field", "'" + std::string(key) + "' must be a string");
  const auto& s = it->value().as_string();
  if (utf8_length(s) > max_len)
    return bad("invalid_field", "'" + std::string(key) + "' is longer than " +
                                    std::to_string(max_len) + " characters");
  return std::optional<std::string>(std::string(s));
}

Result<std::optional<std::vector<std::string>>> optional_string_list(const boost::json::object& o,
                                                                     std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<std::vector<std::string>>{};
  const std::string name(key);
  if (!it->value().is_array())
    return bad("invalid_field", "'" + name + "' must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : it->value().as_array()) {
    if (!v.is_string()) return bad("invalid_field", "'" + name + "' must be an array of strings");
    out.emplace_back(v.as_string());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<int>> optional_int(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int>{};
  const auto& v = it->value();
  if (v.is_int64() && v.as_int64() >= -1'000'000'000 && v.as_int64() <= 1'000'000'000)
    return std::optional<int>(static_cast<int>(v.as_int64()));
  if (v.is_uint64() && v.as_uint64() <= 1'000'000'000)
    return std::optional<int>(static_cast<int>(v.as_uint64()));
  // JSON has one number type: 6.0 is the integer 6 (and JSON Schema's "integer" says so).
  if (v.is_double() && std::abs(v.as_double()) <= 1e9 && std::trunc(v.as_double()) == v.as_double())
    return std::optional<int>(static_cast<int>(v.as_double()));
  return bad("invalid_field", "'" + std::string(key) + "' must be an integer");
}

Result<std::optional<int64_t>> optional_int64(const boost::json::object& o, std::string_view key) {
  constexpr int64_t kMax = int64_t{1} << 53;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<int64_t>{};
  const auto& v = it->value();
  if (v.is_int64() && v.as_int64() >= -kMax && v.as_int64() <= kMax)
    return std::optional<int64_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(kMax))
    return std::optional<int64_t>(static_cast<int64_t>(v.as_uint64()));
  if (v.is_double() && std::abs(v.as_double()) <= static_cast<double>(kMax) &&
      std::trunc(v.as_double()) == v.as_double())
    return std::optional<int64_t>(static_cast<int64_t>(v.as_double()));
  return bad("invalid_field", "'" + std::string(key) + "' must be an integer");
}

Result<std::optional<bool>> optional_bool(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>{};
  if (!it->value().is_bool())
    return bad("invalid_field", "'" + std::string(key) + "' must be true or false");
  return std::optional<bool>(it->value().as_bool());
}

Status only_fields(const boost::json::object& o, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    bool known = false;
    for (auto a : allowed) known = known || kv.key() == a;
    if (!known)
      return bad("unknown_field", "unknown field '" + std::string(kv.key().substr(0, 64)) + "'");
  }
  return {};
}

Result<PageParams> page_params(const Target& t, std::string_view id_prefix) {
  PageParams p;
  if (auto it = t.query.find("limit"); it != t.query.end()) {
    size_t v = 0;
    auto [ptr, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
    if (ec != std::errc() || ptr != it->second.data() + it->second.size() || v < 1 || v > 100)
      return bad("invalid_limit", "limit must be an integer from 1 to 100");
    p.limit = v;
  }
  if (auto it = t.query.find("cursor"); it != t.query.end() && !it->second.empty()) {
    if (!is_id(it->second, id_prefix))
      return bad("invalid_cursor", "cursor is not one this list returned");
    p.cursor = it->second;
  }
  return p;
}

std::string page_json(boost::json::array data, const std::optional<std::string>& next) {
  boost::json::object o;
  o["data"] = std::move(data);
  o["next"] = next ? boost::json::value(*next) : boost::json::value(nullptr);
  return boost::json::serialize(o);
}

net::Response ok_json(unsigned status, const boost::json::value& v) {
  return net::json_response(status, boost::json::serialize(v));
}

net::Response no_content() {
  net::Response res{boost::beast::http::status::no_content, 11};
  res.prepare_payload();
  return res;
}

}  // namespace sealhook::api
