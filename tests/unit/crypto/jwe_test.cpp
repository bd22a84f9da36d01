#include "crypto/jwe.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <random>
#include <thread>
#include <vector>

#include "core/base64.hpp"
#include "crypto/keygen.hpp"
#include "crypto/primitives.hpp"

namespace sealhook::crypto {
namespace {

namespace json = boost::json;

std::vector<std::string> split(const std::string& compact) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = compact.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(compact.substr(start, dot - start));
  }
  parts.push_back(compact.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts) {
  std::string out = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) out += "." + parts[i];
  return out;
}

json::object header_of(const std::string& compact) {
  return json::parse(base64url_decode(split(compact)[0]).value()).as_object();
}

// A JWE built by hand for the modes seal() never writes (ECDH-ES direct, A128KW/A192KW),
// from the primitives: Z, Concat KDF with apu/apv, optional key wrap, AES-GCM.
std::string hand_seal(const PrivateKey& recipient, const std::string& alg, const std::string& enc,
                      size_t cek_bytes, size_t kek_bytes, std::string_view plaintext) {
  PrivateKey eph = generate_key(recipient.type(), 0).value();
  std::string z = detail::ecdh(eph.get(), recipient.public_key().get(), true).value();
  json::object epk = eph.public_key().to_jwk();
  for (const char* m : {"kid", "alg", "use"}) epk.erase(m);
  json::object header{{"alg", alg},
                      {"enc", enc},
                      {"apu", base64url_encode("Alice")},
                      {"apv", base64url_encode("Bob")},
                      {"epk", epk}};
  std::string cek(cek_bytes, 'k'), encrypted_key;
  if (kek_bytes == 0) {
    cek = concat_kdf(z, enc, "Alice", "Bob", cek_bytes).value();
  } else {
    detail::random_bytes(cek.data(), cek.size());
    std::string kek = concat_kdf(z, alg, "Alice", "Bob", kek_bytes).value();
    encrypted_key = base64url_encode(detail::aes_kw_wrap(kek, cek).value());
  }
  std::string h = base64url_encode(json::serialize(header)), iv(12, 'i'), ct;
  unsigned char tag[16];
  EXPECT_TRUE(detail::gcm_seal_b64(cek, iv, h, plaintext, ct, tag));
  return h + "." + encrypted_key + "." + base64url_encode(iv) + "." + ct + "." +
         base64url_encode(std::string_view(reinterpret_cast<char*>(tag), 16));
}

class JweTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    keys_ = new std::vector<PrivateKey>{
        generate_key(KeyType::kRsa, 2048).value(), generate_key(KeyType::kRsa, 4096).value(),
        generate_key(KeyType::kX25519, 0).value(), generate_key(KeyType::kEc, 0).value()};
  }
  static void TearDownTestSuite() { delete keys_; }
  static const PrivateKey& rsa() { return (*keys_)[0]; }
  static const PrivateKey& x25519() { return (*keys_)[2]; }
  static const PrivateKey& p256() { return (*keys_)[3]; }
  static std::vector<PrivateKey>* keys_;
};
std::vector<PrivateKey>* JweTest::keys_ = nullptr;

TEST_F(JweTest, RoundTripsEveryKeyTypeAndSize) {
  std::mt19937 rng(1);
  for (size_t size : {size_t{0}, size_t{1}, size_t{1024}, size_t{1} << 20}) {
    std::string plaintext(size, '\0');
    for (char& c : plaintext) c = static_cast<char>(rng());
    for (const PrivateKey& key : *keys_) {
      auto sealed = jwe_seal(key.public_key(), plaintext);
      ASSERT_TRUE(sealed) << sealed.error().message;
      EXPECT_EQ(split(*sealed).size(), 5u);
      auto opened = jwe_open(key, *sealed);
      ASSERT_TRUE(opened) << opened.error().message;
      EXPECT_EQ(*opened, plaintext);
    }
  }
}

TEST_F(JweTest, HeaderNamesAlgEncAndTheThumbprintKid) {
  for (const PrivateKey& key : *keys_) {
    PublicKey pub = key.public_key();
    std::string sealed = jwe_seal(pub, "hi").value();
    auto peek = jwe_peek_header(sealed);
    ASSERT_TRUE(peek);
    EXPECT_EQ(peek->alg, key.type() == KeyType::kRsa ? "RSA-OAEP-256" : "ECDH-ES+A256KW");
    EXPECT_EQ(peek->enc, "A256GCM");
    EXPECT_EQ(peek->kid, pub.kid());
    EXPECT_EQ(peek->kid, jwk_thumbprint(pub.to_jwk()).value());
    json::object header = header_of(sealed);
    if (key.type() == KeyType::kRsa) {
      EXPECT_EQ(json::serialize(header),
                R"({"alg":"RSA-OAEP-256","enc":"A256GCM","kid":")" + pub.kid() + "\"}");
      EXPECT_EQ(base64url_decode(split(sealed)[1])->size(), static_cast<size_t>(pub.bits() / 8));
    } else {
      const json::object& epk = header.at("epk").as_object();
      EXPECT_EQ(epk.at("kty"), key.type() == KeyType::kX25519 ? "OKP" : "EC");
      EXPECT_EQ(epk.at("crv"), pub.curve().c_str());
      EXPECT_FALSE(epk.contains("d"));
      EXPECT_EQ(base64url_decode(split(sealed)[1])->size(), 40u);  // wrapped 32-byte CEK
    }
    EXPECT_EQ(base64url_decode(split(sealed)[2])->size(), 12u);
    EXPECT_EQ(base64url_decode(split(sealed)[4])->size(), 16u);
  }
}

TEST_F(JweTest, TwoSealsOfTheSamePlaintextDiffer) {
  for (const PrivateKey& key : *keys_) {
    std::string a = jwe_seal(key.public_key(), "same").value();
    std::string b = jwe_seal(key.public_key(), "same").value();
    EXPECT_NE(a, b);
    for (size_t i = 1; i < 5; ++i) EXPECT_NE(split(a)[i], split(b)[i]) << i;
  }
}

TEST_F(JweTest, AnyTamperingFails) {
  for (const PrivateKey& key : *keys_) {
    std::string sealed = jwe_seal(key.public_key(), "attack at dawn").value();
    for (size_t part = 1; part < 5; ++part) {
      auto parts = split(sealed);
      parts[part][0] = parts[part][0] == 'A' ? 'B' : 'A';
      auto opened = jwe_open(key, join(parts));
      ASSERT_FALSE(opened) << part;
      EXPECT_EQ(opened.error().kind, ErrorKind::kBadRequest);
      EXPECT_EQ(opened.error().code, "decrypt_failed") << part;
    }
    // A different but well-formed header: the AAD no longer matches.
    auto parts = split(sealed);
    json::object header = header_of(sealed);
    header["kid"] = "someone-else";
    parts[0] = base64url_encode(json::serialize(header));
    EXPECT_EQ(jwe_open(key, join(parts)).error().code, "decrypt_failed");
    parts = split(sealed);
    parts[0][3] ^= 1;
    EXPECT_FALSE(jwe_open(key, join(parts)));
  }
}

TEST_F(JweTest, WrongKeyFails) {
  PrivateKey other_rsa = generate_key(KeyType::kRsa, 2048).value();
  PrivateKey other_x = generate_key(KeyType::kX25519, 0).value();
  EXPECT_EQ(jwe_open(other_rsa, jwe_seal(rsa().public_key(), "x").value()).error().code,
            "decrypt_failed");
  EXPECT_EQ(jwe_open(other_x, jwe_seal(x25519().public_key(), "x").value()).error().code,
            "decrypt_failed");
  EXPECT_EQ(jwe_open(rsa(), jwe_seal(x25519().public_key(), "x").value()).error().code,
            "decrypt_failed");
  EXPECT_EQ(jwe_open(x25519(), jwe_seal(p256().public_key(), "x").value()).error().code,
            "decrypt_failed");
  EXPECT_EQ(jwe_open(p256(), jwe_seal(rsa().public_key(), "x").value()).error().code,
            "decrypt_failed");
}

TEST_F(JweTest, MalformedCompactStringsAreRefused) {
  std::string good = jwe_seal(x25519().public_key(), "x").value();
  auto parts = split(good);
  auto with = [&](size_t i, std::string v) {
    auto p = parts;
    p[i] = std::move(v);
    return join(p);
  };
  auto header = [&](const std::string& json_text) { return with(0, base64url_encode(json_text)); };
  std::vector<std::string> bad = {
      "",
      ".",
      "a.b.c.d",
      good + ".x",
      "....",
      with(0, "!!!"),
      with(2, "***"),
      with(3, "a b"),
      with(1, "A"),
      with(2, ""),
      with(4, "AAAA"),
      header("not json"),
      header("[1,2]"),
      header(R"({"alg":1,"enc":"A256GCM"})"),
      header(R"({"alg":"ECDH-ES+A256KW"})"),
      header(R"({"alg":"dir","enc":"A256GCM"})"),
      header(R"({"alg":"ECDH-ES+A256KW","enc":"A128CBC-HS256"})"),
      header(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","zip":"DEF"})"),
      header(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","crit":["exp"]})"),
      header(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM"})"),
      header(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":"x"})"),
      header(R"({"alg":"ECDH-ES+A256KW","enc":"A256GCM","epk":{"kty":"OKP"}})"),
      with(0, std::string(10 * 1024, 'A')),
      header(std::string(2000, '[') + std::string(2000, ']'))};
  for (const std::string& compact : bad) {
    auto opened = jwe_open(x25519(), compact);
    ASSERT_FALSE(opened) << compact.substr(0, 80);
    EXPECT_EQ(opened.error().kind, ErrorKind::kBadRequest) << compact.substr(0, 80);
  }
  EXPECT_FALSE(jwe_peek_header("a.b.c.d"));
  EXPECT_FALSE(jwe_peek_header(header(R"({"alg":"x","enc":"y","kid":5})")));
}

TEST_F(JweTest, TruncatedAndMutatedMessagesNeverCrashOrLie) {
  std::mt19937 rng(3);
  for (const PrivateKey* key : {&rsa(), &x25519(), &p256()}) {
    std::string sealed = jwe_seal(key->public_key(), "the quick brown fox").value();
    for (int i = 0; i < 150; ++i) {
      std::string m = sealed.substr(0, rng() % (sealed.size() + 1));
      if (i % 2 == 0) {
        m = sealed;
        m[rng() % m.size()] = static_cast<char>(rng());
      }
      auto opened = jwe_open(*key, m);
      if (opened) {  // only a change that decodes to the same bytes opens
        EXPECT_EQ(*opened, "the quick brown fox");
      }
    }
  }
}

TEST_F(JweTest, OpensEcdhEsDirectAndOtherKeyWrapSizes) {
  struct Mode {
    const char* alg;
    const char* enc;
    size_t cek, kek;
  };
  for (const PrivateKey* key : {&x25519(), &p256()}) {
    for (Mode m :
         {Mode{"ECDH-ES", "A128GCM", 16, 0}, Mode{"ECDH-ES", "A256GCM", 32, 0},
          Mode{"ECDH-ES+A128KW", "A256GCM", 32, 16}, Mode{"ECDH-ES+A192KW", "A192GCM", 24, 24}}) {
      std::string compact = hand_seal(*key, m.alg, m.enc, m.cek, m.kek, "hello receiver");
      auto opened = jwe_open(*key, compact);
      ASSERT_TRUE(opened) << m.alg << " " << m.enc << ": " << opened.error().message;
      EXPECT_EQ(*opened, "hello receiver");
    }
  }
}

TEST_F(JweTest, ConcurrentSealsOnSharedKeys) {
  const PublicKey rsa_pub = rsa().public_key(), x_pub = x25519().public_key();
  std::vector<std::vector<std::string>> out(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        std::string msg = "event " + std::to_string(t) + "/" + std::to_string(i);
        out[t].push_back(jwe_seal(t % 2 == 0 ? rsa_pub : x_pub, msg).value());
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 25; ++i) {
      auto opened = jwe_open(t % 2 == 0 ? rsa() : x25519(), out[t][i]);
      ASSERT_TRUE(opened);
      EXPECT_EQ(*opened, "event " + std::to_string(t) + "/" + std::to_string(i));
    }
  }
}

TEST(ConcatKdf, RefusesBadArguments) {
  EXPECT_FALSE(concat_kdf("", "A256GCM", "", "", 32));
  EXPECT_FALSE(concat_kdf("z", "A256GCM", "", "", 0));
  EXPECT_FALSE(concat_kdf("z", "A256GCM", "", "", 1000));
  EXPECT_EQ(concat_kdf("z", "A256GCM", "", "", 32)->size(), 32u);
  EXPECT_NE(*concat_kdf("z", "A256GCM", "", "", 32), *concat_kdf("z", "A256GCM", "a", "", 32));
}

TEST(Jwe, DefaultConstructedKeysAreRefused) {
  EXPECT_FALSE(jwe_seal(PublicKey(), "x"));
  EXPECT_FALSE(jwe_open(PrivateKey(), "a.b.c.d.e"));
}

}  // namespace
}  // namespace sealhook::crypto
