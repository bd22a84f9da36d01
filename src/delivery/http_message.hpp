#pragma once
// Internal to the sender: the request it writes and the response parser it reads with.
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/span_body.hpp>
#include <string_view>

#include "delivery/sender.hpp"
#include "delivery/ssrf_guard.hpp"

namespace sealhook::delivery {

// A response body is only counted (against the parser's body limit) and thrown away.
struct DiscardBody {
  struct value_type {};
  struct reader {
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type&) {}
    void init(const boost::optional<std::uint64_t>&, boost::beast::error_code& ec) { ec = {}; }
    template <class Buffers>
    size_t put(const Buffers& buffers, boost::beast::error_code& ec) {
      ec = {};
      return boost::beast::buffer_bytes(buffers);
    }
    void finish(boost::beast::error_code& ec) { ec = {}; }
  };
};

// The body is a view of the SendRequest's shared body: never copied per attempt.
using HttpRequest = boost::beast::http::request<boost::beast::http::span_body<const char>>;
using HttpResponseParser = boost::beast::http::response_parser<DiscardBody>;

// POST url.target with Host, User-Agent, the request's headers and Content-Length; the
// framing headers (Host, Content-Length, Transfer-Encoding, Connection) among request.headers
// are ignored. False when a header name or value could inject into the request.
bool build_post(HttpRequest& msg, const ParsedUrl& url, const SendRequest& request,
                std::string_view user_agent);

}  // namespace sealhook::delivery
