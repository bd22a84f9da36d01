#pragma once
// Base64 (RFC 4648 §4, padded) and base64url (§5, unpadded, as JOSE uses it).
#include <optional>
#include <string>
#include <string_view>

namespace sealhook {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

}  // namespace sealhook
