// The kafka queue's state records: each names where its delivery lives now (the deliveries
// topic, or a retried copy in the retries topic with its origin), and reads back the same.
#include "queue/kafka/kafka_record.hpp"

#include <gtest/gtest.h>

namespace sealhook::kafka {
namespace {

using K = DeliveryState::Kind;

DeliveryState round_trip(const DeliveryState& s) {
  auto back = decode_state(encode_state(s));
  EXPECT_TRUE(back.has_value()) << encode_state(s);
  return back.value_or(DeliveryState{});
}

TEST(KafkaRecord, AStateInTheDeliveriesTopicReadsBackAsWritten) {
  DeliveryState s{K::kRetry, 3, 1'700'000'000'000, 42};
  EXPECT_EQ(encode_state(s), "R 3 1700000000000 42");
  auto back = round_trip(s);
  EXPECT_EQ(back.kind, K::kRetry);
  EXPECT_EQ(back.attempt, 3);
  EXPECT_EQ(back.at_ms, 1'700'000'000'000);
  EXPECT_EQ(back.offset, 42);
  EXPECT_FALSE(back.retried);
  EXPECT_TRUE(back.names(false, 42));
  EXPECT_FALSE(back.names(true, 42));
}

TEST(KafkaRecord, ARetriedCopysStateNamesTheCopyAndItsOrigin) {
  for (K kind : {K::kHandout, K::kRetry, K::kAcked, K::kDead}) {
    DeliveryState s{kind, 2, 5, 7};
    s.retried = true;
    s.origin = 40;
    auto back = round_trip(s);
    EXPECT_EQ(back.kind, kind);
    EXPECT_TRUE(back.retried);
    EXPECT_EQ(back.offset, 7);
    EXPECT_EQ(back.origin, 40);
    EXPECT_TRUE(back.names(true, 7));
    EXPECT_FALSE(back.names(false, 7));   // not the record at offset 7 of the deliveries topic
    EXPECT_FALSE(back.names(false, 40));  // nor the original it moved from
  }
}

TEST(KafkaRecord, AMalformedStateIsRefused) {
  for (const char* bad : {"", "H", "H 1", "H 1 r5", "H 1 r:5", "H 1 rx:5", "R 1 2", "A 1 2", "X 1",
                          "H 1 5 6", "A r1:"})
    EXPECT_FALSE(decode_state(bad).has_value()) << bad;
}

TEST(KafkaRecord, AHandoutMarkReadsBackAsWrittenAndRefusesTheMalformed) {
  EXPECT_EQ(encode_handout_mark(41), "W 41");
  EXPECT_EQ(decode_handout_mark("W 41"), 41);
  EXPECT_EQ(decode_handout_mark(encode_handout_mark(-1)), -1);  // none handed out
  for (const char* bad : {"", "W", "W ", "W -2", "W 4x", "H 1 4", "W  4"})
    EXPECT_FALSE(decode_handout_mark(bad).has_value()) << bad;
  // Not a delivery's state: a reader that does not know marks skips it.
  EXPECT_FALSE(decode_state("W 41").has_value());
}

TEST(KafkaRecord, ADeliveryKeepsItsTraceparentAndARecordFromBeforeStillReads) {
  QueuedDelivery d;
  d.id = "msg_1";
  d.tenant_id = "tn_1";
  d.endpoint_id = "ep_1";
  d.event_id = "evt_1";
  d.event_type = "order.created";
  d.prior_attempts = 2;
  d.not_before_ms = 5;
  d.published_at_ms = 4;
  d.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  d.body = std::make_shared<const std::string>("a.b\nc");  // a body may hold newlines
  auto back = decode_delivery(encode_delivery(d));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->traceparent, d.traceparent);
  EXPECT_EQ(*back->body, *d.body);
  EXPECT_EQ(back->published_at_ms, 4);
  // Written by a build from before traceparents (d1): no traceparent, the same body.
  auto old = decode_delivery("d1\nmsg_1\ntn_1\nep_1\nevt_1\nt\n0\n0\n5\n4\nbody\n");
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->traceparent, "");
  EXPECT_EQ(*old->body, "body\n");
  EXPECT_FALSE(decode_delivery("d2\nmsg_1\ntn_1\nep_1\nevt_1\nt\n0\n0\n5\n4\n").has_value());
}

}  // namespace
}  // namespace sealhook::kafka
