#pragma once
// Standard Webhooks signatures: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>,
// the secret being the base64 after "whsec_".
#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sealhook::crypto {

class SigningSecret {
 public:
  // 24 random bytes (Svix and Standard Webhooks use 24 to 64).
  static SigningSecret generate();
  // "whsec_<base64>" with 24..64 decoded bytes.
  static Result<SigningSecret> parse(std::string_view text);

  std::string to_string() const;  // whsec_..., for the one answer that shows it
  // Printed, it redacts itself ("whsec_[redacted]"); there is no fmt formatter, so a log
  // call that is handed one does not compile.
  friend std::ostream& operator<<(std::ostream& os, const SigningSecret&) {
    return os << "whsec_[redacted]";
  }
  // The header value: "v1,<base64>".
  std::string sign(std::string_view msg_id, int64_t timestamp_s, std::string_view body) const;
  // True when any space-separated "v1,..." entry of `header` matches (constant time).
  bool verify(std::string_view msg_id, int64_t timestamp_s, std::string_view body,
              std::string_view header) const;

 private:
  void prepare();  // builds keyed_ from key_

  std::string key_;  // raw bytes
  // An HMAC-SHA256 context already keyed with key_, never used itself: each signature starts
  // from a copy, which skips fetching the digest and hashing the key (~40% of a 1 KiB sign).
  std::shared_ptr<const EVP_MAC_CTX> keyed_;
};

}  // namespace sealhook::crypto
