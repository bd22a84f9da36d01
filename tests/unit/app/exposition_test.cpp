#include "app/exposition.hpp"

#include <gtest/gtest.h>

namespace sealhook::app {
namespace {

TEST(Exposition, HistogramIsCumulativeUpToInfWithSumAndCount) {
  Histogram h({100, 1'000});
  for (int64_t v : {50, 150, 2'000}) h.observe_ms(v);
  Exposition out;
  out.histogram("x_seconds", "Some time.", label("queue", "sqlite"), h.snapshot());
  EXPECT_EQ(out.text(),
            "# HELP x_seconds Some time.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{queue=\"sqlite\",le=\"0.1\"} 1\n"
            "x_seconds_bucket{queue=\"sqlite\",le=\"1\"} 2\n"
            "x_seconds_bucket{queue=\"sqlite\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{queue=\"sqlite\"} 2.2\n"
            "x_seconds_count{queue=\"sqlite\"} 3\n");
}

TEST(Exposition, FamilyHeaderOnceThenSamples) {
  Exposition out;
  out.family("y_total", "counter", "Ys.");
  out.sample("y_total", label("class", "2xx"), uint64_t{7});
  out.sample("y_total", label("class", "5xx"), uint64_t{0});
  out.gauge("z", "Zs.", 1.5);
  EXPECT_EQ(out.text(),
            "# HELP y_total Ys.\n# TYPE y_total counter\n"
            "y_total{class=\"2xx\"} 7\ny_total{class=\"5xx\"} 0\n"
            "# HELP z Zs.\n# TYPE z gauge\nz 1.5\n");
}

TEST(Exposition, LargeCountsAreWrittenInFull) {
  Exposition out;
  out.counter("n_total", "Ns.", uint64_t{12'345'678'901});
  EXPECT_NE(out.text().find("n_total 12345678901\n"), std::string::npos) << out.text();
}

TEST(Exposition, LabelValuesAreEscaped) {
  EXPECT_EQ(label("a", "x\"y\\z\nw"), "a=\"x\\\"y\\\\z\\nw\"");
}

TEST(Exposition, ValuesRoundTrip) {
  EXPECT_EQ(format_value(0.005), "0.005");
  EXPECT_EQ(format_value(300.0), "300");
  EXPECT_EQ(format_value(1e300 * 1e300), "+Inf");
}

}  // namespace
}  // namespace sealhook::app
