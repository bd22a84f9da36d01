#include "trace/otlp_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/serializer.hpp>
#include <chrono>
#include <iterator>

namespace sealhook::trace {

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

namespace {

// The request's text written straight into one string, member by member, in the order the
// object model wrote them (no JSON value per span: a batch is hundreds of spans, and building
// them was most of the export thread's time). Strings are escaped by Boost.JSON's serializer.
class Writer {
 public:
  explicit Writer(size_t reserve) { out_.reserve(reserve); }

  void raw(std::string_view s) { out_.append(s); }
  void quoted(std::string_view s) {
    // Most are ids, names and URLs with nothing to escape: copied as they are.
    if (std::none_of(s.begin(), s.end(), [](char c) {
          return c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20;
        })) {
      out_.push_back('"');
      out_.append(s);
      out_.push_back('"');
      return;
    }
    sr_.reset(s);
    std::array<char, 512> buf;
    while (!sr_.done()) out_.append(sr_.read(buf.data(), buf.size()));
  }
  template <size_t N>
  void hex(const std::array<uint8_t, N>& id) {
    constexpr char kDigits[] = "0123456789abcdef";
    out_.push_back('"');
    for (uint8_t b : id) {
      out_.push_back(kDigits[b >> 4]);
      out_.push_back(kDigits[b & 0xf]);
    }
    out_.push_back('"');
  }
  template <typename... Args>
  void format(fmt::format_string<Args...> f, Args&&... args) {
    fmt::format_to(std::back_inserter(out_), f, std::forward<Args>(args)...);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  boost::json::serializer sr_;
};

void key_values(Writer& w, const Attributes& attributes) {
  w.raw("[");
  bool first = true;
  for (const auto& [key, value] : attributes) {
    w.raw(first ? "{\"key\":" : ",{\"key\":");
    first = false;
    w.quoted(key);
    if (const auto* s = std::get_if<std::string>(&value)) {
      w.raw(",\"value\":{\"stringValue\":");
      w.quoted(*s);
      w.raw("}}");
    } else {
      w.format(",\"value\":{{\"intValue\":\"{}\"}}}}", std::get<int64_t>(value));
    }
  }
  w.raw("]");
}

void span_json(Writer& w, const Span& s) {
  w.raw("{\"traceId\":");
  w.hex(s.context.trace_id);
  w.raw(",\"spanId\":");
  w.hex(s.context.span_id);
  if (s.parent) {
    w.raw(",\"parentSpanId\":");
    w.hex(*s.parent);
  }
  // W3C trace flags in the low byte
  w.format(",\"flags\":{},\"name\":", s.context.sampled ? 1 : 0);
  w.quoted(s.name);
  w.format(",\"kind\":{},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":",
           static_cast<int>(s.kind), s.start_ns, s.end_ns);
  key_values(w, s.attributes);
  w.raw(",\"status\":{");
  if (s.status != StatusCode::kUnset) w.format("\"code\":{}", static_cast<int>(s.status));
  if (!s.status_message.empty()) {
    w.raw(s.status != StatusCode::kUnset ? ",\"message\":" : "\"message\":");
    w.quoted(s.status_message);
  }
  w.raw("}}");
}

}  // namespace

std::string encode_otlp_json(const Attributes& resource, const std::vector<Span>& spans) {
  Writer w(256 + 640 * spans.size());
  w.raw("{\"resourceSpans\":[{\"resource\":{\"attributes\":");
  key_values(w, resource);
  w.raw("},\"scopeSpans\":[{\"scope\":{\"name\":\"sealhook\"},\"spans\":[");
  for (size_t i = 0; i < spans.size(); ++i) {
    if (i > 0) w.raw(",");
    span_json(w, spans[i]);
  }
  w.raw("]}]}]}");
  return w.take();
}

}  // namespace sealhook::trace
