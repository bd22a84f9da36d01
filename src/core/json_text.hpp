#pragma once
// The source text of a JSON object's member, byte for byte: what a publish delivers as `data`
// (a payload is validated, never re-serialized, so 0.1 stays 0.1 and 1e400 stays 1e400).
#include <optional>
#include <string_view>

#include "core/result.hpp"

namespace sealhook {

// `object_text` must be a JSON object that a JSON parser has already accepted. Returns the
// text of the value of the top-level member `key` (keys compared after unescaping), nullopt
// when there is none, and 400 duplicate_field when the key appears twice (parsers disagree on
// which one wins, so neither is guessed).
Result<std::optional<std::string_view>> member_text(std::string_view object_text,
                                                    std::string_view key);

}  // namespace sealhook
