#pragma once
// The plaintext of every delivery, as Publisher::prepare() writes it around the payload:
//   {"id":"evt_...","type":"...","tenant":"tn_...","timestamp":<unix ms>,"data":<payload>}
// and so the largest a receiver can be sent for a given --max-payload-bytes.
#include <cstddef>
#include <string_view>

#include "catalog/event_types.hpp"

namespace sealhook {

inline constexpr size_t kEventIdLength = 4 + 26;   // "evt_" and a new_id()
inline constexpr size_t kMaxTenantIdLength = 64;   // what POST /v1/events takes as "tenant"
inline constexpr size_t kMaxTimestampLength = 20;  // an int64 in decimal, with its sign

constexpr size_t event_plaintext_bound(size_t payload_bytes) {
  constexpr std::string_view kFraming[] = {R"({"id":")",        R"(","type":")", R"(","tenant":")",
                                           R"(","timestamp":)", R"(,"data":)",   "}"};
  size_t framing = 0;
  for (std::string_view s : kFraming) framing += s.size();
  return framing + kEventIdLength + kMaxEventTypeLength + kMaxTenantIdLength + kMaxTimestampLength +
         payload_bytes;
}

}  // namespace sealhook
