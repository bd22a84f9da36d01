#pragma once
// A typical POST /v1/events body: {"type","payload","id"} with a ~1 KiB JSON object payload
// (an order with line items), shared by the parse and publish benchmarks.
#include <cstddef>
#include <string>

namespace sealhook::bench {

// The payload object alone, about `bytes` long.
inline std::string order_payload(size_t bytes) {
  std::string s =
      R"({"order":42,"currency":"EUR","customer":{"id":"cus_8842","email":"a@b.example"},"items":[)";
  for (int i = 0; s.size() + 80 < bytes; ++i) {
    if (i > 0) s += ',';
    s += R"({"sku":"SKU-)" + std::to_string(10000 + i) + R"(","qty":)" + std::to_string(1 + i % 5) +
         R"(,"price":)" + std::to_string(1999 + i * 10) + "}";
  }
  s += R"(],"note":")";
  while (s.size() + 3 < bytes) s += 'x';
  s += "\"}";
  return s;
}

inline std::string publish_body(size_t payload_bytes, const std::string& id) {
  std::string body = R"({"type":"order.created","payload":)" + order_payload(payload_bytes);
  if (!id.empty()) body += R"(,"id":")" + id + "\"";
  return body + "}";
}

}  // namespace sealhook::bench
