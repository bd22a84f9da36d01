#include "core/base64.hpp"

#include <gtest/gtest.h>

namespace sealhook {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64, Rfc4648Vectors) {
  const std::pair<std::string, std::string> cases[] = {{"", ""},
                                                       {"f", "Zg=="},
                                                       {"fo", "Zm8="},
                                                       {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="},
                                                       {"fooba", "Zm9vYmE="},
                                                       {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(base64_encode(plain), encoded);
    ASSERT_TRUE(base64_decode(encoded).has_value());
    EXPECT_EQ(*base64_decode(encoded), plain);
  }
}

TEST(Base64, UrlSafeUnpaddedRoundTrip) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t n = 0; n <= bytes.size(); n += 37) {
    auto enc = base64url_encode(bytes.substr(0, n));
    EXPECT_EQ(enc.find_first_of("+/="), std::string::npos);
    ASSERT_TRUE(base64url_decode(enc).has_value());
    EXPECT_EQ(*base64url_decode(enc), bytes.substr(0, n));
  }
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
}

TEST(Base64, RejectsGarbage) {
  EXPECT_FALSE(base64_decode("Zm9").has_value());
  EXPECT_FALSE(base64_decode("Zm9!").has_value());
  EXPECT_FALSE(base64url_decode("Zm9v+").has_value());
  EXPECT_FALSE(base64url_decode("A").has_value());
}

}  // namespace
}  // namespace sealhook
