#pragma once
// Checks of a request's header that Beast's parser leaves to us (RFC 9112 §3.2, §6).
#include <boost/beast/core/error.hpp>
#include <optional>

#include "core/result.hpp"
#include "net/http_server.hpp"

namespace sealhook::net {

// A 400 when the message's framing is ambiguous, or when an HTTP/1.1 request lacks its one Host.
// Beast already refuses two different Content-Lengths, a malformed one, Content-Length with
// `chunked` and a repeated `chunked`; it takes any other Transfer-Encoding (`xchunked`,
// `identity`, `gzip, chunked`) and frames by Content-Length or by nothing, which would let the
// body carry a second request past whatever sits in front of us. Only exactly `chunked` is
// accepted, never beside a Content-Length, and never in HTTP/1.0.
std::optional<Error> framing_error(const RequestHeader& h);

// The 400 (413 over the body limit) for a message Beast could not parse; nullopt when the error
// is not the message's fault (end of stream, a timeout, a reset): those close without an answer.
std::optional<Error> parse_error(const boost::beast::error_code& ec, size_t max_body_bytes);

// An HTTP/1.1 request that waits for "100 Continue" before sending its body.
bool expects_continue(const RequestHeader& h);

}  // namespace sealhook::net
