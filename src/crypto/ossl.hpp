#pragma once
// Private to src/crypto: owning handles for OpenSSL objects and the error values the
// module hands out. Nothing here is part of the agreed interface.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sealhook::crypto::detail {

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};

using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Free<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using KdfCtx = std::unique_ptr<EVP_KDF_CTX, Free<EVP_KDF_CTX, EVP_KDF_CTX_free>>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, Free<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Bn = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using SecretBn = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_clear_free>>;
using Bio = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using UniquePkey = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;

// OSSL_PARAM arrays built from private key members are wiped before they are freed.
inline void params_clear_free(OSSL_PARAM* p) {
  for (OSSL_PARAM* q = p; q != nullptr && q->key != nullptr; ++q) {
    if (q->data != nullptr) OPENSSL_cleanse(q->data, q->data_size);
  }
  OSSL_PARAM_free(p);
}
using Params = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM, params_clear_free>>;

// Wipes a string holding key material when it goes out of scope.
class Wipe {
 public:
  explicit Wipe(std::string& s) : s_(s) {}
  ~Wipe() { OPENSSL_cleanse(s_.data(), s_.size()); }
  Wipe(const Wipe&) = delete;
  Wipe& operator=(const Wipe&) = delete;

 private:
  std::string& s_;
};

inline const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
inline unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// Every failure path clears OpenSSL's thread-local error queue, so one bad input
// never leaves stale errors behind for the next caller on that thread.
inline Error key_error(const char* code, std::string message) {
  ERR_clear_error();
  return make_error(ErrorKind::kUnprocessable, code, std::move(message));
}
inline Error invalid_key(std::string message) {
  return key_error("invalid_key", std::move(message));
}
inline Error unsupported(std::string message) {
  return key_error("unsupported_key", std::move(message));
}
inline Error invalid_jwe(std::string message) {
  ERR_clear_error();
  return make_error(ErrorKind::kBadRequest, "invalid_jwe", std::move(message));
}
inline Error decrypt_failed() {
  ERR_clear_error();
  return make_error(ErrorKind::kBadRequest, "decrypt_failed", "the JWE could not be decrypted");
}
inline Error internal_error(std::string message) {
  ERR_clear_error();
  return make_error(ErrorKind::kInternal, "crypto_error", std::move(message));
}

}  // namespace sealhook::crypto::detail
