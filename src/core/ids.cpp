#include "core/ids.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstring>
#include <stdexcept>

#include "core/base64.hpp"

namespace sealhook {
namespace {

constexpr std::string_view kCrockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void random_bytes(unsigned char* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}

// Random bytes for ids, which must be unique and unguessable but are not secrets: taken from a
// per-thread buffer that one RAND_bytes call refills (one call costs about as much as 64
// id-sized ones; a server mints two ids per delivery). sealhook never forks, so no two
// processes share a buffer.
void id_random_bytes(unsigned char* out, size_t n) {
  constexpr size_t kBuffer = 640;
  thread_local std::array<unsigned char, kBuffer> buf;
  thread_local size_t used = kBuffer;
  if (n > kBuffer) return random_bytes(out, n);
  if (kBuffer - used < n) {
    random_bytes(buf.data(), kBuffer);
    used = 0;
  }
  std::memcpy(out, buf.data() + used, n);
  used += n;
}

// 128 bits -> 26 base32 characters (the top two bits of the first character are zero).
void encode_bits(unsigned __int128 v, std::string& out) {
  char buf[26];
  for (int i = 25; i >= 0; --i) {
    buf[i] = kCrockford[static_cast<size_t>(v & 31)];
    v >>= 5;
  }
  out.append(buf, 26);
}

}  // namespace

std::string new_id(std::string_view prefix, int64_t now_ms) {
  std::array<unsigned char, 16> raw{};
  auto ms = static_cast<uint64_t>(now_ms);
  for (int i = 0; i < 6; ++i) raw[i] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
  id_random_bytes(raw.data() + 6, 10);
  std::string out(prefix);
  out.reserve(prefix.size() + 26);
  unsigned __int128 v = 0;
  for (unsigned char b : raw) v = (v << 8) | b;
  encode_bits(v, out);
  return out;
}

std::optional<std::pair<uint64_t, uint64_t>> id_bits(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 26 || id.substr(0, prefix.size()) != prefix) return std::nullopt;
  unsigned __int128 v = 0;
  bool first = true;
  for (char c : id.substr(prefix.size())) {
    size_t d = kCrockford.find(c);
    if (d == std::string_view::npos || (first && d > 7)) return std::nullopt;
    first = false;
    v = (v << 5) | d;
  }
  return std::pair{static_cast<uint64_t>(v >> 64), static_cast<uint64_t>(v)};
}

std::string id_from_bits(std::string_view prefix, std::pair<uint64_t, uint64_t> bits) {
  std::string out(prefix);
  out.reserve(prefix.size() + 26);
  encode_bits((static_cast<unsigned __int128>(bits.first) << 64) | bits.second, out);
  return out;
}

bool is_id(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 26 || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size()))
    if (kCrockford.find(c) == std::string_view::npos) return false;
  return true;
}

std::string random_token(std::string_view prefix, size_t bytes) {
  std::string raw(bytes, '\0');
  random_bytes(reinterpret_cast<unsigned char*>(raw.data()), bytes);
  return std::string(prefix) + base64url_encode(raw);
}

std::string sha256_hex(std::string_view data) {
  // Fetched once: EVP_sha256() would be looked up again on every call (every API request
  // hashes its bearer token).
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, sha256, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace sealhook
