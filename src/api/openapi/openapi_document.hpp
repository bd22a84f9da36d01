#pragma once
// The OpenAPI 3.1 document of the HTTP API (openapi/openapi.json), embedded at build time.
#include <string_view>

namespace sealhook::api {

// The committed file's bytes, exactly.
std::string_view openapi_document();

}  // namespace sealhook::api
