#pragma once
// Private to src/crypto: JWK members <-> EVP_PKEY, with no tenant policy applied
// (PublicKey::from_* apply it on top). Errors are ErrorKind::kUnprocessable.
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "core/result.hpp"
#include "crypto/jwk.hpp"

namespace sealhook::crypto::detail {

inline constexpr size_t kMaxKeyText = 64 * 1024;

// The member `name` of a JWK object when it is a string, else nullptr.
inline const boost::json::string* string_member(const boost::json::object& o,
                                                std::string_view name) {
  const boost::json::value* v = o.if_contains(name);
  return v == nullptr ? nullptr : v->if_string();
}

// The NIST curves JOSE names ("P-256", ...), with OpenSSL's names and their field sizes.
struct Curve {
  const char* jose;
  const char* openssl;
  size_t field_bytes;
};
const Curve* curve_named(std::string_view name, bool jose);  // by JOSE or OpenSSL name

// What an EVP_PKEY is, in JOSE terms. Anything but RSA, X25519 and the NIST P curves is
// `unsupported_key`.
struct KeyInfo {
  KeyType type = KeyType::kRsa;
  int bits = 0;
  std::string curve;  // "X25519", "P-256", "P-384", "P-521"; "" for RSA
};
Result<KeyInfo> classify(EVP_PKEY* pkey);

// A JWK object to a key. Public only (`want_private` false): any private member is
// `private_key_rejected`. Private (`want_private` true): "d" (and for RSA optionally the CRT
// members) is required and checked against the public members.
Result<PkeyPtr> pkey_from_jwk(const boost::json::object& jwk, bool want_private);

// jwk_export.cpp: the key's members as a JWK ("kty" first), with the private members when asked.
Result<boost::json::object> pkey_to_jwk(EVP_PKEY* pkey, const KeyInfo& info, bool with_private);

// The RFC 7638 hash input of a JWK: its required members, sorted, no whitespace.
Result<std::string> thumbprint_input(const boost::json::object& jwk);

PkeyPtr adopt(EVP_PKEY* pkey);

}  // namespace sealhook::crypto::detail
