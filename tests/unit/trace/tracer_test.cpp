// What the OTEL_* environment turns into, and the shape of the OTLP/JSON the exporter sends
// (the e2e test decodes it with the official protobuf definitions).
#include "trace/tracer.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <map>

#include "trace/otlp_json.hpp"

namespace sealhook::trace {
namespace {

using Env = std::map<std::string, std::string>;

Result<std::optional<TraceSettings>> from(const Env& env) {
  return settings_from_env(
      [&](const char* name) -> const char* {
        auto it = env.find(name);
        return it == env.end() ? nullptr : it->second.c_str();
      },
      TraceLimits{}, "serve");
}

std::string attribute(const Attributes& a, const std::string& key) {
  for (const auto& [k, v] : a)
    if (k == key) return std::get<std::string>(v);
  return "<none>";
}

TEST(TraceSettings, OffWithoutAnEndpointOrWhenDisabled) {
  EXPECT_FALSE(from({})->has_value());
  EXPECT_FALSE(
      from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_SDK_DISABLED", "true"}})
          ->has_value());
  EXPECT_FALSE(
      from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_TRACES_EXPORTER", "none"}})
          ->has_value());
}

TEST(TraceSettings, TheBaseEndpointGetsTheTracesPathTheSignalsOwnIsTakenAsItIs) {
  auto base = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/"}});
  ASSERT_TRUE(base.ok() && base->has_value());
  EXPECT_EQ((*base)->exporter.url, "http://c:4318/v1/traces");
  auto own = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                   {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://t:9/custom"}});
  EXPECT_EQ((*own)->exporter.url, "http://t:9/custom");
}

TEST(TraceSettings, ServiceNameAndResourceAttributes) {
  auto s = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                 {"OTEL_RESOURCE_ATTRIBUTES", "service.name=x, deployment.environment=a%2Cb,k=v=w"},
                 {"OTEL_SERVICE_NAME", "hooks"},
                 {"OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20t"}});
  ASSERT_TRUE(s.ok() && s->has_value());
  const auto& r = (*s)->exporter.resource;
  EXPECT_EQ(attribute(r, "service.name"), "hooks");  // OTEL_SERVICE_NAME wins
  EXPECT_EQ(attribute(r, "deployment.environment"), "a,b");
  EXPECT_EQ(attribute(r, "k"), "v=w");
  EXPECT_EQ(attribute(r, "sealhook.role"), "serve");
  ASSERT_EQ((*s)->exporter.headers.size(), 1u);
  EXPECT_EQ((*s)->exporter.headers[0].second, "Bearer t");
  auto unnamed = from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}});
  EXPECT_EQ(attribute((*unnamed)->exporter.resource, "service.name"), "sealhook");
}

TEST(TraceSettings, BadValuesAreErrors) {
  EXPECT_FALSE(
      from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}, {"OTEL_TRACES_SAMPLER", "sometimes"}})
          .ok());
  EXPECT_FALSE(from({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"},
                     {"OTEL_RESOURCE_ATTRIBUTES", "novalue"}})
                   .ok());
  EXPECT_FALSE(Exporter::start(ExporterOptions{.url = "https://c:4318/v1/traces"}).ok());
  EXPECT_FALSE(Exporter::start(ExporterOptions{.url = "c:4318"}).ok());
}

TEST(OtlpJson, IdsAreHexAndTimesAndIntegersAreDecimalStrings) {
  Span s;
  s.context = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  s.parent = SpanId{0, 0, 0, 0, 0, 0, 0, 9};
  s.name = "POST";
  s.kind = SpanKind::kClient;
  s.start_ns = 1'700'000'000'000'000'001;
  s.end_ns = 1'700'000'000'000'000'002;
  s.attributes = {{"http.response.status_code", int64_t{503}}, {"url.full", std::string("u")}};
  s.status = StatusCode::kError;
  auto doc = boost::json::parse(encode_otlp_json({{"service.name", std::string("x")}}, {s}));
  const auto& rs = doc.at("resourceSpans").at(0);
  EXPECT_EQ(rs.at("resource").at("attributes").at(0).at("value").at("stringValue"), "x");
  const auto& span = rs.at("scopeSpans").at(0).at("spans").at(0);
  EXPECT_EQ(span.at("traceId"), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(span.at("spanId"), "00f067aa0ba902b7");
  EXPECT_EQ(span.at("parentSpanId"), "0000000000000009");
  EXPECT_EQ(span.at("kind"), 3);
  EXPECT_EQ(span.at("startTimeUnixNano"), "1700000000000000001");
  EXPECT_EQ(span.at("attributes").at(0).at("value").at("intValue"), "503");
  EXPECT_EQ(span.at("status").at("code"), 2);
}

TEST(OtlpJson, EscapesTextAndLeavesOutWhatASpanLacks) {
  Span root, other;
  root.context = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  root.name = "say \"hi\"\n\x01";
  root.attributes = {{"k\\", std::string("v\t\u00e9")}};
  root.status_message = "only a message";
  other.context = root.context;
  other.status = StatusCode::kOk;
  const std::string text = encode_otlp_json({}, {root, other});
  auto doc = boost::json::parse(text);
  const auto& rs = doc.at("resourceSpans").at(0);
  EXPECT_TRUE(rs.at("resource").at("attributes").as_array().empty());
  EXPECT_EQ(rs.at("scopeSpans").at(0).at("scope").at("name"), "sealhook");
  const auto& spans = rs.at("scopeSpans").at(0).at("spans").as_array();
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[0].at("name"), "say \"hi\"\n\x01");
  EXPECT_FALSE(spans[0].as_object().contains("parentSpanId"));
  EXPECT_EQ(spans[0].at("flags"), 1);
  EXPECT_EQ(spans[0].at("attributes").at(0).at("key"), "k\\");
  EXPECT_EQ(spans[0].at("attributes").at(0).at("value").at("stringValue"), "v\t\u00e9");
  EXPECT_EQ(spans[0].at("status"), (boost::json::object{{"message", "only a message"}}));
  EXPECT_EQ(spans[1].at("status"), (boost::json::object{{"code", 1}}));
  EXPECT_EQ(spans[1].at("startTimeUnixNano"), "0");
}

}  // namespace
}  // namespace sealhook::trace
