// One connection: header, checks, body, handler, response; then the next request or a close.
//
// Deadlines: the header must be complete within header_timeout of the accept (or of a later
// request's first byte), the body within body_timeout of the header, and a keep-alive connection
// may wait idle_timeout for its next request's first byte. Beast's tcp_stream deadline is a point
// in time, not a per-read inactivity timer, so a client trickling one byte a second still meets it.
//
// Body memory: every body being read or handled takes its bytes from the server's shared budget
// (max_request_memory_bytes) before they are read: a Content-Length at once after the header, a
// chunked body chunk by chunk as its chunk headers arrive. What does not fit is answered 503 with
// Retry-After and the connection closed, instead of waiting for room: a waiting read would hold its
// connection, its deadline and its client's patience while giving no signal, and the memory it
// waits for is held by requests that may take their whole body deadline; a 503 is immediate
// backpressure that every HTTP client knows how to retry. The bytes are given back when the
// response is written. (A body's std::string may hold up to twice its size while it grows; header
// buffers, bounded by max_header_bytes per connection, are not counted.)
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string_view>

#include "net/http_framing.hpp"
#include "net/http_wire.hpp"
#include "net/server_impl.hpp"

namespace sealhook::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadBuffer = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

Response unavailable(std::string code, std::string message) {
  Response res = error_response(
      make_error(ErrorKind::kUnavailable, std::move(code), std::move(message)), 11, false);
  res.set(http::field::retry_after, "1");
  return res;
}

Response memory_full() {
  return unavailable("server_busy", "too many request bodies in memory; retry later");
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server,
          std::optional<asio::ip::address> client)
      : stream_(std::move(socket)), server_(std::move(server)), client_(std::move(client)) {
    // Beast reads at most the buffer's free capacity per recv (512 bytes when unreserved).
    buffer_.reserve(kReadBuffer);
    chunk_header_ = [this](std::uint64_t size, beast::string_view, beast::error_code& ec) {
      if (take_body_memory(size)) return;
      over_memory_ = true;
      ec = asio::error::no_buffer_space;
    };
  }
  ~Session() {
    release_body_memory();
    if (client_) server_->clients.give(*client_);
    server_->connections--;
  }

  void start() { read_header(); }

  // Answers `res` and closes; `linger`: after reading what the client still sends (see linger()).
  void refuse(Response&& res, bool linger) {
    res.version(11);
    res.keep_alive(false);
    linger_ = linger;
    write(std::move(res));
  }

 private:
  const ServerOptions& options() const { return server_->options; }

  // The next request of a keep-alive connection: the idle deadline runs until its first byte.
  void read_next() {
    if (buffer_.size() > 0) return read_header();  // pipelined
    stream_.expires_after(options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(kReadBuffer),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->close();
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    over_memory_ = false;
    stream_.expires_after(options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(beast::error_code ec, size_t) {
    if (ec) return on_error(ec);
    const RequestHeader& h = parser_->get();
    if (auto e = framing_error(h)) return refuse(error_response(*e), true);
    const bool expect = expects_continue(h);
    if (expect && options().screen)
      if (auto res = options().screen(h)) return refuse(std::move(*res), true);
    if (auto n = parser_->content_length(); n && !take_body_memory(*n))
      return refuse(memory_full(), true);
    if (parser_->chunked()) parser_->on_chunk_header(chunk_header_);
    if (parser_->is_done()) return on_body({}, 0);
    if (!expect) return read_body();
    stream_.expires_after(options().body_timeout);
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->read_body();
                      });
  }

  void read_body() {
    stream_.expires_after(options().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(beast::error_code ec, size_t) {
    if (over_memory_) return refuse(memory_full(), true);
    if (ec) return on_error(ec);
    Request req = parser_->release();
    if (!options().async) return respond(req.version(), req.keep_alive(), server_->handler(req));
    unsigned version = req.version();
    bool keep_alive = req.keep_alive();
    options().async(
        std::move(req), [self = shared_from_this(), version, keep_alive](Response&& res) {
          auto executor = self->stream_.get_executor();
          asio::post(executor, [self, version, keep_alive, res = std::move(res)]() mutable {
            self->respond(version, keep_alive, std::move(res));
          });
        });
  }

  // A malformed message is answered; a timeout, a reset or the end of the stream closes.
  void on_error(beast::error_code ec) {
    if (auto e = parse_error(ec, options().max_body_bytes)) return refuse(error_response(*e), true);
    close();
  }

  void respond(unsigned version, bool keep_alive, Response&& res) {
    res.version(version);
    res.keep_alive(keep_alive && res.keep_alive() && !server_->stopping.load());
    write(std::move(res));
  }

  // The response is serialized into one reused buffer and written at once (http_wire.hpp).
  void write(Response&& res) {
    release_body_memory();
    res.prepare_payload();
    keep_alive_ = res.keep_alive();
    out_.clear();
    append_wire(out_, res);
    stream_.expires_after(options().body_timeout);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        if (self->keep_alive_) return self->read_next();
                        if (self->linger_) return self->linger();
                        self->close();
                      });
  }

  // After a refusal the client may still be sending what was not read (a body, a pipelined
  // request). Closing with unread bytes makes the kernel reset the connection, and the reset can
  // destroy our answer before the client reads it: so the sending side is shut and what arrives
  // is discarded until the client closes, for at most the header deadline and max_body_bytes.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(options().header_timeout);
    buffer_.clear();
    drain(0);
  }

  void drain(size_t drained) {
    stream_.async_read_some(buffer_.prepare(kReadBuffer),
                            [self = shared_from_this(), drained](beast::error_code ec, size_t n) {
                              if (ec || drained + n > self->options().max_body_bytes)
                                return self->close();
                              self->drain(drained + n);
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  bool take_body_memory(uint64_t n) {
    if (n == 0) return true;
    if (n > SIZE_MAX || !server_->body_memory.try_take(static_cast<size_t>(n))) return false;
    body_memory_ += static_cast<size_t>(n);
    return true;
  }

  void release_body_memory() {
    server_->body_memory.give(body_memory_);
    body_memory_ = 0;
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> chunk_header_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::optional<asio::ip::address> client_;  // the ClientSlots slot this connection holds
  std::string out_;                          // the response being written
  size_t body_memory_ = 0;                   // taken from server_->body_memory
  bool over_memory_ = false;
  bool keep_alive_ = false;
  bool linger_ = false;
};

}  // namespace

void start_session(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server,
                   asio::ip::address client) {
  std::make_shared<Session>(std::move(socket), std::move(server), std::move(client))->start();
}

// The refusal is written at once and the connection closed without lingering: a client over its
// cap must not hold a connection for long, and has usually sent nothing yet (one that has may
// see a reset instead of the answer).
void refuse_connection(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server) {
  size_t cap = server->options.max_connections_per_client;
  std::make_shared<Session>(std::move(socket), std::move(server), std::nullopt)
      ->refuse(
          unavailable("too_many_connections", "this client address has " + std::to_string(cap) +
                                                  " connections open; close one or retry later"),
          false);
}

}  // namespace sealhook::net
