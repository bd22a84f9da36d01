#include "net/http_framing.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <iterator>

namespace sealhook::net {

namespace http = boost::beast::http;

namespace {

Error bad_framing(std::string message) {
  return make_error(ErrorKind::kBadRequest, "bad_framing", std::move(message));
}

}  // namespace

std::optional<Error> framing_error(const RequestHeader& h) {
  auto te = h.equal_range(http::field::transfer_encoding);
  if (te.first != te.second) {
    if (h.version() < 11) return bad_framing("Transfer-Encoding is not allowed in HTTP/1.0");
    if (std::next(te.first) != te.second || !boost::beast::iequals(te.first->value(), "chunked"))
      return bad_framing("the only Transfer-Encoding accepted is 'chunked'");
    if (h.count(http::field::content_length) > 0)
      return bad_framing("Content-Length and Transfer-Encoding together");
  }
  size_t hosts = h.count(http::field::host);
  if (hosts > 1) return bad_framing("more than one Host header");
  if (hosts == 0 && h.version() >= 11)
    return bad_framing("an HTTP/1.1 request needs a Host header");
  return std::nullopt;
}

std::optional<Error> parse_error(const boost::beast::error_code& ec, size_t max_body_bytes) {
  if (ec.category() != make_error_code(http::error::end_of_stream).category()) return std::nullopt;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return std::nullopt;
  if (ec == http::error::body_limit)
    return make_error(ErrorKind::kTooLarge, "payload_too_large",
                      "request body is over " + std::to_string(max_body_bytes) + " bytes");
  if (ec == http::error::header_limit)
    return make_error(ErrorKind::kBadRequest, "headers_too_large", "request headers are too large");
  return make_error(ErrorKind::kBadRequest, "malformed_request",
                    "malformed HTTP request: " + ec.message());
}

bool expects_continue(const RequestHeader& h) {
  return h.version() >= 11 && boost::beast::iequals(h[http::field::expect], "100-continue");
}

}  // namespace sealhook::net
