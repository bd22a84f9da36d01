#pragma once
// Customer-side key generation (`sealhook keygen`).
#include "crypto/jwk.hpp"

namespace sealhook::crypto {

// type kRsa with bits 2048/3072/4096, or kX25519 (bits ignored), or kEc (P-256).
Result<PrivateKey> generate_key(KeyType type, int bits);

}  // namespace sealhook::crypto
