#pragma once
// The methods each path of the API answers: the Allow header of a 405 (RFC 9110 §15.5.6).
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers/handlers.hpp"

namespace sealhook::api {

// "GET, POST" for {"v1", "tenants"}; empty when no route has this path.
std::string_view allowed_methods(const std::vector<std::string>& segments);

// The router refused the method: 405 with Allow, or 404 when no route has this path at all.
HandlerResult method_not_allowed_at(const Target& t, unsigned version, bool keep_alive);

}  // namespace sealhook::api
