#include "crypto/keygen.hpp"

#include "crypto/jwk_codec.hpp"
#include "crypto/ossl.hpp"

namespace sealhook::crypto {

Result<PrivateKey> generate_key(KeyType type, int bits) {
  EVP_PKEY* pkey = nullptr;
  switch (type) {
    case KeyType::kRsa:
      if (bits != 2048 && bits != 3072 && bits != 4096) {
        return make_error(ErrorKind::kBadRequest, "invalid_bits",
                          "RSA keys are generated with 2048, 3072 or 4096 bits");
      }
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
      break;
    case KeyType::kX25519:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
      break;
    case KeyType::kEc:
      pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", const_cast<char*>("P-256"));
      break;
  }
  if (pkey == nullptr) return detail::internal_error("key generation failed");
  return PrivateKey::from_pkey(detail::adopt(pkey));
}

}  // namespace sealhook::crypto
