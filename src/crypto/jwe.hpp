#pragma once
// JWE compact serialization (RFC 7516) on OpenSSL 3 EVP.
// seal(): what the server does, once per tenant per event:
//   RSA keys   -> alg RSA-OAEP-256,   enc A256GCM
//   X25519/EC  -> alg ECDH-ES+A256KW (Concat KDF, RFC 7518 §4.6), enc A256GCM
// open(): what a receiver does. Besides the above it accepts RSA-OAEP, ECDH-ES,
// ECDH-ES+A128KW/A192KW and A128GCM/A192GCM, so that the RFC 7520 / RFC 8037 examples
// can be checked against this code.
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "crypto/jwk.hpp"

namespace sealhook::crypto {

struct JweHeader {
  std::string alg, enc, kid;
};

Result<std::string> jwe_seal(const PublicKey& key, std::string_view plaintext);
Result<std::string> jwe_open(const PrivateKey& key, std::string_view compact);
// The protected header of a compact JWE, without decrypting (to pick a key by kid).
Result<JweHeader> jwe_peek_header(std::string_view compact);
// The largest compact JWE jwe_seal() makes of `plaintext_bytes`, for any key a tenant may
// upload (RSA up to kMaxRsaBits, the largest EC curve): what a receiver must accept.
size_t jwe_compact_bound(size_t plaintext_bytes);

// Concat KDF (NIST SP 800-56A, as profiled by RFC 7518 §4.6.2) via OpenSSL's SSKDF.
Result<std::string> concat_kdf(std::string_view z, std::string_view alg_id, std::string_view apu,
                               std::string_view apv, size_t key_bytes);

}  // namespace sealhook::crypto
