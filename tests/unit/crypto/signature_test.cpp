#include "crypto/signature.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "core/base64.hpp"

namespace sealhook::crypto {
namespace {

constexpr const char* kId = "msg_2f8Hq";
constexpr int64_t kTs = 1700000000;
constexpr const char* kBody = "eyJhbGciOi.x.y.z.w";

TEST(SigningSecret, GenerateGives24RandomBytesThatRoundTrip) {
  SigningSecret a = SigningSecret::generate(), b = SigningSecret::generate();
  std::string text = a.to_string();
  ASSERT_EQ(text.rfind("whsec_", 0), 0u);
  EXPECT_EQ(base64_decode(text.substr(6))->size(), 24u);
  EXPECT_NE(text, b.to_string());
  auto parsed = SigningSecret::parse(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->to_string(), text);
  EXPECT_EQ(parsed->sign(kId, kTs, kBody), a.sign(kId, kTs, kBody));
  EXPECT_NE(b.sign(kId, kTs, kBody), a.sign(kId, kTs, kBody));
}

TEST(SigningSecret, PrintedItRedactsItself) {
  SigningSecret s = SigningSecret::generate();
  std::ostringstream os;
  os << s;
  EXPECT_EQ(os.str(), "whsec_[redacted]");
  EXPECT_EQ(os.str().find(s.to_string().substr(6)), std::string::npos);
}

TEST(SigningSecret, SignatureShape) {
  std::string sig = SigningSecret::generate().sign(kId, kTs, kBody);
  ASSERT_EQ(sig.rfind("v1,", 0), 0u);
  EXPECT_EQ(base64_decode(sig.substr(3))->size(), 32u);
}

TEST(SigningSecret, VerifyFailsOnAnyChange) {
  SigningSecret secret = SigningSecret::generate();
  std::string sig = secret.sign(kId, kTs, kBody);
  EXPECT_TRUE(secret.verify(kId, kTs, kBody, sig));
  EXPECT_FALSE(SigningSecret::generate().verify(kId, kTs, kBody, sig));
  EXPECT_FALSE(secret.verify(kId, kTs + 1, kBody, sig));
  EXPECT_FALSE(secret.verify("msg_other", kTs, kBody, sig));
  EXPECT_FALSE(secret.verify(kId, kTs, std::string(kBody) + " ", sig));
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, ""));
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, "v1,"));
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, "v2," + sig.substr(3)));  // only v1 counts
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, sig.substr(3)));          // no version
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, sig.substr(0, sig.size() - 2)));
}

TEST(SigningSecret, MultiSignatureHeader) {
  SigningSecret secret = SigningSecret::generate();
  std::string good = secret.sign(kId, kTs, kBody);
  std::string other = SigningSecret::generate().sign(kId, kTs, kBody);
  EXPECT_TRUE(secret.verify(kId, kTs, kBody, other + " " + good));
  EXPECT_TRUE(secret.verify(kId, kTs, kBody, good + " " + other));
  EXPECT_TRUE(secret.verify(kId, kTs, kBody, "v1a,xyz  v2," + good.substr(3) + " garbage " + good));
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, other + " " + other));
  EXPECT_FALSE(secret.verify(kId, kTs, kBody, std::string(20000, ' ') + good));  // bounded
}

TEST(SigningSecret, ParseRefusesBadSecrets) {
  std::string b64_23 = base64_encode(std::string(23, 'k'));
  std::string b64_65 = base64_encode(std::string(65, 'k'));
  for (std::string bad :
       {std::string(), std::string("whsec_"), std::string("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        std::string("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"),  // not a multiple of 4
        std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!"),
        std::string("whsec_ MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        std::string("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"),
        std::string("whsec_MfKQ9r8GKYqrTwjUPD8IL=ZIo2LaLaSw"), "whsec_" + b64_23,
        "whsec_" + b64_65}) {
    auto r = SigningSecret::parse(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kUnprocessable);
    EXPECT_EQ(r.error().code, "invalid_secret");
  }
  EXPECT_TRUE(SigningSecret::parse("whsec_" + base64_encode(std::string(64, 'k'))));
  EXPECT_TRUE(SigningSecret::parse("whsec_" + base64_encode(std::string(32, 'k'))));
}

}  // namespace
}  // namespace sealhook::crypto
