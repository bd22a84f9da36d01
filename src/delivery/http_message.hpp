#pragma once
// Internal to the sender: the request it writes and the response parser it reads with.
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>
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

using HttpResponseParser = boost::beast::http::response_parser<DiscardBody>;

// The head of the POST to url.target, request line to blank line: Host, User-Agent, the
// request's headers and Content-Length, appended to `out`; the body (the SendRequest's shared
// ciphertext, never copied per attempt) follows it on the wire as a second buffer. The framing
// headers (Host, Content-Length, Transfer-Encoding, Connection) among request.headers are
// ignored. False when a header name or value could inject into the request.
bool build_post_head(std::string& out, const ParsedUrl& url, const SendRequest& request,
                     std::string_view user_agent);

}  // namespace sealhook::delivery
