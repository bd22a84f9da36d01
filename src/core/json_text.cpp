#include "core/json_text.hpp"

#include <boost/json/parse.hpp>

namespace sealhook {
namespace {

// Every function takes the index of the first byte of what it skips (input already valid).
size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

size_t skip_string(std::string_view s, size_t i) {
  for (++i; i < s.size() && s[i] != '"'; ++i)
    if (s[i] == '\\') ++i;
  return i + 1;
}

size_t skip_value(std::string_view s, size_t i) {
  if (s[i] == '"') return skip_string(s, i);
  if (s[i] != '{' && s[i] != '[') {  // number, true, false, null
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
      ++i;
    return i;
  }
  size_t depth = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '"') {
      i = skip_string(s, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if ((c == '}' || c == ']') && --depth == 0) return i + 1;
    ++i;
  }
  return i;
}

bool key_equals(std::string_view quoted, std::string_view key) {
  std::string_view inner = quoted.substr(1, quoted.size() - 2);
  if (inner.find('\\') == std::string_view::npos) return inner == key;
  boost::system::error_code ec;
  auto v = boost::json::parse(quoted, ec);
  return !ec && v.is_string() && v.as_string() == key;
}

}  // namespace

Result<std::optional<std::string_view>> member_text(std::string_view s, std::string_view key) {
  std::optional<std::string_view> found;
  size_t i = skip_space(s, 0);
  if (i >= s.size() || s[i] != '{') return found;
  i = skip_space(s, i + 1);
  while (i < s.size() && s[i] == '"') {
    size_t key_end = skip_string(s, i);
    bool match = key_equals(s.substr(i, key_end - i), key);
    i = skip_space(s, key_end) + 1;  // past ':'
    size_t start = skip_space(s, i);
    size_t end = skip_value(s, start);
    if (match) {
      if (found)
        return make_error(ErrorKind::kBadRequest, "duplicate_field",
                          "'" + std::string(key) + "' appears more than once");
      found = s.substr(start, end - start);
    }
    i = skip_space(s, end);
    if (i < s.size() && s[i] == ',') i = skip_space(s, i + 1);
  }
  return found;
}

}  // namespace sealhook
