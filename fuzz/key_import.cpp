// PEM and JWK import: what POST /v1/keys accepts (PublicKey::parse: a PEM string or a JWK
// object), the store's re-import, and the receiver's private keys. An accepted key must
// survive a round trip through its own JWK and PEM with the same kid.
// Input: JSON (a PEM string or a JWK object), or else raw PEM text.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "crypto/jwk.hpp"

namespace {

using namespace sealhook::crypto;

void check(bool ok) {
  if (!ok) std::abort();
}

void round_trip(const PublicKey& key) {
  check(!key.kid().empty());
  auto from_jwk = PublicKey::from_stored_jwk(key.to_jwk());
  check(from_jwk && from_jwk->kid() == key.kid());
  auto from_pem = PublicKey::from_pem(key.to_pem());
  check(from_pem && from_pem->kid() == key.kid());
}

void round_trip(const PrivateKey& key) {
  auto from_jwk = PrivateKey::from_jwk(key.to_jwk());
  check(from_jwk && from_jwk->kid() == key.kid());
  auto from_pem = PrivateKey::from_pem(key.to_pem());
  check(from_pem && from_pem->kid() == key.kid());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(in, ec);
  if (!ec) {
    if (auto key = PublicKey::parse(v)) round_trip(*key);
    if (auto key = PublicKey::from_stored_jwk(v)) round_trip(*key);
    if (auto key = PrivateKey::from_jwk(v)) round_trip(*key);
    return 0;
  }
  if (auto key = PublicKey::from_pem(in)) round_trip(*key);
  if (auto key = PrivateKey::from_pem(in)) round_trip(*key);
  return 0;
}
