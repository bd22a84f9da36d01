#include "net/http_server.hpp"

#include "net/server_impl.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http/field.hpp>
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

HttpServer::Impl::Impl(asio::io_context& io, ServerOptions o, Handler h)
    : io(io),
      acceptor(asio::make_strand(io)),
      options(std::move(o)),
      handler(std::move(h)),
      body_memory(options.max_request_memory_bytes),
      clients(options.max_connections_per_client) {}

// Over max_connections the new connection is closed at once; over max_connections_per_client it
// is answered 503 with Retry-After first (refuse_connection), so that a client behind a shared
// address learns why.
void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                          if (ec) {
                            if (ec == asio::error::operation_aborted || !self->acceptor.is_open())
                              return;
                            return self->accept();  // e.g. EMFILE: keep serving
                          }
                          self->admit(std::move(socket));
                          self->accept();
                        });
}

void HttpServer::Impl::admit(tcp::socket&& socket) {
  beast::error_code ec;
  auto peer = socket.remote_endpoint(ec);
  if (ec || connections.load() >= options.max_connections) {
    socket.close(ec);
    return;
  }
  connections++;
  if (!clients.try_take(peer.address()))
    return refuse_connection(std::move(socket), shared_from_this());
  start_session(std::move(socket), shared_from_this(), peer.address());
}

HttpServer::HttpServer(asio::io_context& io, ServerOptions options, Handler handler)
    : impl_(std::make_shared<Impl>(io, std::move(options), std::move(handler))) {}

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

uint16_t HttpServer::port() const { return local_endpoint().port(); }

tcp::endpoint HttpServer::local_endpoint() const {
  beast::error_code ec;
  return impl_->acceptor.local_endpoint(ec);
}

void HttpServer::stop_accepting() {
  impl_->stopping = true;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
}

size_t HttpServer::open_connections() const { return impl_->connections.load(); }

size_t HttpServer::request_memory_bytes() const { return impl_->body_memory.used(); }

}  // namespace sealhook::net
