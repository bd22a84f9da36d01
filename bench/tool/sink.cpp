// `sealhook-bench sink`: answers every POST 200 at once (keep-alive, no decryption, no
// signature check) and records the wall-clock arrival of the first request per webhook-id.
//   GET    /stats            {"count", "posts", "duplicates", "webhook_posts",
//   "webhook_body_bytes",
//                              "hang_connections", "arrivals": {webhook_id: ns}}
//   (count: distinct webhook-ids; posts: every POST, wrk's included; webhook_*: POSTs with a
//   webhook-id header and the sum of their body sizes)
//   GET    /stats?summary=1  the same without "arrivals"
//   GET    /stats?out=/PATH  (absolute, may be percent-encoded) writes "webhook_id arrival_ns"
//   lines to PATH, answers the summary
//   DELETE /stats           forgets everything
//   POST   /pause           from now on, holds every webhook POST unanswered (keep-alive
//                           connections stay open, the sender's attempts stay in flight)
//   POST   /resume          answers every held POST and stops holding; {"released": N}
// The summary also has "first_ns"/"last_ns" (earliest and latest first arrival), "paused" and
// "held" (POSTs waiting for /resume). A held POST is recorded when it is answered, so its
// arrival time is the moment of the resume. --paused starts the sink paused.
// With --hang-listen / --hang-port-file it also opens a listener that accepts connections and
// never reads from them: every delivery attempt to it times out (the dead-endpoint scenario).
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common.hpp"
#include "net/http_server.hpp"
#include "net/http_wire.hpp"

namespace sealhook::bench {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class Recorder {
 public:
  explicit Recorder(size_t expect) { arrivals_.reserve(expect); }

  void post(std::string_view webhook_id, size_t body_bytes, int64_t at_ns) {
    std::lock_guard lock(mu_);
    ++posts_;
    if (webhook_id.empty()) return;
    ++webhooks_;
    webhook_bytes_ += body_bytes;
    if (!arrivals_.emplace(std::string(webhook_id), at_ns).second) {
      ++duplicates_;
      return;
    }
    if (first_ns_ == 0 || at_ns < first_ns_) first_ns_ = at_ns;
    if (at_ns > last_ns_) last_ns_ = at_ns;
  }

  // tail: further ",\"key\":value" members of the summary.
  std::string summary_json(const std::string& tail, int64_t written = -1) {
    std::lock_guard lock(mu_);
    return summary_locked(tail, written);
  }

  std::string full_json(const std::string& tail) {
    std::lock_guard lock(mu_);
    std::string out = summary_locked(tail, -1);
    out.pop_back();  // '}'
    out += ",\"arrivals\":{";
    bool first = true;
    for (const auto& [id, ns] : arrivals_) {
      if (!first) out += ',';
      first = false;
      out += boost::json::serialize(boost::json::value(id));
      out += ':';
      out += std::to_string(ns);
    }
    out += "}}";
    return out;
  }

  // Writes "webhook_id arrival_ns" lines; returns the number written or -1.
  int64_t write(const std::string& path) {
    std::lock_guard lock(mu_);
    std::ofstream f(path, std::ios::trunc);
    if (!f) return -1;
    for (const auto& [id, ns] : arrivals_) f << id << ' ' << ns << '\n';
    f.flush();
    return f ? static_cast<int64_t>(arrivals_.size()) : -1;
  }

  void reset() {
    std::lock_guard lock(mu_);
    arrivals_.clear();
    posts_ = duplicates_ = webhooks_ = webhook_bytes_ = 0;
    first_ns_ = last_ns_ = 0;
  }

 private:
  std::string summary_locked(const std::string& tail, int64_t written) const {
    std::string s = "{\"count\":" + std::to_string(arrivals_.size()) +
                    ",\"posts\":" + std::to_string(posts_) +
                    ",\"duplicates\":" + std::to_string(duplicates_) +
                    ",\"webhook_posts\":" + std::to_string(webhooks_) +
                    ",\"webhook_body_bytes\":" + std::to_string(webhook_bytes_) +
                    ",\"first_ns\":" + std::to_string(first_ns_) +
                    ",\"last_ns\":" + std::to_string(last_ns_) + tail;
    if (written >= 0) s += ",\"written\":" + std::to_string(written);
    return s + "}";
  }

  std::mutex mu_;
  std::unordered_map<std::string, int64_t> arrivals_;
  uint64_t posts_ = 0, duplicates_ = 0, webhooks_ = 0, webhook_bytes_ = 0;
  int64_t first_ns_ = 0, last_ns_ = 0;
};

// POST /pause ... POST /resume: while paused, webhook POSTs are held (their sessions park a
// continuation here) and answered on resume.
class Gate {
 public:
  explicit Gate(bool paused) : paused_(paused) {}

  static bool is_control(const net::Request& req) {
    return req.method() == http::verb::post &&
           (req.target() == "/pause" || req.target() == "/resume");
  }

  // True when req is a webhook POST and the sink is paused: `resume` then runs at /resume
  // (on the caller's thread: it must only post work to the session's executor).
  bool hold(const net::Request& req, std::function<void()> resume) {
    if (req.method() != http::verb::post || is_control(req)) return false;
    std::lock_guard lock(mu_);
    if (!paused_) return false;
    held_.push_back(std::move(resume));
    return true;
  }

  void pause() {
    std::lock_guard lock(mu_);
    paused_ = true;
  }

  size_t resume() {
    std::vector<std::function<void()>> held;
    {
      std::lock_guard lock(mu_);
      paused_ = false;
      held.swap(held_);
    }
    for (auto& f : held) f();
    return held.size();
  }

  std::string summary_tail() {
    std::lock_guard lock(mu_);
    return std::string(",\"paused\":") + (paused_ ? "true" : "false") +
           ",\"held\":" + std::to_string(held_.size());
  }

 private:
  std::mutex mu_;
  bool paused_;
  std::vector<std::function<void()>> held_;
};

// Accepts and keeps every connection, never reads: the peer's request sits unanswered.
class HangListener {
 public:
  explicit HangListener(asio::io_context& io) : acceptor_(io) {}

  bool listen(const std::string& host_port) {
    if (!net::listen_on(acceptor_, host_port)) return false;
    accept();
    return true;
  }
  uint16_t port() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }
  size_t connections() {
    std::lock_guard lock(mu_);
    return held_.size();
  }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        std::lock_guard lock(mu_);
        // Bounded: past kMaxHeld the oldest connection is dropped (its attempt timed out long ago).
        if (held_.size() >= kMaxHeld) held_.pop_front();
        held_.push_back(std::move(s));
      }
      accept();
    });
  }

  static constexpr size_t kMaxHeld = 4096;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::deque<tcp::socket> held_;
};

using Handler = std::function<net::Response(net::Request&)>;

// One keep-alive connection. Unlike net::HttpServer (whose flat_buffer starts empty and stays
// small, so a 64 KiB body arrives 512 bytes per recv), the read buffer is reserved up front so
// large deliveries are read in 64 KiB chunks: the sink must stay far from being the ceiling.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& s, const Handler& handler, Gate& gate)
      : stream_(std::move(s)), handler_(handler), gate_(gate) {
    buffer_.reserve(256 * 1024);
  }
  void start() {
    boost::system::error_code ec;
    stream_.socket().set_option(tcp::no_delay(true), ec);
    read();
  }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(64 << 20);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](boost::system::error_code ec, size_t) {
                       if (ec) return self->close();
                       self->req_ = self->parser_->release();
                       if (self->gate_.hold(self->req_, [self] {
                             asio::post(self->stream_.get_executor(), [self] { self->respond(); });
                           }))
                         return;
                       self->respond();
                     });
  }
  void respond() {
    res_ = handler_(req_);
    res_.version(req_.version());
    res_.keep_alive(req_.keep_alive());
    res_.prepare_payload();
    out_.clear();
    net::append_wire(out_, res_);
    asio::async_write(stream_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code wec, size_t) {
                        if (wec || !self->res_.keep_alive()) return self->close();
                        self->read();
                      });
  }
  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  boost::beast::tcp_stream stream_;
  const Handler& handler_;
  Gate& gate_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  net::Request req_;
  net::Response res_;
  std::string out_;  // res_ on the wire
};

class Server {
 public:
  Server(asio::io_context& io, Gate& gate, Handler h)
      : io_(io), acceptor_(asio::make_strand(io)), handler_(std::move(h)), gate_(gate) {}
  bool listen(const std::string& host_port) {
    if (!net::listen_on(acceptor_, host_port)) return false;
    accept();
    return true;
  }
  uint16_t port() const {
    boost::system::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           [this](boost::system::error_code ec, tcp::socket s) {
                             if (ec == asio::error::operation_aborted) return;
                             if (!ec)
                               std::make_shared<Session>(std::move(s), handler_, gate_)->start();
                             accept();
                           });
  }
  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Handler handler_;
  Gate& gate_;
};

std::string percent_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i] == '+' ? ' ' : in[i]);
    }
  }
  return out;
}

std::string query_param(std::string_view target, std::string_view name) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    auto eq = kv.find('=');
    if (kv.substr(0, eq) == name)
      return eq == std::string_view::npos ? "1" : percent_decode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

bool write_file(const std::string& path, const std::string& text) {
  if (path.empty()) return true;
  std::ofstream f(path, std::ios::trunc);
  f << text << '\n';
  return static_cast<bool>(f);
}

}  // namespace

int run_sink(const SinkArgs& a) {
  rlimit nofile{};  // many connections (sealhook's pools, wrk, held hang sockets)
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  asio::io_context io;
  Recorder rec(a.expect);
  std::unique_ptr<HangListener> hang;
  if (!a.hang_listen.empty()) {
    hang = std::make_unique<HangListener>(io);
    if (!hang->listen(a.hang_listen)) {
      std::cerr << "sink: cannot listen on " << a.hang_listen << "\n";
      return 2;
    }
  }
  Gate gate(a.paused);
  auto tail = [&] {
    return ",\"hang_connections\":" + std::to_string(hang ? hang->connections() : size_t{0}) +
           gate.summary_tail();
  };

  Server server(io, gate, [&](net::Request& req) {
    int64_t now = wall_ns();
    if (Gate::is_control(req)) {
      if (req.target() == "/pause") {
        gate.pause();
        return net::json_response(200, "{\"paused\":true}");
      }
      size_t released = gate.resume();
      return net::json_response(200,
                                "{\"paused\":false,\"released\":" + std::to_string(released) + "}");
    }
    if (req.method() == http::verb::post) {
      rec.post(req["webhook-id"], req.body().size(), now);
      net::Response res{http::status::ok, req.version()};
      res.keep_alive(true);
      res.prepare_payload();
      return res;
    }
    std::string_view target = req.target();
    if (target.substr(0, 6) != "/stats") return net::json_response(404, "{}");
    if (req.method() == http::verb::delete_) {
      rec.reset();
      return net::json_response(200, rec.summary_json(tail()));
    }
    if (auto out = query_param(target, "out"); !out.empty()) {
      if (out.front() != '/')
        return net::json_response(400, "{\"error\":\"out must be an absolute path\"}");
      int64_t n = rec.write(out);
      if (n < 0) return net::json_response(500, "{\"error\":\"cannot write " + out + "\"}");
      return net::json_response(200, rec.summary_json(tail(), n));
    }
    if (!query_param(target, "summary").empty())
      return net::json_response(200, rec.summary_json(tail()));
    return net::json_response(200, rec.full_json(tail()));
  });
  if (!server.listen(a.listen)) {
    std::cerr << "sink: cannot listen on " << a.listen << "\n";
    return 2;
  }
  if (!write_file(a.port_file, std::to_string(server.port())) ||
      (hang && !write_file(a.hang_port_file, std::to_string(hang->port())))) {
    std::cerr << "sink: cannot write the port file\n";
    return 2;
  }
  std::cout << "sink listening on port " << server.port() << "\n";
  if (hang) std::cout << "hang listening on port " << hang->port() << "\n";
  std::cout << std::flush;

  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  std::vector<std::thread> pool;
  for (int i = 1; i < a.threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return 0;
}

}  // namespace sealhook::bench
