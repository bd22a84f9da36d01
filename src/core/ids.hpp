#pragma once
// Prefixed, time-sortable identifiers (`tn_`, `ep_`, `evt_`, `msg_`, ...) and secret tokens.
// An id is the prefix followed by 26 Crockford base32 characters: 48 bits of milliseconds
// then 80 random bits, so ids sort by creation time (lists page on them).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sealhook {

std::string new_id(std::string_view prefix, int64_t now_ms);
// True when `id` has the shape new_id() produces for `prefix`.
bool is_id(std::string_view id, std::string_view prefix);
// `bytes` cryptographically random bytes, base64url encoded, behind `prefix`.
std::string random_token(std::string_view prefix, size_t bytes);
// Lowercase hex SHA-256, used to store API keys and tokens hashed.
std::string sha256_hex(std::string_view data);
// The 128 bits behind `prefix` of an id new_id() made with that prefix, as (high, low) halves;
// none when `id` has another shape (or its first character holds more than the 2 bits new_id
// leaves there). id_from_bits() gives the id back: a compact, exact key for large id sets.
std::optional<std::pair<uint64_t, uint64_t>> id_bits(std::string_view id, std::string_view prefix);
std::string id_from_bits(std::string_view prefix, std::pair<uint64_t, uint64_t> bits);
// Constant-time equality of two strings (length is not secret).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace sealhook
