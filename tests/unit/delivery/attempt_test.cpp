#include "delivery/attempt.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/clock.hpp"

namespace sealhook::delivery {
namespace {

RetryPolicy no_jitter() {
  return RetryPolicy({.base_ms = 1000, .max_delay_ms = 60'000, .jitter = 0.2}, [] { return 0.0; });
}

TEST(Classify, TwoHundredsAreAcks) {
  auto p = no_jitter();
  for (int status : {200, 201, 202, 204, 299})
    EXPECT_EQ(classify(SendResult{status, "", {}, {}}, 1, 6, p, 0).verdict, Verdict::kDelivered);
}

TEST(Classify, EverythingElseRetriesWithBackoffThenDies) {
  auto p = no_jitter();
  for (int status : {301, 302, 400, 404, 500, 503}) {
    auto o = classify(SendResult{status, "", {}, {}}, 2, 6, p, 10'000);
    EXPECT_EQ(o.verdict, Verdict::kRetry) << status;
    EXPECT_EQ(o.next_attempt_at_ms, 12'000) << status;
    EXPECT_EQ(o.error, "http " + std::to_string(status));
  }
  auto timeout = classify(SendResult{0, "timeout", {}, {}}, 1, 6, p, 0);
  EXPECT_EQ(timeout.verdict, Verdict::kRetry);
  EXPECT_EQ(timeout.error, "timeout");
  EXPECT_EQ(classify(SendResult{500, "", {}, {}}, 6, 6, p, 0).verdict, Verdict::kDead);
}

TEST(Classify, RetryAfterOnlyOn429And503) {
  auto p = no_jitter();
  EXPECT_EQ(classify(SendResult{429, "", "30", {}}, 1, 6, p, 0).next_attempt_at_ms, 30'000);
  EXPECT_EQ(classify(SendResult{503, "", "30", {}}, 1, 6, p, 0).next_attempt_at_ms, 30'000);
  EXPECT_EQ(classify(SendResult{500, "", "30", {}}, 1, 6, p, 0).next_attempt_at_ms, 1'000);
  EXPECT_EQ(classify(SendResult{429, "", "garbage", {}}, 1, 6, p, 0).next_attempt_at_ms, 1'000);
}

TEST(BuildRequest, SignsTheBodyTheStandardWebhooksWay) {
  QueuedDelivery d;
  d.id = "msg_1";
  d.body = std::make_shared<const std::string>("a.b.c.d.e");
  auto secret = crypto::SigningSecret::generate();
  Endpoint endpoint;
  endpoint.url = "https://example.com/hook";
  EndpointView ep{endpoint, secret, std::nullopt};
  auto req = build_request(d, ep, 1'614'265'330'999, std::chrono::milliseconds(5000));
  std::map<std::string, std::string> h(req.headers.begin(), req.headers.end());
  EXPECT_EQ(h["Content-Type"], "application/jose");
  EXPECT_EQ(h["webhook-id"], "msg_1");
  EXPECT_EQ(h["webhook-timestamp"], "1614265330");
  EXPECT_TRUE(secret.verify("msg_1", 1614265330, "a.b.c.d.e", h["webhook-signature"]));
  EXPECT_EQ(req.body.get(), d.body.get());  // the ciphertext is shared, not copied
}

// After a rotation both secrets sign until the previous one's expiry, the new one first, in one
// space-separated header; from the expiry on, the new one alone.
TEST(BuildRequest, SignsWithBothSecretsDuringARotationsGraceThenWithTheNewOneOnly) {
  QueuedDelivery d;
  d.id = "msg_1";
  d.body = std::make_shared<const std::string>("a.b.c.d.e");
  auto old_secret = crypto::SigningSecret::generate();
  auto new_secret = crypto::SigningSecret::generate();
  ManualClock clock;
  Endpoint endpoint;
  endpoint.previous_secret = old_secret.to_string();
  endpoint.previous_secret_expires_at_ms = clock.now_ms() + 60'000;
  EndpointView ep{endpoint, new_secret, old_secret};
  auto signature = [&] {
    auto req = build_request(d, ep, clock.now_ms(), std::chrono::milliseconds(5000));
    std::map<std::string, std::string> h(req.headers.begin(), req.headers.end());
    return std::make_pair(h["webhook-signature"], std::stoll(h["webhook-timestamp"]));
  };

  auto [during, ts] = signature();
  EXPECT_EQ(during, new_secret.sign("msg_1", ts, "a.b.c.d.e") + " " +
                        old_secret.sign("msg_1", ts, "a.b.c.d.e"));
  EXPECT_TRUE(new_secret.verify("msg_1", ts, "a.b.c.d.e", during));
  EXPECT_TRUE(old_secret.verify("msg_1", ts, "a.b.c.d.e", during));

  clock.advance_ms(59'999);
  EXPECT_TRUE(old_secret.verify("msg_1", signature().second, "a.b.c.d.e", signature().first));
  clock.advance_ms(1);  // the expiry
  auto [after, ts_after] = signature();
  EXPECT_EQ(after, new_secret.sign("msg_1", ts_after, "a.b.c.d.e"));
  EXPECT_TRUE(new_secret.verify("msg_1", ts_after, "a.b.c.d.e", after));
  EXPECT_FALSE(old_secret.verify("msg_1", ts_after, "a.b.c.d.e", after));
}

}  // namespace
}  // namespace sealhook::delivery
