#include "trace/otlp_json.hpp"

#include <algorithm>
#include <array>
#include <boost/json/serializer.hpp>
#include <charconv>
#include <chrono>

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
    std::array<char, 2 * N + 2> text;  // "...": one append
    text.front() = text.back() = '"';
    for (size_t i = 0; i < N; ++i) {
      text[1 + 2 * i] = kDigits[id[i] >> 4];
      text[2 + 2 * i] = kDigits[id[i] & 0xf];
    }
    out_.append(text.data(), text.size());
  }
  // A number in decimal, as std::to_chars writes it (fmt's type-erased formatting was half the
  // export thread's time).
  template <typename Int>
  void number(Int v) {
    std::array<char, 24> text;
    auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), v);
    out_.append(text.data(), end);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  boost::json::serializer sr_;
};

template <class KeyValues>
void key_values(Writer& w, const KeyValues& attributes) {
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
      w.raw(",\"value\":{\"intValue\":\"");  // int64 as a string, as OTLP/JSON has it
      w.number(std::get<int64_t>(value));
      w.raw("\"}}");
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
  w.raw(s.context.sampled ? ",\"flags\":1,\"name\":" : ",\"flags\":0,\"name\":");
  w.quoted(s.name);
  w.raw(",\"kind\":");
  w.number(static_cast<int>(s.kind));
  w.raw(",\"startTimeUnixNano\":\"");
  w.number(s.start_ns);
  w.raw("\",\"endTimeUnixNano\":\"");
  w.number(s.end_ns);
  w.raw("\",\"attributes\":");
  key_values(w, s.attributes);
  w.raw(",\"status\":{");
  if (s.status != StatusCode::kUnset) {
    w.raw("\"code\":");
    w.number(static_cast<int>(s.status));
  }
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
