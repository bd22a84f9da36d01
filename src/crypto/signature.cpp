#include "crypto/signature.hpp"

#include <cstdlib>

#include "core/base64.hpp"
#include "crypto/ossl.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto {
namespace {

constexpr std::string_view kPrefix = "whsec_";
constexpr size_t kMinSecretBytes = 24;
constexpr size_t kMaxSecretBytes = 64;
constexpr size_t kMacBytes = 32;
constexpr size_t kMaxHeader = 16 * 1024;  // many rotated secrets, still bounded

Error invalid_secret(std::string message) {
  return make_error(ErrorKind::kUnprocessable, "invalid_secret", std::move(message));
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// Padded standard base64 and nothing else (no whitespace, '=' only at the end).
bool is_strict_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return false;
  size_t pad = s.size() - s.find_last_not_of('=') - 1;
  if (pad > 2) return false;
  for (size_t i = 0; i < s.size() - pad; ++i) {
    if (!is_base64_char(s[i])) return false;
  }
  return true;
}

// A fresh HMAC-SHA256 context keyed with `key`; empty on failure.
detail::MacCtx keyed_hmac(std::string_view key) {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // shared, immutable
  detail::MacCtx ctx(mac != nullptr ? EVP_MAC_CTX_new(mac) : nullptr);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
      OSSL_PARAM_construct_end()};
  if (ctx && EVP_MAC_init(ctx.get(), detail::bytes(key), key.size(), params) != 1) {
    ERR_clear_error();
    ctx.reset();
  }
  return ctx;
}

// HMAC-SHA256 over "{id}.{timestamp}.{body}", fed piecewise so the body is never copied;
// starting from a copy of `keyed` (see SigningSecret::keyed_), or from `key` without one.
bool hmac(const EVP_MAC_CTX* keyed, std::string_view key, std::string_view msg_id,
          int64_t timestamp_s, std::string_view body, unsigned char* out) {
  detail::MacCtx ctx(keyed != nullptr ? EVP_MAC_CTX_dup(keyed) : keyed_hmac(key).release());
  std::string ts = std::to_string(timestamp_s);
  size_t len = 0;
  bool ok = ctx && EVP_MAC_update(ctx.get(), detail::bytes(msg_id), msg_id.size()) == 1 &&
            EVP_MAC_update(ctx.get(), detail::bytes("."), 1) == 1 &&
            EVP_MAC_update(ctx.get(), detail::bytes(ts), ts.size()) == 1 &&
            EVP_MAC_update(ctx.get(), detail::bytes("."), 1) == 1 &&
            EVP_MAC_update(ctx.get(), detail::bytes(body), body.size()) == 1 &&
            EVP_MAC_final(ctx.get(), out, &len, kMacBytes) == 1 && len == kMacBytes;
  if (!ok) ERR_clear_error();
  return ok;
}

}  // namespace

SigningSecret SigningSecret::generate() {
  SigningSecret secret;
  secret.key_.resize(kMinSecretBytes);
  // No randomness means no safe secret: that is an environment failure, not a state to run on.
  if (!detail::random_bytes(secret.key_.data(), secret.key_.size())) std::abort();
  secret.prepare();
  return secret;
}

Result<SigningSecret> SigningSecret::parse(std::string_view text) {
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return invalid_secret("a signing secret starts with \"whsec_\"");
  }
  std::string_view b64 = text.substr(kPrefix.size());
  if (b64.size() > 4 * ((kMaxSecretBytes + 2) / 3) || !is_strict_base64(b64)) {
    return invalid_secret("a signing secret is \"whsec_\" followed by base64");
  }
  std::optional<std::string> key = base64_decode(b64);
  if (!key || key->size() < kMinSecretBytes || key->size() > kMaxSecretBytes) {
    return invalid_secret("a signing secret holds 24 to 64 bytes");
  }
  SigningSecret secret;
  secret.key_ = std::move(*key);
  secret.prepare();
  return secret;
}

void SigningSecret::prepare() {
  keyed_ = std::shared_ptr<const EVP_MAC_CTX>(keyed_hmac(key_).release(), [](const EVP_MAC_CTX* c) {
    EVP_MAC_CTX_free(const_cast<EVP_MAC_CTX*>(c));
  });
}

std::string SigningSecret::to_string() const { return std::string(kPrefix) + base64_encode(key_); }

std::string SigningSecret::sign(std::string_view msg_id, int64_t timestamp_s,
                                std::string_view body) const {
  unsigned char mac[kMacBytes];
  if (!hmac(keyed_.get(), key_, msg_id, timestamp_s, body, mac)) return {};
  return "v1," + base64_encode(std::string_view(reinterpret_cast<const char*>(mac), kMacBytes));
}

bool SigningSecret::verify(std::string_view msg_id, int64_t timestamp_s, std::string_view body,
                           std::string_view header) const {
  if (header.size() > kMaxHeader) return false;
  unsigned char expected[kMacBytes];
  if (!hmac(keyed_.get(), key_, msg_id, timestamp_s, body, expected)) return false;
  bool match = false;
  while (!header.empty()) {
    size_t end = header.find(' ');
    std::string_view entry = header.substr(0, end);
    header.remove_prefix(end == std::string_view::npos ? header.size() : end + 1);
    if (entry.substr(0, 3) != "v1,") continue;  // other versions are not ours to check
    std::string_view sig = entry.substr(3);
    if (sig.size() != 4 * ((kMacBytes + 2) / 3) || !is_strict_base64(sig)) continue;
    std::optional<std::string> raw = base64_decode(sig);
    if (raw && raw->size() == kMacBytes && CRYPTO_memcmp(raw->data(), expected, kMacBytes) == 0) {
      match = true;  // keep going: the time taken does not depend on which entry matched
    }
  }
  return match;
}

}  // namespace sealhook::crypto
