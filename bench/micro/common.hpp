#pragma once
// Shared helpers for the micro-benchmarks: tenant keys (made once per process), payloads,
// memory readings.
#include <cstddef>
#include <string>

#include "crypto/jwk.hpp"

namespace sealhook::bench {

enum class Alg { kRsa2048, kRsa4096, kX25519, kP256 };
inline constexpr Alg kAllAlgs[] = {Alg::kRsa2048, Alg::kRsa4096, Alg::kX25519, Alg::kP256};
const char* alg_name(Alg alg);

// The customer's key pair, generated once per process (RSA-4096 takes a second or so).
const crypto::PrivateKey& private_key(Alg alg);
// The public half as the server holds it: exported to a JWK and imported again through
// PublicKey::from_jwk, the path POST /v1/keys takes.
const crypto::PublicKey& tenant_key(Alg alg);

// `n` bytes of JSON-looking text (a string of printable characters inside an object).
std::string json_payload(size_t n);

// Resident set size of this process (VmRSS), in bytes.
size_t rss_bytes();
// Bytes malloc currently hands out (mallinfo2: arena in use + mmapped blocks).
size_t heap_in_use_bytes();

// Aborts with a message when `ok` is false: a benchmark whose setup failed must not report.
void check(bool ok, const std::string& what);

}  // namespace sealhook::bench
