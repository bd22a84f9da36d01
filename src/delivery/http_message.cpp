#include "delivery/http_message.hpp"

#include <boost/beast/http/field.hpp>

namespace sealhook::delivery {
namespace {

namespace http = boost::beast::http;

bool valid_header(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name)
    if (c <= ' ' || c >= 0x7f || c == ':') return false;
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

}  // namespace

bool build_post_head(std::string& out, const ParsedUrl& url, const SendRequest& request,
                     std::string_view user_agent) {
  const bool v6 = url.host.find(':') != std::string::npos;  // parse_url unbracketed it
  const bool default_port = url.port == (url.scheme == "https" ? 443 : 80);
  const size_t body = request.body ? request.body->size() : 0;
  if (!valid_header("User-Agent", user_agent)) return false;
  out.reserve(out.size() + 160 + url.target.size() + url.host.size() + user_agent.size());
  out.append("POST ").append(url.target).append(" HTTP/1.1\r\nHost: ");
  out.append(v6 ? "[" : "").append(url.host).append(v6 ? "]" : "");
  if (!default_port) out.append(":").append(std::to_string(url.port));
  out.append("\r\nUser-Agent: ").append(user_agent).append("\r\n");
  for (const auto& [name, value] : request.headers) {
    if (!valid_header(name, value)) return false;
    const http::field f = http::string_to_field(name);
    if (f == http::field::host || f == http::field::content_length ||
        f == http::field::transfer_encoding || f == http::field::connection)
      continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  out.append("Content-Length: ").append(std::to_string(body)).append("\r\n\r\n");
  return true;
}

}  // namespace sealhook::delivery
