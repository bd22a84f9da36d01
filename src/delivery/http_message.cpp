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

bool build_post(HttpRequest& msg, const ParsedUrl& url, const SendRequest& request,
                std::string_view user_agent) {
  msg.method(http::verb::post);
  msg.target(url.target);
  msg.version(11);
  const bool v6 = url.host.find(':') != std::string::npos;  // parse_url unbracketed it
  const bool default_port = url.port == (url.scheme == "https" ? 443 : 80);
  std::string host;
  host.reserve(url.host.size() + 8);
  host.append(v6 ? "[" : "").append(url.host).append(v6 ? "]" : "");
  if (!default_port) host.append(":").append(std::to_string(url.port));
  msg.set(http::field::host, host);
  msg.set(http::field::user_agent, user_agent);
  for (const auto& [name, value] : request.headers) {
    if (!valid_header(name, value)) return false;
    const http::field f = http::string_to_field(name);
    if (f == http::field::host || f == http::field::content_length ||
        f == http::field::transfer_encoding || f == http::field::connection)
      continue;
    msg.insert(name, value);
  }
  if (request.body) msg.body() = {request.body->data(), request.body->size()};
  msg.prepare_payload();
  return true;
}

}  // namespace sealhook::delivery
