#include "http_test_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <optional>

namespace sealhook::delivery::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string RecordedRequest::header(std::string_view name) const {
  std::string found;
  int count = 0;
  for (const auto& [n, v] : headers) {
    if (beast::iequals(n, name)) {
      found = v;
      ++count;
    }
  }
  return count > 1 ? "<duplicate>" : found;
}

struct SessionBase {
  virtual ~SessionBase() = default;
  virtual void close() = 0;
};

struct TestServer::Impl {
  Impl(TestServer& s, Handler h, std::shared_ptr<asio::ssl::context> t)
      : server(s), handler(std::move(h)), tls(std::move(t)) {}

  asio::io_context io;
  TestServer& server;
  Handler handler;
  std::shared_ptr<asio::ssl::context> tls;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::weak_ptr<SessionBase>> sessions;  // server thread only
  std::vector<std::shared_ptr<SessionBase>> held;    // sessions that never answer
  mutable std::mutex mu;
  std::vector<RecordedRequest> received;

  void accept();
  void record(const RecordedRequest& rec) {
    {
      std::lock_guard lock(mu);
      received.push_back(rec);
    }
    server.requests_.fetch_add(1);
  }
};

namespace {

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(TestServer::Impl& impl, Stream stream, int index)
      : impl_(impl), stream_(std::move(stream)), index_(index) {}

  void start() {
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      read();
    } else {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->read();
                              });
    }
  }

  void close() override {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).close(ignored);
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(16 * 1024 * 1024);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->close();
                       self->on_request();
                     });
  }

  void on_request() {
    const auto& req = parser_->get();
    RecordedRequest rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    for (const auto& f : req) rec.headers.emplace_back(f.name_string(), f.value());
    rec.body = req.body();
    rec.connection = index_;
    impl_.record(rec);
    const Reply reply = impl_.handler(rec, ++count_);
    if (reply.drop) return close();
    if (reply.never) return impl_.held.push_back(this->shared_from_this());
    res_ = {};
    res_.version(11);
    res_.result(static_cast<unsigned>(reply.status));
    for (const auto& [n, v] : reply.headers) res_.insert(n, v);
    res_.body() = reply.body;
    if (reply.chunked)
      res_.chunked(true);
    else
      res_.prepare_payload();
    res_.keep_alive(reply.keep_alive);
    if (!reply.interim) return write(reply.keep_alive);
    hints_.version(11);
    hints_.result(103);  // Early Hints
    hints_.set(http::field::link, "</style.css>; rel=preload");
    http::async_write(
        stream_, hints_,
        [self = this->shared_from_this(), keep = reply.keep_alive](beast::error_code ec, size_t) {
          if (ec) return self->close();
          self->write(keep);
        });
  }

  void write(bool keep) {
    http::async_write(stream_, res_,
                      [self = this->shared_from_this(), keep](beast::error_code ec, size_t) {
                        if (ec || !keep) return self->close();
                        self->read();
                      });
  }

  TestServer::Impl& impl_;
  Stream stream_;
  int index_;
  int count_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> res_;
  http::response<http::empty_body> hints_;
};

}  // namespace

void TestServer::Impl::accept() {
  acceptor->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    const int index = server.connections_.fetch_add(1) + 1;
    if (tls) {
      using Tls = asio::ssl::stream<tcp::socket>;
      auto s = std::make_shared<Session<Tls>>(*this, Tls(std::move(socket), *tls), index);
      sessions.push_back(s);
      s->start();
    } else {
      auto s = std::make_shared<Session<tcp::socket>>(*this, std::move(socket), index);
      sessions.push_back(s);
      s->start();
    }
    accept();
  });
}

TestServer::TestServer(Handler handler, std::shared_ptr<asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>(*this, std::move(handler), std::move(tls))) {
  impl_->acceptor.emplace(impl_->io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  port_ = impl_->acceptor->local_endpoint().port();
  impl_->accept();
  thread_ = std::thread([this] { impl_->io.run(); });
}

TestServer::~TestServer() {
  asio::post(impl_->io, [this] {
    impl_->acceptor->close();
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) s->close();
    impl_->held.clear();
  });
  thread_.join();  // run() returns once every session has wound down
}

std::vector<RecordedRequest> TestServer::received() const {
  std::lock_guard lock(impl_->mu);
  return impl_->received;
}

void TestServer::close_all_connections() {
  std::promise<void> closed;
  asio::post(impl_->io, [this, &closed] {
    for (auto& w : impl_->sessions)
      if (auto s = w.lock()) s->close();
    impl_->held.clear();
    closed.set_value();
  });
  closed.get_future().wait();
}

}  // namespace sealhook::delivery::testing
