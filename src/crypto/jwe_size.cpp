// The size of a sealed JWE: header . encrypted key . iv . ciphertext . tag, each base64url.
#include <algorithm>
#include <string_view>

#include "crypto/jwe.hpp"
#include "crypto/jwe_header.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto {
namespace {

using detail::b64url_size;

constexpr size_t kKidChars = 43;           // base64url of a SHA-256 thumbprint
constexpr size_t kLargestCoordinate = 66;  // P-521
constexpr size_t kWrappedCekBytes = 40;    // AES key wrap of a 32-byte A256GCM key

constexpr size_t size_of(std::string_view s) { return s.size(); }

// The protected headers jwe_seal() writes (rsa_jwe_header_b64(), ecdh_wrap()), with the
// variable members at their largest.
size_t largest_header_json() {
  const size_t rsa = size_of(R"({"alg":")") + size_of(detail::kRsaAlg) +
                     size_of(R"(","enc":"A256GCM","kid":")") + kKidChars + size_of(R"("})");
  const size_t coordinate = b64url_size(kLargestCoordinate);
  const size_t ecdh =
      size_of(R"({"alg":")") + size_of(detail::kEcdhAlg) + size_of(R"(","enc":"A256GCM","epk":)") +
      size_of(R"({"crv":"P-521","kty":"EC","x":")") + coordinate + size_of(R"(","y":")") +
      coordinate + size_of(R"("})") + size_of(R"(,"kid":")") + kKidChars + size_of(R"("})");
  return std::max(rsa, ecdh);
}

}  // namespace

size_t jwe_compact_bound(size_t plaintext_bytes) {
  const size_t encrypted_key = std::max(size_t{kMaxRsaBits} / 8, kWrappedCekBytes);
  return b64url_size(largest_header_json()) + 1 + b64url_size(encrypted_key) + 1 +
         b64url_size(detail::kGcmIvBytes) + 1 + b64url_size(plaintext_bytes) + 1 +
         b64url_size(detail::kGcmTagBytes);
}

}  // namespace sealhook::crypto
