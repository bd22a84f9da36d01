#pragma once
// A small Beast HTTP/1.1 server: one session per connection, keep-alive, strict framing (RFC
// 9112 §6: anything that could smuggle a second request is a 400 and a close), `Expect:
// 100-continue`, a deadline on every read (header, body and keep-alive idle apart), bounded
// header and body sizes (413 answered by the server itself), a bound on the body memory of all
// connections together, bounds on open connections in all and per client address. Used by the
// API (`serve`) and by the reference receiver (`receive`).
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/result.hpp"

namespace sealhook::net {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using RequestHeader = boost::beast::http::request_header<>;
// Runs on one of the io_context's threads, or on the offload executor when one is set.
using Handler = std::function<Response(Request&)>;
// Answers a request, exactly once, from any thread.
using Reply = std::function<void(Response&&)>;
// Takes every request in place of the Handler and answers through `reply`, now or later: it
// may hand slow work to other threads, so that nothing blocks an io thread.
using AsyncHandler = std::function<void(Request&&, Reply)>;

// Looks at a request's header before its body is read; a response refuses the request. It runs
// on an io thread for requests that say `Expect: 100-continue`, so it must be cheap (header
// inspection only): the refusal is sent in place of "100 Continue" and the body is never read.
using Screen = std::function<std::optional<Response>(const RequestHeader&)>;

struct ServerOptions {
  size_t max_body_bytes = 1024 * 1024 + 64 * 1024;  // payload bound + JSON envelope
  size_t max_header_bytes = 16 * 1024;
  // From a connection's accept, or from the first byte of a later request, to the end of the
  // request's header (slowloris).
  std::chrono::milliseconds header_timeout{10'000};
  // Reading a request's body, and writing each response.
  std::chrono::milliseconds body_timeout{30'000};
  // A keep-alive connection waiting for its next request.
  std::chrono::milliseconds idle_timeout{75'000};
  size_t max_connections = 10'000;
  size_t max_connections_per_client = 256;  // per remote IP address
  // Request bodies being read or handled, all connections together (see http_session.cpp).
  size_t max_request_memory_bytes = size_t{256} << 20;
  Screen screen;
  // When set, requests go to it and replies are written back on the connection's own
  // executor. A connection has one request in flight at a time, so the work it holds is
  // bounded by max_connections.
  AsyncHandler async;
};

// A JSON error body {"error": {"code", "message"}} with the status of `e.kind`; a 429 or 503
// (backpressure, or a dependency down) also says when to come back.
constexpr int kRetryAfterSeconds = 1;
Response error_response(const Error& e, unsigned version = 11, bool keep_alive = true);
Response json_response(unsigned status, std::string body, unsigned version = 11,
                       bool keep_alive = true);

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "host:port" (port 0 picks a free one). Starts accepting.
  Status listen(const std::string& host_port);
  uint16_t port() const;
  // The address and port the listening socket is bound to (port 0 resolved).
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Closes the listening socket; open sessions finish their current request then close.
  void stop_accepting();
  size_t open_connections() const;
  // Bytes of request bodies taken from max_request_memory_bytes now.
  size_t request_memory_bytes() const;

  struct Impl;  // defined in the .cpp; public so that its sessions can name it

 private:
  std::shared_ptr<Impl> impl_;
};

// Opens, binds (SO_REUSEADDR) and listens `acceptor` on "host:port".
Status listen_on(boost::asio::ip::tcp::acceptor& acceptor, const std::string& host_port);

// Splits "host:port" / "[v6]:port"; a bare port means 0.0.0.0.
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(const std::string& host_port);

}  // namespace sealhook::net
