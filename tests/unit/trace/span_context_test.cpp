// traceparent (W3C Trace Context level 1): what is read, what is ignored, what is written.
#include "trace/span_context.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sealhook::trace {
namespace {

constexpr const char* kExample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, TheSpecsExampleReadsBackAsWritten) {
  auto ctx = parse_traceparent(kExample);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(hex(ctx->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(hex(ctx->span_id), "00f067aa0ba902b7");
  EXPECT_TRUE(ctx->sampled);
  EXPECT_EQ(to_traceparent(*ctx), kExample);
}

TEST(Traceparent, TheSampledFlagIsTheLowBitOfTheFlags) {
  auto off = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(off.has_value());
  EXPECT_FALSE(off->sampled);
  auto other = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(other->sampled);
  // Only the sampled flag is written back.
  EXPECT_EQ(to_traceparent(*other), kExample);
}

TEST(Traceparent, ALaterVersionIsReadByItsFirstFields) {
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_TRUE(
      parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes"));
}

TEST(Traceparent, AnInvalidHeaderIsNoContext) {
  for (const char* bad : {
           "", "garbage",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",      // no flags
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 with more
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero span id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // uppercase
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // forbidden version
           "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
           "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // dashes misplaced
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
           "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // later: dash first
       })
    EXPECT_FALSE(parse_traceparent(bad).has_value()) << bad;
}

TEST(Traceparent, FreshIdsAreNonZeroAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    SpanContext ctx{new_trace_id(), new_span_id(), true};
    auto back = parse_traceparent(to_traceparent(ctx));  // a zero id would not parse
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, ctx);
    seen.insert(hex(ctx.trace_id));
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace sealhook::trace
