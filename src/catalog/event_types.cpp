#include "catalog/event_types.hpp"

#include <algorithm>

namespace sealhook {

bool is_valid_event_type(std::string_view type) {
  if (type.empty() || type.size() > kMaxEventTypeLength) return false;
  return std::all_of(type.begin(), type.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

bool is_valid_pattern(std::string_view pattern) {
  if (pattern == "*") return true;
  if (!pattern.empty() && pattern.back() == '*') pattern.remove_suffix(1);
  return is_valid_event_type(pattern);
}

bool pattern_matches(std::string_view pattern, std::string_view type) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return type.substr(0, pattern.size()) == pattern;
  }
  return pattern == type;
}

bool any_pattern_matches(const std::vector<std::string>& patterns, std::string_view type) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) { return pattern_matches(p, type); });
}

Result<std::vector<std::string>> normalize_patterns(const std::vector<std::string>& patterns) {
  if (patterns.size() > kMaxPatterns)
    return make_error(ErrorKind::kBadRequest, "too_many_event_types",
                      "at most " + std::to_string(kMaxPatterns) + " event types");
  std::vector<std::string> out;
  for (const auto& p : patterns) {
    if (!is_valid_pattern(p))
      return make_error(ErrorKind::kBadRequest, "invalid_event_type",
                        "'" + p.substr(0, 64) +
                            "' is not an event type pattern (letters, digits, . _ : -, "
                            "optionally ending in *)");
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

}  // namespace sealhook
