#pragma once
// Lengths in characters (code points) of UTF-8 text, as JSON Schema's maxLength counts them.
#include <algorithm>
#include <cstddef>
#include <string_view>

namespace sealhook {

// Valid UTF-8 assumed (Boost.JSON checks it on parse): every byte but a continuation byte
// (10xxxxxx) starts a character.
inline size_t utf8_length(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace sealhook
