#pragma once
// Private to src/crypto: the few primitives JWE is made of, each a thin wrapper over one
// OpenSSL 3 EVP operation. Failures come back as std::nullopt / false; the callers decide
// which error a failure is (a tampered message for open, a bug for seal).
#include <openssl/evp.h>

#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ossl.hpp"

namespace sealhook::crypto::detail {

inline constexpr size_t kGcmIvBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

bool random_bytes(void* out, size_t n);
std::string sha256(std::string_view data);

// Unpadded base64url, appended to `out` (no intermediate string).
void b64url_append(std::string& out, std::string_view data);
inline size_t b64url_size(size_t n) { return (n / 3) * 4 + (n % 3 == 0 ? 0 : n % 3 + 1); }
// Strict: only the base64url alphabet, no padding, no whitespace.
std::optional<std::string> b64url_decode(std::string_view text);

// AES-GCM (key 16/24/32 bytes, 96-bit IV, 128-bit tag). Seal appends base64url(ciphertext)
// to `out` chunk by chunk, so a large payload is never held twice.
bool gcm_seal_b64(std::string_view key, std::string_view iv, std::string_view aad,
                  std::string_view plaintext, std::string& out, unsigned char* tag);
std::optional<std::string> gcm_open(std::string_view key, std::string_view iv, std::string_view aad,
                                    std::string_view ciphertext, std::string_view tag);

// AES key wrap, RFC 3394 (KEK 16/24/32 bytes).
std::optional<std::string> aes_kw_wrap(std::string_view kek, std::string_view key);
std::optional<std::string> aes_kw_unwrap(std::string_view kek, std::string_view wrapped);

// Raw (EC)DH shared secret Z. `validate_peer` runs OpenSSL's public-key check on the peer.
std::optional<std::string> ecdh(EVP_PKEY* own, EVP_PKEY* peer, bool validate_peer);

// RSAES-OAEP with `md` ("SHA1" or "SHA256") as both the hash and the MGF1 hash.
std::optional<std::string> rsa_oaep_decrypt(EVP_PKEY* key, const char* md, std::string_view in);

// RSAES-OAEP encryption to one key with contexts that are set up once and reused: a fresh
// EVP_PKEY_CTX with its OAEP parameters costs about 3 us of a 2048-bit seal's 21 us.
// Thread-safe: a call borrows an idle context (or makes one) and gives it back afterwards.
class OaepEncryptor {
 public:
  OaepEncryptor(std::shared_ptr<EVP_PKEY> key, const char* md) : key_(std::move(key)), md_(md) {}
  std::optional<std::string> encrypt(std::string_view in);

 private:
  static constexpr size_t kMaxIdle = 16;  // about one per thread that seals at once
  std::shared_ptr<EVP_PKEY> key_;         // kept alive for the contexts made later
  const char* md_;
  std::mutex mu_;
  std::vector<PkeyCtx> idle_;
};

}  // namespace sealhook::crypto::detail
