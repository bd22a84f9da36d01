#include "api/allow.hpp"

#include <algorithm>
#include <array>
#include <initializer_list>

namespace sealhook::api {
namespace {

struct Route {
  std::initializer_list<std::string_view> path;  // "*" stands for one id
  std::string_view allow;
};

// Mirrors the router and openapi/openapi.json (schemathesis compares the Allow header with the
// document's methods in tests/e2e/test_openapi.py).
const std::array<Route, 20> kRoutes{{
    {{"healthz"}, "GET"},
    {{"readyz"}, "GET"},
    {{"metrics"}, "GET"},
    {{"openapi.json"}, "GET"},
    {{"publish"}, "POST"},
    {{"v1", "events"}, "POST"},
    {{"v1", "tenants"}, "GET, POST"},
    {{"v1", "tenants", "*"}, "DELETE"},
    {{"v1", "tenants", "*", "api-keys"}, "GET, POST"},
    {{"v1", "tenants", "*", "api-keys", "*"}, "DELETE"},
    {{"v1", "keys"}, "GET, POST"},
    {{"v1", "keys", "*"}, "DELETE"},
    {{"v1", "subscriptions"}, "GET, PUT"},
    {{"v1", "endpoints"}, "GET, POST"},
    {{"v1", "endpoints", "*"}, "DELETE, GET, PATCH"},
    {{"v1", "endpoints", "*", "secret", "rotate"}, "POST"},
    {{"v1", "endpoints", "*", "secret", "previous"}, "DELETE"},
    {{"v1", "deliveries"}, "GET"},
    {{"v1", "deliveries", "*"}, "GET"},
    {{"v1", "deliveries", "*", "replay"}, "POST"},
}};

bool matches(const Route& r, const std::vector<std::string>& segments) {
  return r.path.size() == segments.size() &&
         std::equal(r.path.begin(), r.path.end(), segments.begin(),
                    [](std::string_view want, const std::string& got) {
                      return want == "*" || want == got;
                    });
}

}  // namespace

std::string_view allowed_methods(const std::vector<std::string>& segments) {
  for (const Route& r : kRoutes)
    if (matches(r, segments)) return r.allow;
  return {};
}

HandlerResult method_not_allowed_at(const Target& t, unsigned version, bool keep_alive) {
  std::string_view allow = allowed_methods(t.segments);
  if (allow.empty()) return make_error(ErrorKind::kNotFound, "not_found", "no such route");
  auto res = net::error_response(make_error(ErrorKind::kMethodNotAllowed, "method_not_allowed",
                                            "this method is not allowed on this path"),
                                 version, keep_alive);
  res.set(boost::beast::http::field::allow, allow);
  return res;
}

}  // namespace sealhook::api
