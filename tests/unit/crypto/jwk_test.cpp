#include "crypto/jwk.hpp"

#include <gtest/gtest.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdio>
#include <fstream>
#include <random>

#include "crypto/keygen.hpp"

namespace sealhook::crypto {
namespace {

namespace json = boost::json;

// PEM of an OpenSSL-generated key: `selection` public or private, `structure`
// "SubjectPublicKeyInfo", "PrivateKeyInfo" or "type-specific" (PKCS#1, SEC1).
std::string pem_of(EVP_PKEY* pkey, int selection, const char* structure) {
  OSSL_ENCODER_CTX* ctx = OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, nullptr);
  unsigned char* data = nullptr;
  size_t len = 0;
  std::string out;
  if (ctx != nullptr && OSSL_ENCODER_to_data(ctx, &data, &len) == 1) {
    out.assign(reinterpret_cast<char*>(data), len);
  }
  OPENSSL_free(data);
  OSSL_ENCODER_CTX_free(ctx);
  return out;
}

std::string public_pem(const char* type, const char* param = nullptr, size_t bits = 0) {
  EVP_PKEY* pkey = bits != 0 ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits)
                   : param != nullptr
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, const_cast<char*>(param))
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
  std::string pem = pem_of(pkey, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo");
  EVP_PKEY_free(pkey);
  return pem;
}

void expect_error(const Result<PublicKey>& r, const char* code) {
  ASSERT_FALSE(r) << "expected " << code;
  EXPECT_EQ(r.error().kind, ErrorKind::kUnprocessable);
  EXPECT_EQ(r.error().code, code) << r.error().message;
}

class JwkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = new PrivateKey(generate_key(KeyType::kRsa, 2048).value());
    x25519_ = new PrivateKey(generate_key(KeyType::kX25519, 0).value());
    p256_ = new PrivateKey(generate_key(KeyType::kEc, 0).value());
  }
  static void TearDownTestSuite() {
    delete rsa_;
    delete x25519_;
    delete p256_;
  }
  static PrivateKey* rsa_;
  static PrivateKey* x25519_;
  static PrivateKey* p256_;
};
PrivateKey* JwkTest::rsa_ = nullptr;
PrivateKey* JwkTest::x25519_ = nullptr;
PrivateKey* JwkTest::p256_ = nullptr;

TEST_F(JwkTest, PemJwkPemRoundTripKeepsTheKid) {
  for (const PrivateKey* priv : {rsa_, x25519_, p256_}) {
    std::string pem = priv->public_key().to_pem();
    ASSERT_EQ(pem.rfind("-----BEGIN PUBLIC KEY-----", 0), 0u);
    auto from_pem = PublicKey::from_pem(pem);
    ASSERT_TRUE(from_pem) << from_pem.error().message;
    EXPECT_EQ(from_pem->kid(), priv->kid());
    json::object jwk = from_pem->to_jwk();
    EXPECT_EQ(jwk.at("kid"), from_pem->kid().c_str());
    EXPECT_EQ(jwk.at("use"), "enc");
    EXPECT_EQ(jwk.at("alg"), from_pem->alg().c_str());
    EXPECT_FALSE(jwk.contains("d"));
    EXPECT_EQ(jwk_thumbprint(jwk).value(), from_pem->kid());
    auto from_jwk = PublicKey::parse(jwk);
    ASSERT_TRUE(from_jwk) << from_jwk.error().message;
    EXPECT_EQ(from_jwk->kid(), priv->kid());
    EXPECT_EQ(from_jwk->to_pem(), pem);
    EXPECT_EQ(PublicKey::parse(json::value(pem))->kid(), priv->kid());
  }
}

TEST_F(JwkTest, TypesAlgsAndCurves) {
  auto rsa = PublicKey::from_pem(rsa_->public_key().to_pem());
  EXPECT_EQ(rsa->type(), KeyType::kRsa);
  EXPECT_EQ(rsa->bits(), 2048);
  EXPECT_EQ(rsa->alg(), "RSA-OAEP-256");
  EXPECT_EQ(rsa->curve(), "");
  auto x = PublicKey::from_pem(x25519_->public_key().to_pem());
  EXPECT_EQ(x->type(), KeyType::kX25519);
  EXPECT_EQ(x->alg(), "ECDH-ES+A256KW");
  EXPECT_EQ(x->curve(), "X25519");
  EXPECT_EQ(x->to_jwk().at("kty"), "OKP");
  auto p = PublicKey::from_pem(p256_->public_key().to_pem());
  EXPECT_EQ(p->type(), KeyType::kEc);
  EXPECT_EQ(p->curve(), "P-256");
  EXPECT_EQ(p->to_jwk().at("x").as_string().size(), 43u);  // 32 bytes, left-padded
}

TEST_F(JwkTest, Pkcs1RsaPublicKeyIsAccepted) {
  std::string pkcs1 = pem_of(rsa_->get(), EVP_PKEY_PUBLIC_KEY, "type-specific");
  ASSERT_EQ(pkcs1.rfind("-----BEGIN RSA PUBLIC KEY-----", 0), 0u);
  auto key = PublicKey::from_pem(pkcs1);
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(key->kid(), rsa_->kid());
}

TEST_F(JwkTest, WeakAndUnsupportedKeys) {
  std::string rsa1024 = public_pem("RSA", nullptr, 1024);
  expect_error(PublicKey::from_pem(rsa1024), "weak_key");
  expect_error(PublicKey::from_pem(public_pem("ED25519")), "unsupported_key");
  expect_error(PublicKey::from_pem(public_pem("X448")), "unsupported_key");
  expect_error(PublicKey::from_pem(public_pem("EC", "P-384")), "unsupported_key");
  expect_error(
      PublicKey::from_jwk(json::parse(
          R"({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})")),
      "unsupported_key");
  json::object p384 = p256_->public_key().to_jwk();
  p384["crv"] = "P-384";
  expect_error(PublicKey::from_jwk(p384), "invalid_key");  // P-256 sized coordinates
  p384["crv"] = "secp256k1";
  expect_error(PublicKey::from_jwk(p384), "unsupported_key");
  expect_error(PublicKey::from_jwk(json::parse(R"({"kty":"oct","alg":"A256KW"})")),
               "unsupported_key");
}

TEST_F(JwkTest, WeakRsaJwk) {
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  auto priv = PrivateKey::from_pkey(PkeyPtr(pkey, PkeyDeleter{}));
  ASSERT_TRUE(priv);
  json::object jwk = priv->to_jwk();
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) jwk.erase(m);
  expect_error(PublicKey::from_jwk(jwk), "weak_key");
}

TEST_F(JwkTest, StoredKeysLoadAsUploadedAndKeepTheSizePolicy) {
  for (const PrivateKey* priv : {rsa_, x25519_, p256_}) {
    auto stored = PublicKey::from_stored_jwk(priv->public_key().to_jwk());
    ASSERT_TRUE(stored) << stored.error().message;
    EXPECT_EQ(stored->kid(), priv->kid());
    EXPECT_EQ(stored->to_pem(), priv->public_key().to_pem());
  }
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024});
  auto weak = PrivateKey::from_pkey(PkeyPtr(pkey, PkeyDeleter{}));
  ASSERT_TRUE(weak);
  json::object jwk = weak->public_key().to_jwk();
  expect_error(PublicKey::from_stored_jwk(jwk), "weak_key");
  expect_error(PublicKey::from_stored_jwk(x25519_->to_jwk()), "private_key_rejected");
}

TEST_F(JwkTest, PrivateKeysAreRejected) {
  for (const PrivateKey* priv : {rsa_, x25519_, p256_}) {
    expect_error(PublicKey::from_pem(priv->to_pem()), "private_key_rejected");
    expect_error(PublicKey::parse(json::value(priv->to_pem())), "private_key_rejected");
    expect_error(PublicKey::from_jwk(priv->to_jwk()), "private_key_rejected");
  }
  std::string traditional = pem_of(rsa_->get(), EVP_PKEY_KEYPAIR, "type-specific");
  ASSERT_EQ(traditional.rfind("-----BEGIN RSA PRIVATE KEY-----", 0), 0u);
  expect_error(PublicKey::from_pem(traditional), "private_key_rejected");
  // A public key followed by a private one is still refused.
  expect_error(PublicKey::from_pem(rsa_->public_key().to_pem() + rsa_->to_pem()),
               "private_key_rejected");
  json::object only_p = rsa_->public_key().to_jwk();
  only_p["p"] = "AQAB";
  expect_error(PublicKey::from_jwk(only_p), "private_key_rejected");
  expect_error(PublicKey::from_jwk(json::parse(R"({"kty":"oct","k":"AAAA"})")),
               "private_key_rejected");
}

TEST_F(JwkTest, GarbagePemIsInvalid) {
  std::string pem = rsa_->public_key().to_pem();
  for (std::string bad :
       {std::string(), std::string("hello"),
        std::string("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
        std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        pem.substr(0, pem.size() / 2), pem + pem, std::string(1, '\0')}) {
    expect_error(PublicKey::from_pem(bad), "invalid_key");
  }
  expect_error(PublicKey::from_pem(std::string(64 * 1024 + 1, 'A')), "invalid_key");
  for (json::value v :
       {json::value(nullptr), json::value(42), json::parse("[1,2]"), json::value(true)}) {
    expect_error(PublicKey::parse(v), "invalid_key");
  }
}

TEST_F(JwkTest, MalformedJwksAreInvalid) {
  json::object good = p256_->public_key().to_jwk();
  auto with = [&](const char* member, json::value v) {
    json::object o = good;
    o[member] = std::move(v);
    return o;
  };
  expect_error(PublicKey::from_jwk(with("kty", 7)), "invalid_key");
  expect_error(PublicKey::from_jwk(with("x", 7)), "invalid_key");
  expect_error(PublicKey::from_jwk(with("x", "not base64url!")), "invalid_key");
  expect_error(PublicKey::from_jwk(with("x", "AAAA")), "invalid_key");  // wrong length
  expect_error(PublicKey::from_jwk(with("crv", json::array())), "invalid_key");
  json::object off_curve = good;
  std::string y(off_curve["y"].as_string());
  y[10] = y[10] == 'A' ? 'B' : 'A';
  off_curve["y"] = y;
  expect_error(PublicKey::from_jwk(off_curve), "invalid_key");
  json::object no_kty = good;
  no_kty.erase("kty");
  expect_error(PublicKey::from_jwk(no_kty), "invalid_key");
  expect_error(PublicKey::from_jwk(json::parse(R"({"kty":"RSA","n":"AAAA"})")), "invalid_key");
  expect_error(PublicKey::from_jwk(json::parse(R"({"kty":"RSA","n":"AAAA","e":"AQAB"})")),
               "invalid_key");  // an even modulus
  expect_error(PublicKey::from_jwk(with("padding", json::string(std::string(70 * 1024, 'a')))),
               "invalid_key");
  json::object okp = x25519_->public_key().to_jwk();
  okp["x"] = "AAAA";
  expect_error(PublicKey::from_jwk(okp), "invalid_key");
  okp["x"] = std::string(43, 'A');  // u = 0: a small-order point, Z would be all zero
  expect_error(PublicKey::from_jwk(okp), "invalid_key");
  // SPKI of a P-256 "point" 0x00 (the point at infinity).
  expect_error(PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\n"
                                   "MBkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDAgAA\n"
                                   "-----END PUBLIC KEY-----\n"),
               "invalid_key");
}

TEST_F(JwkTest, MutatedInputsNeverCrash) {
  std::mt19937 rng(7);
  std::string pem = rsa_->public_key().to_pem();
  std::string jwk = json::serialize(p256_->public_key().to_jwk());
  for (int i = 0; i < 400; ++i) {
    std::string p = pem, j = jwk;
    p[rng() % p.size()] = static_cast<char>(rng());
    j[rng() % j.size()] = static_cast<char>(rng());
    auto r = PublicKey::from_pem(p.substr(0, rng() % (p.size() + 1)));
    if (r) {  // a changed modulus can still be a well-formed (other) RSA key
      EXPECT_EQ(r->type(), KeyType::kRsa);
    }
    boost::system::error_code ec;
    json::value v = json::parse(j, ec);
    if (!ec) {
      auto k = PublicKey::parse(v);
      (void)k;
    }
  }
}

TEST_F(JwkTest, PrivateKeyRoundTrips) {
  for (const PrivateKey* priv : {rsa_, x25519_, p256_}) {
    json::object jwk = priv->to_jwk();
    EXPECT_TRUE(jwk.contains("d"));
    EXPECT_EQ(jwk.at("kid"), priv->kid().c_str());
    auto from_jwk = PrivateKey::from_jwk(jwk);
    ASSERT_TRUE(from_jwk) << from_jwk.error().message;
    EXPECT_EQ(from_jwk->kid(), priv->kid());
    std::string pem = priv->to_pem();
    EXPECT_EQ(pem.rfind("-----BEGIN PRIVATE KEY-----", 0), 0u);
    auto from_pem = PrivateKey::from_pem(pem);
    ASSERT_TRUE(from_pem) << from_pem.error().message;
    EXPECT_EQ(from_pem->kid(), priv->kid());
    EXPECT_EQ(from_pem->type(), priv->type());
  }
  auto traditional = PrivateKey::from_pem(pem_of(p256_->get(), EVP_PKEY_KEYPAIR, "type-specific"));
  ASSERT_TRUE(traditional);
  EXPECT_EQ(traditional->kid(), p256_->kid());
  EXPECT_FALSE(PrivateKey::from_pem(rsa_->public_key().to_pem()));
  EXPECT_FALSE(PrivateKey::from_jwk(rsa_->public_key().to_jwk()));  // no "d"
}

TEST_F(JwkTest, PrivateJwkWithMismatchedHalvesIsInvalid) {
  json::object x = x25519_->to_jwk();
  x["x"] = p256_->to_jwk().at("x");
  EXPECT_EQ(PrivateKey::from_jwk(x).error().code, "invalid_key");
  json::object p = p256_->to_jwk();
  p["d"] = generate_key(KeyType::kEc, 0)->to_jwk().at("d");
  EXPECT_EQ(PrivateKey::from_jwk(p).error().code, "invalid_key");
  json::object r = rsa_->to_jwk();
  r.erase("qi");
  EXPECT_EQ(PrivateKey::from_jwk(r).error().code, "invalid_key");
}

// fuzz/regressions/key_import/p256_pem_mismatched_halves: OpenSSL loads this PKCS#8 key,
// whose public point is not d*G; its kid would have named another key.
TEST_F(JwkTest, PrivatePemWithMismatchedHalvesIsInvalid) {
  const char* pem =
      "-----BEGIN PRIVATE KEY-----\n"
      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgowI/Pn9D/j7KSYE\n"
      "N4axsntpQLw80EkfdCVEttU1OTWShRANCAAQ5r8OiSO1Ira5pRte7ORBj/1weaPcf\n"
      "8YnI6CiTsWWHSHTWNKO5qbeThudb0AXx17lsJyR8S0rqZZh9SywpYL5x\n"
      "-----END PRIVATE KEY-----\n";
  auto key = PrivateKey::from_pem(pem);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, "invalid_key");
  EXPECT_TRUE(PrivateKey::from_pem(p256_->to_pem()));
}

// fuzz/regressions/key_import/rsa_jwk_wrong_d: an RSA JWK's "d" must invert "e" mod n,
// with or without the CRT members (which are optional, RFC 7518 6.3.2).
TEST_F(JwkTest, RsaPrivateJwkWithAnotherDIsInvalid) {
  json::object jwk = rsa_->to_jwk();
  for (const char* m : {"p", "q", "dp", "dq", "qi"}) jwk.erase(m);
  auto d_only = PrivateKey::from_jwk(jwk);
  ASSERT_TRUE(d_only) << d_only.error().message;
  EXPECT_EQ(d_only->kid(), rsa_->kid());
  json::object wrong = jwk;
  wrong["d"] = generate_key(KeyType::kRsa, 2048)->to_jwk().at("d");
  EXPECT_EQ(PrivateKey::from_jwk(wrong).error().code, "invalid_key");
  json::object crt = rsa_->to_jwk();
  crt["d"] = wrong["d"];
  EXPECT_EQ(PrivateKey::from_jwk(crt).error().code, "invalid_key");
}

TEST_F(JwkTest, LoadFileReadsPemAndJwk) {
  std::string dir = ::testing::TempDir();
  std::string pem_path = dir + "/sealhook_key.pem", jwk_path = dir + "/sealhook_key.jwk";
  std::ofstream(pem_path) << "\n  " << rsa_->to_pem() << "\n\n";
  std::ofstream(jwk_path) << "  \n" << json::serialize(x25519_->to_jwk());
  auto pem = PrivateKey::load_file(pem_path);
  ASSERT_TRUE(pem) << pem.error().message;
  EXPECT_EQ(pem->kid(), rsa_->kid());
  auto jwk = PrivateKey::load_file(jwk_path);
  ASSERT_TRUE(jwk) << jwk.error().message;
  EXPECT_EQ(jwk->kid(), x25519_->kid());
  EXPECT_FALSE(PrivateKey::load_file(dir + "/no_such_key.pem"));
  std::ofstream(jwk_path) << "{not json";
  EXPECT_FALSE(PrivateKey::load_file(jwk_path));
  std::remove(pem_path.c_str());
  std::remove(jwk_path.c_str());
}

}  // namespace
}  // namespace sealhook::crypto
