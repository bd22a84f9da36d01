#pragma once
// Request helpers shared by the handlers: JSON bodies, typed fields, query strings, pagination.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "net/http_server.hpp"

namespace sealhook::api {

struct Target {
  std::vector<std::string> segments;  // "/v1/endpoints/ep_1" -> {"v1", "endpoints", "ep_1"}
  std::map<std::string, std::string> query;
};
Result<Target> parse_target(std::string_view target);

// The body as a JSON object (400 malformed_json / invalid_body otherwise).
Result<boost::json::object> parse_object(const net::Request& req);

// Typed field access: 400 missing_field / invalid_field with the field's name.
Result<std::string> required_string(const boost::json::object& o, std::string_view key,
                                    size_t max_len = 2048);
Result<std::optional<std::string>> optional_string(const boost::json::object& o,
                                                   std::string_view key, size_t max_len = 2048);
Result<std::optional<std::vector<std::string>>> optional_string_list(const boost::json::object& o,
                                                                     std::string_view key);
Result<std::optional<int>> optional_int(const boost::json::object& o, std::string_view key);
// An integer of up to 2^53 (exact in a JSON double), else 400.
Result<std::optional<int64_t>> optional_int64(const boost::json::object& o, std::string_view key);
Result<std::optional<bool>> optional_bool(const boost::json::object& o, std::string_view key);
// Rejects members not in `allowed` (400 unknown_field), catching typos like "event_type".
Status only_fields(const boost::json::object& o, std::initializer_list<std::string_view> allowed);

struct PageParams {
  size_t limit = 50;
  std::optional<std::string> cursor;
};
// ?limit= (1..100, default 50) and ?cursor=, which must be an id with `id_prefix` (a list's
// cursor is the id of the last item of the previous page): 400 invalid_cursor otherwise.
Result<PageParams> page_params(const Target& t, std::string_view id_prefix);

// {"data": [...], "next": cursor|null}
std::string page_json(boost::json::array data, const std::optional<std::string>& next);

net::Response ok_json(unsigned status, const boost::json::value& v);
net::Response no_content();

}  // namespace sealhook::api
