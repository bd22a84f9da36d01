// The samplers OTEL_TRACES_SAMPLER names, and how a parent's flag and a ratio decide.
#include "trace/sampler.hpp"

#include <gtest/gtest.h>

namespace sealhook::trace {
namespace {

Sampler parsed(const std::string& name, const std::string& arg = "") {
  auto s = Sampler::parse(name, arg);
  EXPECT_TRUE(s.ok()) << name << " " << arg;
  return s.ok() ? s.value() : Sampler();
}

// A trace id whose last 8 bytes are `low` (big-endian).
TraceId with_low(uint64_t low) {
  TraceId id{};
  id[0] = 1;
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

const SpanContext kSampledParent{with_low(1), SpanId{1}, true};
const SpanContext kUnsampledParent{with_low(1), SpanId{1}, false};

TEST(Sampler, TheDefaultIsParentBasedAlwaysOn) {
  Sampler s = parsed("");
  EXPECT_EQ(s.description(), "parentbased_always_on");
  EXPECT_TRUE(s.sample(std::nullopt, with_low(5)));
  EXPECT_TRUE(s.sample(kSampledParent, with_low(5)));
  EXPECT_FALSE(s.sample(kUnsampledParent, with_low(5)));
}

TEST(Sampler, AlwaysOnAndOffIgnoreTheParent) {
  EXPECT_TRUE(parsed("always_on").sample(kUnsampledParent, with_low(5)));
  EXPECT_FALSE(parsed("always_off").sample(kSampledParent, with_low(5)));
  EXPECT_FALSE(parsed("always_off").sample(std::nullopt, with_low(5)));
}

TEST(Sampler, ParentBasedAlwaysOffSamplesOnlyUnderASampledParent) {
  Sampler s = parsed("parentbased_always_off");
  EXPECT_FALSE(s.sample(std::nullopt, with_low(5)));
  EXPECT_TRUE(s.sample(kSampledParent, with_low(5)));
}

TEST(Sampler, ARatioDecidesOnTheTraceIdsLow63Bits) {
  Sampler half = parsed("traceidratio", "0.5");
  const uint64_t middle = uint64_t{1} << 62;  // half of 2^63
  EXPECT_TRUE(half.sample(std::nullopt, with_low(middle - 1)));
  EXPECT_FALSE(half.sample(std::nullopt, with_low(middle)));
  // The top bit does not count: the same verdict with it set.
  EXPECT_TRUE(half.sample(std::nullopt, with_low((uint64_t{1} << 63) | (middle - 1))));
  // Not parent-based: a sampled parent does not decide.
  EXPECT_FALSE(half.sample(kSampledParent, with_low(middle)));
  EXPECT_FALSE(parsed("traceidratio", "0").sample(std::nullopt, with_low(0)));
  EXPECT_TRUE(parsed("traceidratio", "1").sample(std::nullopt, with_low(~uint64_t{0})));
  EXPECT_TRUE(parsed("traceidratio").sample(std::nullopt, with_low(~uint64_t{0})));  // default 1
}

TEST(Sampler, ARatioSamplesAboutItsShareOfRandomTraces) {
  Sampler tenth = parsed("traceidratio", "0.1");
  int sampled = 0;
  for (int i = 0; i < 20'000; ++i) sampled += tenth.sample(std::nullopt, new_trace_id()) ? 1 : 0;
  EXPECT_GT(sampled, 1'600);
  EXPECT_LT(sampled, 2'400);
}

TEST(Sampler, ParentBasedRatioFollowsAParentAndRatesARoot) {
  Sampler s = parsed("parentbased_traceidratio", "0.5");
  EXPECT_TRUE(s.sample(kSampledParent, with_low(~uint64_t{0})));
  EXPECT_FALSE(s.sample(kUnsampledParent, with_low(0)));
  EXPECT_TRUE(s.sample(std::nullopt, with_low(0)));
  EXPECT_FALSE(s.sample(std::nullopt, with_low(~uint64_t{0})));
}

TEST(Sampler, AnUnknownNameOrABadRatioIsAnError) {
  EXPECT_FALSE(Sampler::parse("sometimes", "").ok());
  EXPECT_FALSE(Sampler::parse("parentbased_sometimes", "").ok());
  EXPECT_FALSE(Sampler::parse("jaeger_remote", "").ok());
  for (const char* bad : {"1.5", "-0.1", "half", "0.5x", "nan"})
    EXPECT_FALSE(Sampler::parse("traceidratio", bad).ok()) << bad;
}

}  // namespace
}  // namespace sealhook::trace
