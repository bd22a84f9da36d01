#include "delivery/delivery_metrics.hpp"

#include <gtest/gtest.h>

namespace sealhook::delivery {
namespace {

SendResult answered(int status) { return SendResult{status, "", std::nullopt, {}}; }
SendResult failed(std::string error) { return SendResult{0, std::move(error), std::nullopt, {}}; }

TEST(StatusClass, ByHundredOrWhyNoAnswer) {
  EXPECT_EQ(status_class_label(status_class(answered(200))), "2xx");
  EXPECT_EQ(status_class_label(status_class(answered(204))), "2xx");
  EXPECT_EQ(status_class_label(status_class(answered(302))), "3xx");
  EXPECT_EQ(status_class_label(status_class(answered(410))), "4xx");
  EXPECT_EQ(status_class_label(status_class(answered(503))), "5xx");
  EXPECT_EQ(status_class_label(status_class(answered(101))), "1xx");
  EXPECT_EQ(status_class_label(status_class(failed("timeout"))), "timeout");
  EXPECT_EQ(status_class_label(status_class(failed("connect: Connection refused"))),
            "network_error");
  EXPECT_EQ(status_class_label(status_class(failed("forbidden_address"))), "network_error");
}

TEST(AttemptMetrics, CountsClassAndDuration) {
  AttemptMetrics m;
  m.count(SendResult{500, "", std::nullopt, std::chrono::milliseconds(7)}, Verdict::kRetry, 10);
  m.count(SendResult{0, "timeout", std::nullopt, std::chrono::milliseconds(30'000)}, Verdict::kDead,
          40'000);
  EXPECT_EQ(m.by_class[static_cast<size_t>(StatusClass::k5xx)].load(), 1u);
  EXPECT_EQ(m.by_class[static_cast<size_t>(StatusClass::kTimeout)].load(), 1u);
  auto s = m.duration.snapshot();
  EXPECT_EQ(s.count, 2u);
  EXPECT_DOUBLE_EQ(s.sum_s, 30.007);
  EXPECT_EQ(m.publish_to_delivery.snapshot().count, 0u);
  m.count(SendResult{200, "", std::nullopt, std::chrono::milliseconds(3)}, Verdict::kDelivered,
          1'500);
  auto latency = m.publish_to_delivery.snapshot();
  EXPECT_EQ(latency.count, 1u);
  EXPECT_DOUBLE_EQ(latency.sum_s, 1.5);
  EXPECT_EQ(m.by_class[static_cast<size_t>(StatusClass::k2xx)].load(), 1u);
}

}  // namespace
}  // namespace sealhook::delivery
