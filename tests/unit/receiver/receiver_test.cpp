#include "receiver/receiver.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace sealhook::receiver {
namespace {

constexpr const char* kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
constexpr int64_t kNowS = 1'700'000'000;

class ReceiverTest : public ::testing::Test {
 protected:
  ReceiverTest() : receiver_(options(), clock_, [](const std::string&) {}) {}

  static ReceiverOptions options() {
    ReceiverOptions o;
    o.secrets.emplace_back(kSecret);
    o.seed = 1;
    return o;
  }

  // The answer's status and error code to a POST with these headers.
  std::pair<unsigned, std::string> post(const std::string& ts, const std::string& sig) {
    net::Request req{boost::beast::http::verb::post, "/", 11};
    req.set("webhook-id", "msg_1");
    req.set("webhook-timestamp", ts);
    req.set("webhook-signature", sig);
    req.body() = "not a JWE";
    net::Response res = receiver_.handle(req);
    auto body = boost::json::parse(res.body());
    return {res.result_int(), std::string(body.at("error").at("code").as_string())};
  }

  ManualClock clock_{kNowS * 1000};
  Receiver receiver_;
};

// fuzz/regressions/webhook_verify/timestamp_int64_min: now - ts overflowed (UB).
TEST_F(ReceiverTest, ExtremeTimestampsAreStaleNotOverflow) {
  const std::string sig = "v1,AAAA";
  for (int64_t ts : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                     kNowS - 301, kNowS + 301, int64_t{0}}) {
    EXPECT_EQ(post(std::to_string(ts), sig), std::make_pair(401u, std::string("stale_timestamp")))
        << ts;
  }
  for (int64_t ts : {kNowS - 300, kNowS, kNowS + 300}) {
    EXPECT_EQ(post(std::to_string(ts), sig), std::make_pair(401u, std::string("bad_signature")))
        << ts;
  }
}

TEST_F(ReceiverTest, SignedButNotAJweIsBadRequest) {
  auto secret = crypto::SigningSecret::parse(kSecret).value();
  std::string sig = secret.sign("msg_1", kNowS, "not a JWE");
  EXPECT_EQ(post(std::to_string(kNowS), sig), std::make_pair(400u, std::string("bad_jwe")));
}

}  // namespace
}  // namespace sealhook::receiver
