#pragma once
// Private to src/crypto: the protected header jwe_seal() writes for an RSA key, which
// PublicKey builds once per key (defined in jwe.cpp, next to the ECDH variant).
#include <string>
#include <string_view>

namespace sealhook::crypto::detail {

inline constexpr const char* kRsaAlg = "RSA-OAEP-256";
inline constexpr const char* kEcdhAlg = "ECDH-ES+A256KW";

std::string rsa_jwe_header_b64(std::string_view kid);

}  // namespace sealhook::crypto::detail
