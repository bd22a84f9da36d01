#pragma once
// The wire form of a Beast message with a string body, serialized straight into one buffer
// that the caller writes with one gathered write. Beast's generic serializer walks a variant of
// buffer sequences per write, which cost more than the rest of a small request or response.
// The caller frames the message first (prepare_payload: Content-Length).
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

namespace sealhook::net {

template <bool isRequest>
void append_wire(std::string& out,
                 const boost::beast::http::message<isRequest, boost::beast::http::string_body>& m) {
  const char* version = m.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  if constexpr (isRequest) {
    out.append(m.method_string()).append(" ").append(m.target()).append(" ").append(version);
  } else {
    out.append(version)
        .append(" ")
        .append(std::to_string(m.result_int()))
        .append(" ")
        .append(boost::beast::http::obsolete_reason(m.result()));
  }
  out.append("\r\n");
  for (const auto& field : m.base())
    out.append(field.name_string()).append(": ").append(field.value()).append("\r\n");
  out.append("\r\n").append(m.body());
}

}  // namespace sealhook::net
