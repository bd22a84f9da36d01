#include "delivery/http_attempt.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <optional>

#include "delivery/http_connection.hpp"
#include "delivery/http_message.hpp"
#include "delivery/ssrf_guard.hpp"

namespace sealhook::delivery {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using Done = std::function<void(SendResult)>;
using Timer = asio::basic_waitable_timer<SteadyClock, asio::wait_traits<SteadyClock>, Strand>;

class Attempt : public std::enable_shared_from_this<Attempt> {
 public:
  Attempt(std::shared_ptr<SenderShared> shared, ParsedUrl url, std::string origin,
          SendRequest request, Done done, const Strand& strand, std::unique_ptr<Connection> conn,
          SteadyClock::time_point start)
      : shared_(std::move(shared)),
        url_(std::move(url)),
        origin_(std::move(origin)),
        request_(std::move(request)),
        done_(std::move(done)),
        strand_(strand),
        timer_(strand),
        conn_(std::move(conn)),
        reused_(conn_ != nullptr),
        start_(start) {}

  void start() {
    timer_.expires_at(start_ + request_.timeout);
    timer_.async_wait([self = shared_from_this()](const beast::error_code& ec) {
      if (!ec) self->on_timeout();
    });
    beast::error_code ec;
    literal_ = asio::ip::make_address(url_.host, ec);
    if (ec) literal_.reset();
    if (!build_post_head(head_, url_, request_, shared_->options.user_agent))
      return fail("invalid_header");
    if (conn_)
      write();
    else
      connect_fresh();
  }

 private:
  void connect_fresh() {
    if (literal_) {
      if (!shared_->options.addresses.permits(*literal_)) return fail("forbidden_address");
      conn_ = std::make_unique<Connection>(strand_);
      conn_->socket.async_connect(
          tcp::endpoint(*literal_, url_.port),
          [self = shared_from_this()](const beast::error_code& ec) { self->on_connect(ec); });
      return;
    }
    asio::post(shared_->dns, [self = shared_from_this()]() mutable {
      tcp::resolver resolver(self->shared_->dns);
      beast::error_code ec;
      auto results = resolver.resolve(self->url_.host, std::to_string(self->url_.port),
                                      tcp::resolver::numeric_service, ec);
      // The pool thread lets go of the attempt here: its last owner must not be a dns thread.
      auto strand = self->strand_;
      asio::post(strand, [self = std::move(self), ec, results = std::move(results)] {
        self->on_resolve(ec, results);
      });
    });
  }

  // The guard applies to the addresses actually connected to, so DNS rebinding cannot pass.
  void on_resolve(const beast::error_code& ec, const tcp::resolver::results_type& results) {
    if (finished_) return;
    if (ec) return fail("resolve: " + ec.message());
    auto permitted = [shared = shared_](const tcp::endpoint& ep) {
      return shared->options.addresses.permits(ep.address());
    };
    if (std::none_of(results.begin(), results.end(),
                     [&](const auto& entry) { return permitted(entry.endpoint()); }))
      return fail("forbidden_address");
    conn_ = std::make_unique<Connection>(strand_);
    asio::async_connect(
        conn_->socket, results,
        [permitted](const beast::error_code&, const tcp::endpoint& ep) { return permitted(ep); },
        [self = shared_from_this()](const beast::error_code& e, const tcp::endpoint&) {
          self->on_connect(e);
        });
  }

  void on_connect(const beast::error_code& ec) {
    if (finished_) return;
    if (ec) return fail("connect: " + ec.message());
    beast::error_code ignored;
    conn_->socket.set_option(tcp::no_delay(true), ignored);
    if (url_.scheme == "https") return start_tls();
    write();
  }

  void start_tls() {
    conn_->tls.emplace(conn_->socket, shared_->tls);
    SSL* ssl = conn_->tls->native_handle();
    const char* host = url_.host.c_str();
    const bool ok = literal_
                        ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1
                        : SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    if (!ok) return fail("tls: cannot set the expected peer name");
    conn_->tls->async_handshake(
        asio::ssl::stream_base::client,
        [self = shared_from_this()](const beast::error_code& ec) { self->on_handshake(ec); });
  }

  void on_handshake(const beast::error_code& ec) {
    if (finished_) return;
    if (!ec) return write();
    const long verify = SSL_get_verify_result(conn_->tls->native_handle());
    if (verify != X509_V_OK)
      return fail(std::string("tls: certificate verify failed: ") +
                  X509_verify_cert_error_string(verify));
    fail("tls: " + ec.message());
  }

  template <class F>
  void with_stream(F&& f) {
    if (conn_->tls)
      f(*conn_->tls);
    else
      f(conn_->socket);
  }

  // The head and the shared body, gathered into one write.
  void write() {
    const std::array<asio::const_buffer, 2> buffers{
        asio::buffer(head_), request_.body ? asio::buffer(*request_.body) : asio::const_buffer()};
    with_stream([&](auto& stream) {
      asio::async_write(
          stream, buffers,
          [self = shared_from_this()](const beast::error_code& ec, size_t) { self->on_write(ec); });
    });
  }

  void on_write(const beast::error_code& ec) {
    if (finished_) return;
    if (ec) return retry_or_fail("write", ec);
    read_header();
  }

  void read_header() {
    parser_.emplace();
    parser_->body_limit(boost::none);  // the header decides; see on_header
    with_stream([this](auto& stream) {
      http::async_read_header(stream, conn_->buffer, *parser_,
                              [self = shared_from_this()](const beast::error_code& ec, size_t) {
                                self->on_header(ec);
                              });
    });
  }

  void on_header(const beast::error_code& ec) {
    if (finished_) return;
    if (ec) {
      if (parser_->got_some()) return fail("read: " + ec.message());
      return retry_or_fail("read", ec);
    }
    const auto& res = parser_->get();
    const int status = res.result_int();
    if (status / 100 == 1 && status != 101) return read_header();  // 100 Continue, 103 hints
    result_.status = status;
    if (auto it = res.find(http::field::retry_after); it != res.end())
      result_.retry_after.emplace(it->value());
    if (parser_->is_done()) return complete(status != 101 && parser_->keep_alive());
    // The status is the answer: a body too large, or on a connection about to close, is not read.
    const uint64_t limit = shared_->options.max_response_bytes;
    const auto length = parser_->content_length();
    if (!parser_->keep_alive() || (length && *length > limit)) return complete(false);
    parser_->body_limit(limit);
    with_stream([this](auto& stream) {
      http::async_read(stream, conn_->buffer, *parser_,
                       [self = shared_from_this()](const beast::error_code& ec, size_t) {
                         if (!self->finished_) self->complete(!ec && self->parser_->keep_alive());
                       });
    });
  }

  // A pooled connection the peer closed while idle fails before any response byte: once,
  // the request goes again on a fresh connection (same deadline).
  void retry_or_fail(const char* what, const beast::error_code& ec) {
    if (!reused_) return fail(std::string(what) + ": " + ec.message());
    reused_ = false;
    conn_.reset();
    parser_.reset();
    connect_fresh();
  }

  void on_timeout() {
    if (finished_) return;
    fail("timeout");  // a lookup still running finds the attempt finished
  }

  void complete(bool keep_alive) {
    if (keep_alive && conn_->buffer.size() == 0) shared_->pool.release(origin_, std::move(conn_));
    finish(std::move(result_));
  }

  void fail(std::string error) {
    SendResult result;
    result.error = std::move(error);
    finish(std::move(result));
  }

  void finish(SendResult result) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    // Pending operations complete with operation_aborted; conn_ lives until they have.
    if (conn_) conn_->socket.close(ignored_);
    result.duration =
        std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start_);
    Done done = std::move(done_);
    done(std::move(result));
  }

  std::shared_ptr<SenderShared> shared_;
  ParsedUrl url_;
  std::string origin_;
  SendRequest request_;
  Done done_;
  Strand strand_;
  Timer timer_;
  std::unique_ptr<Connection> conn_;
  bool reused_;
  bool finished_ = false;
  SteadyClock::time_point start_;
  std::optional<asio::ip::address> literal_;
  std::string head_;  // request line and headers (build_post_head)
  std::optional<HttpResponseParser> parser_;
  SendResult result_;
  beast::error_code ignored_;
};

}  // namespace

void start_attempt(const std::shared_ptr<SenderShared>& shared, SendRequest request,
                   std::function<void(SendResult)> done) {
  const auto start = SteadyClock::now();
  auto url = parse_url(request.url);
  if (!url) {
    SendResult result;
    result.error = "invalid_url: " + url.error().message;
    asio::post(shared->io, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
    return;
  }
  std::string origin = url->origin();
  auto conn = shared->pool.acquire(origin);
  const Strand strand = conn ? conn->socket.get_executor() : asio::make_strand(shared->io);
  auto attempt = std::make_shared<Attempt>(shared, std::move(url.value()), std::move(origin),
                                           std::move(request), std::move(done), strand,
                                           std::move(conn), start);
  asio::post(strand, [attempt = std::move(attempt)] { attempt->start(); });
}

}  // namespace sealhook::delivery
