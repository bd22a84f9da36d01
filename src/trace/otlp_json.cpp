#include "trace/otlp_json.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

namespace sealhook::trace {

namespace json = boost::json;

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

namespace {

json::array key_values(const Attributes& attributes) {
  json::array out;
  out.reserve(attributes.size());
  for (const auto& [key, value] : attributes) {
    json::object v;
    if (const auto* s = std::get_if<std::string>(&value))
      v["stringValue"] = *s;
    else
      v["intValue"] = std::to_string(std::get<int64_t>(value));
    out.push_back(json::object{{"key", key}, {"value", std::move(v)}});
  }
  return out;
}

json::object span_json(const Span& s) {
  json::object o;
  o["traceId"] = hex(s.context.trace_id);
  o["spanId"] = hex(s.context.span_id);
  if (s.parent) o["parentSpanId"] = hex(*s.parent);
  o["flags"] = s.context.sampled ? 1 : 0;  // W3C trace flags in the low byte
  o["name"] = s.name;
  o["kind"] = static_cast<int>(s.kind);
  o["startTimeUnixNano"] = std::to_string(s.start_ns);
  o["endTimeUnixNano"] = std::to_string(s.end_ns);
  o["attributes"] = key_values(s.attributes);
  json::object status;
  if (s.status != StatusCode::kUnset) status["code"] = static_cast<int>(s.status);
  if (!s.status_message.empty()) status["message"] = s.status_message;
  o["status"] = std::move(status);
  return o;
}

}  // namespace

std::string encode_otlp_json(const Attributes& resource, const std::vector<Span>& spans) {
  json::array span_array;
  span_array.reserve(spans.size());
  for (const Span& s : spans) span_array.push_back(span_json(s));
  json::object scope{{"scope", json::object{{"name", "sealhook"}}},
                     {"spans", std::move(span_array)}};
  json::object resource_spans{{"resource", json::object{{"attributes", key_values(resource)}}},
                              {"scopeSpans", json::array{std::move(scope)}}};
  json::object request{{"resourceSpans", json::array{std::move(resource_spans)}}};
  return json::serialize(request);
}

}  // namespace sealhook::trace
