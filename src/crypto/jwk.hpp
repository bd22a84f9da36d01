#pragma once
// Public and private keys: import from PEM or JWK, RFC 7638 thumbprint (`kid`), export.
// The server only ever holds public keys; PrivateKey is for the receiver, keygen and tests.
#include <openssl/evp.h>

#include <boost/json/value.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sealhook::crypto {

namespace detail {
class OaepEncryptor;
}

enum class KeyType { kRsa, kX25519, kEc };  // kEc: a NIST curve (P-256 accepted for tenants)

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

// Bounds for tenant keys (422 outside them).
inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 16384;

class PublicKey {
 public:
  // A PEM "PUBLIC KEY" (SPKI) block.
  static Result<PublicKey> from_pem(std::string_view pem);
  // A public JWK object; a JWK with private members ("d", ...) is refused.
  static Result<PublicKey> from_jwk(const boost::json::value& jwk);
  // A JWK this server accepted before (its store): the same checks except the trial key
  // agreement, which it passed on upload (~50 µs per EC key, minutes for a large catalog).
  static Result<PublicKey> from_stored_jwk(const boost::json::value& jwk);
  // A JSON string holding PEM, or a JWK object: the shape of POST /v1/keys.
  static Result<PublicKey> parse(const boost::json::value& v);

  KeyType type() const { return type_; }
  int bits() const { return bits_; }
  const std::string& kid() const { return kid_; }      // RFC 7638 thumbprint, base64url
  const std::string& alg() const { return alg_; }      // "RSA-OAEP-256" | "ECDH-ES+A256KW"
  const std::string& curve() const { return curve_; }  // "X25519", "P-256", ... ("" for RSA)
  // Public JWK with "kid", "alg" and "use": "enc".
  boost::json::object to_jwk() const;
  std::string to_pem() const;
  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  friend class PrivateKey;
  friend Result<std::string> jwe_seal(const PublicKey& key, std::string_view plaintext);
  // No tenant policy here (from_pem/from_jwk add it): PrivateKey::public_key() uses it too.
  static Result<PublicKey> from_pkey(PkeyPtr pkey);
  static Result<PublicKey> jwk_key(const boost::json::value& jwk, bool trial_agreement);
  PkeyPtr pkey_;
  KeyType type_ = KeyType::kRsa;
  int bits_ = 0;
  std::string kid_, alg_, curve_;
  // RSA keys only: the base64url JWE protected header, the same for every seal, so it is
  // built once here and only read (by any number of threads) afterwards; and the reusable
  // RSA-OAEP-256 contexts that wrap each seal's content key.
  std::string jwe_header_b64_;
  std::shared_ptr<detail::OaepEncryptor> oaep_;
};

class PrivateKey {
 public:
  static Result<PrivateKey> from_pem(std::string_view pem);
  static Result<PrivateKey> from_jwk(const boost::json::value& jwk);
  // A file holding a PEM private key or a private JWK (by its first non-blank character).
  static Result<PrivateKey> load_file(const std::string& path);
  // A key OpenSSL already holds (keygen); it must have its private half.
  static Result<PrivateKey> from_pkey(PkeyPtr pkey);

  KeyType type() const { return type_; }
  const std::string& kid() const { return kid_; }  // thumbprint of the public half
  PublicKey public_key() const;
  boost::json::object to_jwk() const;  // private JWK with "kid"
  std::string to_pem() const;          // PKCS#8
  EVP_PKEY* get() const { return pkey_.get(); }

 private:
  PkeyPtr pkey_;
  KeyType type_ = KeyType::kRsa;
  std::string kid_;
  PublicKey public_;  // the public half (its own public-only EVP_PKEY), made once
};

// RFC 7638 thumbprint of a JWK object (required members only, lexicographic, SHA-256).
Result<std::string> jwk_thumbprint(const boost::json::object& jwk);

}  // namespace sealhook::crypto
