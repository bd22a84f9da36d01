#include "crypto/keygen.hpp"

#include <gtest/gtest.h>

#include "crypto/jwe.hpp"

namespace sealhook::crypto {
namespace {

void expect_usable(const PrivateKey& key, KeyType type) {
  EXPECT_EQ(key.type(), type);
  EXPECT_EQ(key.kid().size(), 43u);
  EXPECT_EQ(key.kid(), key.public_key().kid());
  // What a customer uploads passes the server's tenant-key policy.
  auto uploaded = PublicKey::from_pem(key.public_key().to_pem());
  ASSERT_TRUE(uploaded) << uploaded.error().message;
  EXPECT_EQ(uploaded->kid(), key.kid());
  EXPECT_TRUE(PublicKey::from_jwk(key.public_key().to_jwk()));
  auto reloaded = PrivateKey::from_pem(key.to_pem());
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->kid(), key.kid());
  auto opened = jwe_open(*reloaded, jwe_seal(*uploaded, "ping").value());
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, "ping");
}

TEST(Keygen, Rsa) {
  auto key = generate_key(KeyType::kRsa, 2048);
  ASSERT_TRUE(key) << key.error().message;
  expect_usable(*key, KeyType::kRsa);
  EXPECT_EQ(key->public_key().bits(), 2048);
  auto k3072 = generate_key(KeyType::kRsa, 3072);
  ASSERT_TRUE(k3072);
  EXPECT_EQ(k3072->public_key().bits(), 3072);
}

TEST(Keygen, X25519AndP256) {
  auto x = generate_key(KeyType::kX25519, 0);
  ASSERT_TRUE(x);
  expect_usable(*x, KeyType::kX25519);
  EXPECT_EQ(x->public_key().curve(), "X25519");
  auto ec = generate_key(KeyType::kEc, 4096);  // bits ignored
  ASSERT_TRUE(ec);
  expect_usable(*ec, KeyType::kEc);
  EXPECT_EQ(ec->public_key().curve(), "P-256");
  EXPECT_NE(generate_key(KeyType::kX25519, 0)->kid(), x->kid());
}

TEST(Keygen, RefusesOtherRsaSizes) {
  for (int bits : {0, 1024, 2047, 2049, 8192, -1}) {
    auto key = generate_key(KeyType::kRsa, bits);
    ASSERT_FALSE(key) << bits;
    EXPECT_EQ(key.error().kind, ErrorKind::kBadRequest);
    EXPECT_EQ(key.error().code, "invalid_bits");
  }
}

}  // namespace
}  // namespace sealhook::crypto
