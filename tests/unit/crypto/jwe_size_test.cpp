#include <gtest/gtest.h>

#include <string>

#include "crypto/jwe.hpp"
#include "crypto/keygen.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto {
namespace {

TEST(JweSize, BoundsWhatSealMakesForEveryKeyType) {
  const PrivateKey keys[] = {
      generate_key(KeyType::kRsa, 2048).value(), generate_key(KeyType::kRsa, 4096).value(),
      generate_key(KeyType::kX25519, 0).value(), generate_key(KeyType::kEc, 0).value()};
  for (size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3}, size_t{100}, size_t{65'537}}) {
    const std::string plain(n, 'x');
    for (const PrivateKey& k : keys) {
      const std::string sealed = jwe_seal(k.public_key(), plain).value();
      EXPECT_LE(sealed.size(), jwe_compact_bound(n)) << n << " bytes, " << k.public_key().alg();
      // Tight: only the largest RSA key (16384 bits) and the largest header are to spare.
      EXPECT_LT(jwe_compact_bound(n) - sealed.size(), 2'731u + 300u) << n;
    }
  }
}

TEST(JweSize, GrowsAsTheBase64urlOfThePlaintext) {
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, size_t{1} << 20})
    EXPECT_EQ(jwe_compact_bound(n) - jwe_compact_bound(0), detail::b64url_size(n)) << n;
  EXPECT_EQ(detail::b64url_size(1u << 20), 1'398'102u);  // 4/3, unpadded
}

}  // namespace
}  // namespace sealhook::crypto
