#include "crypto/primitives.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstdint>
#include <cstring>

#include "core/base64.hpp"
#include "crypto/ossl.hpp"

namespace sealhook::crypto::detail {
namespace {

// Ciphers are fetched once and shared: an EVP_CIPHER is immutable and reference counted,
// so every thread may use it, and sealing skips the provider lookup each time.
const EVP_CIPHER* fetch(const char* name) { return EVP_CIPHER_fetch(nullptr, name, nullptr); }

const EVP_CIPHER* gcm_cipher(size_t key_bytes) {
  static const EVP_CIPHER* const k128 = fetch("AES-128-GCM");
  static const EVP_CIPHER* const k192 = fetch("AES-192-GCM");
  static const EVP_CIPHER* const k256 = fetch("AES-256-GCM");
  return key_bytes == 16 ? k128 : key_bytes == 24 ? k192 : key_bytes == 32 ? k256 : nullptr;
}

const EVP_CIPHER* wrap_cipher(size_t key_bytes) {
  static const EVP_CIPHER* const k128 = fetch("AES-128-WRAP");
  static const EVP_CIPHER* const k192 = fetch("AES-192-WRAP");
  static const EVP_CIPHER* const k256 = fetch("AES-256-WRAP");
  return key_bytes == 16 ? k128 : key_bytes == 24 ? k192 : key_bytes == 32 ? k256 : nullptr;
}

// A multiple of 3, so that base64url chunks concatenate without padding in between.
constexpr size_t kChunk = 3 * 8192;

// base64url encoding is on the hot path (every sealed byte goes through it), so it is
// table driven: each 12 input bits map to a precomputed pair of output characters.
struct PairTable {
  char pair[4096][2];
  constexpr PairTable() : pair() {
    constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < 4096; ++i) {
      pair[i][0] = kAlphabet[i >> 6];
      pair[i][1] = kAlphabet[i & 63];
    }
  }
};
constexpr PairTable kPairs;

char* b64url_write(char* out, const unsigned char* in, size_t n) {
  for (; n >= 3; n -= 3, in += 3, out += 4) {
    uint32_t v = (uint32_t{in[0]} << 16) | (uint32_t{in[1]} << 8) | in[2];
    std::memcpy(out, kPairs.pair[v >> 12], 2);
    std::memcpy(out + 2, kPairs.pair[v & 0xfff], 2);
  }
  if (n > 0) {  // 1 or 2 trailing bytes: 2 or 3 characters, no padding
    uint32_t v = (uint32_t{in[0]} << 16) | (n == 2 ? uint32_t{in[1]} << 8 : 0);
    std::memcpy(out, kPairs.pair[v >> 12], 2);
    out += 2;
    if (n == 2) *out++ = kPairs.pair[v & 0xfff][0];
  }
  return out;
}

bool is_b64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

std::optional<std::string> aes_kw(std::string_view kek, std::string_view in, bool wrap) {
  const EVP_CIPHER* cipher = wrap_cipher(kek.size());
  size_t min = wrap ? 16 : 24;
  if (cipher == nullptr || in.size() % 8 != 0 || in.size() < min || in.size() > 4096) {
    return std::nullopt;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return std::nullopt;
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  std::string out(in.size() + 8, '\0');
  int len = 0, fin = 0;
  if (EVP_CipherInit_ex2(ctx.get(), cipher, bytes(kek), nullptr, wrap ? 1 : 0, nullptr) != 1 ||
      EVP_CipherUpdate(ctx.get(), bytes(out), &len, bytes(in), static_cast<int>(in.size())) != 1 ||
      len < 0 || EVP_CipherFinal_ex(ctx.get(), bytes(out) + len, &fin) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(static_cast<size_t>(len + fin));
  return out;
}

// A context for RSAES-OAEP with `md` as the hash and the MGF1 hash, initialized to encrypt or
// decrypt with `key`; empty on failure.
PkeyCtx oaep_ctx(EVP_PKEY* key, const char* md, bool encrypt) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx) return ctx;
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE,
                                       const_cast<char*>(OSSL_PKEY_RSA_PAD_MODE_OAEP), 0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, const_cast<char*>(md),
                                       0),
      OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, const_cast<char*>(md),
                                       0),
      OSSL_PARAM_construct_end()};
  int init = encrypt ? EVP_PKEY_encrypt_init_ex(ctx.get(), params)
                     : EVP_PKEY_decrypt_init_ex(ctx.get(), params);
  if (init != 1) {
    ERR_clear_error();
    ctx.reset();
  }
  return ctx;
}

// Runs the operation `ctx` was initialized for.
std::optional<std::string> oaep_run(EVP_PKEY_CTX* ctx, std::string_view in, bool encrypt) {
  auto op = encrypt ? EVP_PKEY_encrypt : EVP_PKEY_decrypt;
  size_t len = 0;
  if (op(ctx, nullptr, &len, bytes(in), in.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(len, '\0');
  if (op(ctx, bytes(out), &len, bytes(in), in.size()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

bool random_bytes(void* out, size_t n) {
  return n <= INT_MAX && RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(n)) == 1;
}

std::string sha256(std::string_view data) {
  std::string md(32, '\0');
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), bytes(md), &len, EVP_sha256(), nullptr) != 1) {
    ERR_clear_error();
    return {};
  }
  return md;
}

void b64url_append(std::string& out, std::string_view data) {
  size_t old = out.size();
  out.resize(old + b64url_size(data.size()));
  b64url_write(out.data() + old, bytes(data), data.size());
}

std::optional<std::string> b64url_decode(std::string_view text) {
  for (char c : text) {
    if (!is_b64url_char(c)) return std::nullopt;
  }
  return base64url_decode(text);
}

bool gcm_seal_b64(std::string_view key, std::string_view iv, std::string_view aad,
                  std::string_view plaintext, std::string& out, unsigned char* tag) {
  const EVP_CIPHER* cipher = gcm_cipher(key.size());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (cipher == nullptr || iv.size() != kGcmIvBytes || aad.size() > INT_MAX || !ctx ||
      EVP_EncryptInit_ex2(ctx.get(), cipher, bytes(key), bytes(iv), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1) {
    ERR_clear_error();
    return false;
  }
  unsigned char buf[kChunk + 16];
  while (!plaintext.empty()) {
    size_t n = plaintext.size() < kChunk ? plaintext.size() : kChunk;
    if (EVP_EncryptUpdate(ctx.get(), buf, &len, bytes(plaintext), static_cast<int>(n)) != 1 ||
        static_cast<size_t>(len) != n) {  // GCM is a stream mode: n in, n out
      ERR_clear_error();
      return false;
    }
    b64url_append(out, std::string_view(reinterpret_cast<const char*>(buf), n));
    plaintext.remove_prefix(n);
  }
  if (EVP_EncryptFinal_ex(ctx.get(), buf, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_GET_TAG, kGcmTagBytes, tag) != 1) {
    ERR_clear_error();
    return false;
  }
  return true;
}

std::optional<std::string> gcm_open(std::string_view key, std::string_view iv, std::string_view aad,
                                    std::string_view ciphertext, std::string_view tag) {
  const EVP_CIPHER* cipher = gcm_cipher(key.size());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (cipher == nullptr || iv.size() != kGcmIvBytes || tag.size() != kGcmTagBytes ||
      aad.size() > INT_MAX || !ctx ||
      EVP_DecryptInit_ex2(ctx.get(), cipher, bytes(key), bytes(iv), nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(ciphertext.size(), '\0');
  size_t done = 0;
  while (done < ciphertext.size()) {
    size_t n = ciphertext.size() - done < kChunk ? ciphertext.size() - done : kChunk;
    if (EVP_DecryptUpdate(ctx.get(), bytes(out) + done, &len, bytes(ciphertext) + done,
                          static_cast<int>(n)) != 1) {
      break;
    }
    done += n;
  }
  void* tag_ptr = const_cast<char*>(tag.data());
  if (done != ciphertext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_AEAD_SET_TAG, kGcmTagBytes, tag_ptr) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), bytes(out) + done, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    ERR_clear_error();
    return std::nullopt;
  }
  return out;
}

std::optional<std::string> aes_kw_wrap(std::string_view kek, std::string_view key) {
  return aes_kw(kek, key, true);
}

std::optional<std::string> aes_kw_unwrap(std::string_view kek, std::string_view wrapped) {
  return aes_kw(kek, wrapped, false);
}

std::optional<std::string> ecdh(EVP_PKEY* own, EVP_PKEY* peer, bool validate_peer) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, own, nullptr));
  size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer_ex(ctx.get(), peer, validate_peer ? 1 : 0) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string z(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), bytes(z), &len) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  z.resize(len);
  return z;
}

std::optional<std::string> rsa_oaep_decrypt(EVP_PKEY* key, const char* md, std::string_view in) {
  PkeyCtx ctx = oaep_ctx(key, md, false);
  if (!ctx) return std::nullopt;
  return oaep_run(ctx.get(), in, false);
}

std::optional<std::string> OaepEncryptor::encrypt(std::string_view in) {
  PkeyCtx ctx;
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      ctx = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (!ctx) ctx = oaep_ctx(key_.get(), md_, true);
  if (!ctx) return std::nullopt;
  auto out = oaep_run(ctx.get(), in, true);
  std::lock_guard lock(mu_);
  if (out && idle_.size() < kMaxIdle) idle_.push_back(std::move(ctx));  // only a sound one
  return out;
}

}  // namespace sealhook::crypto::detail
