// JWE compact parsing and opening, as the receiver does it: the protected header first (to
// pick the key by kid), then jwe_open with that key, or with each fixed key when the kid is
// unknown. What opens must be what was sealed: a re-seal to the same key opens to it again.
// Input: a compact JWE (the seeds are sealed to the keys in fixed_keys.hpp).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "crypto/jwe.hpp"
#include "fixed_keys.hpp"

namespace {

using namespace sealhook::crypto;

std::vector<PrivateKey> load_keys() {
  std::vector<PrivateKey> keys;
  for (auto pem : {sealhook::fuzz::kX25519Pem, sealhook::fuzz::kP256Pem, sealhook::fuzz::kRsaPem}) {
    auto key = PrivateKey::from_pem(pem);
    if (!key) std::abort();
    keys.push_back(std::move(*key));
  }
  return keys;
}

void open_with(const PrivateKey& key, std::string_view compact) {
  auto plain = jwe_open(key, compact);
  if (!plain) return;
  auto again = jwe_seal(key.public_key(), *plain);
  if (!again) std::abort();
  auto reopened = jwe_open(key, *again);
  if (!reopened || *reopened != *plain) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<PrivateKey> keys = load_keys();
  std::string_view compact(reinterpret_cast<const char*>(data), size);
  auto header = jwe_peek_header(compact);
  if (!header) return 0;
  for (const auto& key : keys) {
    if (key.kid() == header->kid) return open_with(key, compact), 0;
  }
  for (const auto& key : keys) open_with(key, compact);
  return 0;
}
