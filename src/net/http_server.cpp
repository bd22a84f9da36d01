#include "net/http_server.hpp"

#include "net/http_wire.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

namespace sealhook::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

Response json_response(unsigned status, std::string body, unsigned version, bool keep_alive) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_response(const Error& e, unsigned version, bool keep_alive) {
  boost::json::object inner{{"code", e.code}, {"message", e.message}};
  boost::json::object outer{{"error", std::move(inner)}};
  const int status = http_status(e.kind);
  Response res = json_response(static_cast<unsigned>(status), boost::json::serialize(outer),
                               version, keep_alive);
  if (status == 429 || status == 503)
    res.set(http::field::retry_after, std::to_string(kRetryAfterSeconds));
  return res;
}

Result<tcp::endpoint> parse_listen_address(const std::string& host_port) {
  std::string host = "0.0.0.0";
  std::string port_text = host_port;
  auto colon = host_port.rfind(':');
  if (colon != std::string::npos) {
    host = host_port.substr(0, colon);
    port_text = host_port.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
  }
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535)
    return make_error(ErrorKind::kBadRequest, "invalid_listen",
                      "bad listen port in '" + host_port + "'");
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  auto addr = asio::ip::make_address(host, aec);
  if (aec)
    return make_error(ErrorKind::kBadRequest, "invalid_listen",
                      "listen host must be an IP address or localhost: '" + host_port + "'");
  return tcp::endpoint(addr, static_cast<uint16_t>(port));
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, ServerOptions o, Handler h)
      : io(io), acceptor(asio::make_strand(io)), options(o), handler(std::move(h)) {}

  asio::io_context& io;
  tcp::acceptor acceptor;
  ServerOptions options;
  Handler handler;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};

  void accept();
};

namespace {

constexpr size_t kReadBuffer = 16 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<HttpServer::Impl> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    // Beast reads at most the buffer's free capacity per recv (512 bytes when unreserved).
    buffer_.reserve(kReadBuffer);
  }
  ~Session() { server_->connections--; }

  void start() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(server_->options.max_body_bytes);
    stream_.expires_after(server_->options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      Error e = make_error(
          ErrorKind::kTooLarge, "payload_too_large",
          "request body is over " + std::to_string(server_->options.max_body_bytes) + " bytes");
      return write(error_response(e, 11, false));
    }
    if (ec == http::error::header_limit) {
      Error e =
          make_error(ErrorKind::kBadRequest, "headers_too_large", "request headers are too large");
      return write(error_response(e, 11, false));
    }
    if (ec) return close();
    Request req = parser_->release();
    if (!server_->options.async)
      return respond(req.version(), req.keep_alive(), server_->handler(req));
    unsigned version = req.version();
    bool keep_alive = req.keep_alive();
    server_->options.async(
        std::move(req), [self = shared_from_this(), version, keep_alive](Response&& res) {
          auto executor = self->stream_.get_executor();
          asio::post(executor, [self, version, keep_alive, res = std::move(res)]() mutable {
            self->respond(version, keep_alive, std::move(res));
          });
        });
  }

  void respond(unsigned version, bool keep_alive, Response&& res) {
    res.version(version);
    res.keep_alive(keep_alive && res.keep_alive() && !server_->stopping.load());
    write(std::move(res));
  }

  // The response is serialized into one reused buffer and written at once (http_wire.hpp).
  void write(Response&& res) {
    res.prepare_payload();
    keep_alive_ = res.keep_alive();
    out_.clear();
    append_wire(out_, res);
    stream_.expires_after(server_->options.read_timeout);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec || !self->keep_alive_) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::Impl> server_;
  std::string out_;  // the response being written
  bool keep_alive_ = false;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec == asio::error::operation_aborted || !self->acceptor.is_open())
                              return;
                            return self->accept();  // e.g. EMFILE: keep serving
                          }
                          if (self->connections.load() >= self->options.max_connections) {
                            beast::error_code ignored;
                            socket.close(ignored);
                          } else {
                            self->connections++;
                            std::make_shared<Session>(std::move(socket), self)->start();
                          }
                          self->accept();
                        });
}

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(io, options, std::move(handler))) {}

HttpServer::~HttpServer() { stop_accepting(); }

Status listen_on(tcp::acceptor& acceptor, const std::string& host_port) {
  auto ep = parse_listen_address(host_port);
  if (!ep) return ep.error();
  beast::error_code ec;
  acceptor.open(ep->protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(*ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(ErrorKind::kUnavailable, "listen_failed",
                      "cannot listen on " + host_port + ": " + ec.message());
  return {};
}

Status HttpServer::listen(const std::string& host_port) {
  if (auto st = listen_on(impl_->acceptor, host_port); !st) return st;
  impl_->accept();
  return {};
}

uint16_t HttpServer::port() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::stop_accepting() {
  impl_->stopping = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
}

size_t HttpServer::open_connections() const { return impl_->connections.load(); }

}  // namespace sealhook::net
