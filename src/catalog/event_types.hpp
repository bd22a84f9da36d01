#pragma once
// Event type names and subscription patterns ("order.created", "invoice.*", "*").
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace sealhook {

inline constexpr size_t kMaxEventTypeLength = 256;
inline constexpr size_t kMaxPatterns = 256;

// 1..256 characters of [A-Za-z0-9._:-].
bool is_valid_event_type(std::string_view type);
// An event type, optionally ending in "*" (a suffix wildcard), or "*" alone.
bool is_valid_pattern(std::string_view pattern);
bool pattern_matches(std::string_view pattern, std::string_view type);
bool any_pattern_matches(const std::vector<std::string>& patterns, std::string_view type);
// Checks a list from the API: bounded count, each valid, duplicates removed (order kept).
Result<std::vector<std::string>> normalize_patterns(const std::vector<std::string>& patterns);

}  // namespace sealhook
