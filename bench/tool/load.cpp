// `sealhook-bench load`: publishes N events to POST /v1/events over C keep-alive HTTP/1.1
// connections on one thread, as fast as the server answers (closed loop) or paced at R
// events/s overall (open loop: event k is due at start + k/R; a connection that is free
// waits for the next due event). Per event it records the event_id of the 202 answer, the
// wall-clock ns when the answer arrived and the round-trip latency; it prints a JSON summary.
// With --types-round-robin N, event k (k-th sent, 0-based) has type <prefix>(k % N), e.g.
// bench.e0 .. bench.e{N-1}; with --body-template every "{k}" of the body is replaced by k (any
// URL and body, e.g. POST /v1/endpoints with --expect-status 201 to onboard many endpoints).
// Either way the body is rebuilt per request from its fixed parts.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "common.hpp"
#include "net/http_wire.hpp"

namespace sealhook::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

struct Record {
  char event_id[40] = {0};
  int64_t answer_ns = 0;   // wall clock
  int64_t latency_ns = 0;  // send -> answer
  int64_t late_ns = 0;     // due -> answer (paced runs), else = latency_ns
  int status = 0;          // HTTP status, 0 = transport error / not sent
};

struct Shared {
  const LoadArgs& args;
  tcp::endpoint server{};
  std::string host{}, target{};
  std::string body{};
  std::vector<std::string> parts{};  // per-request body: parts[0] + v + parts[1] + v + ...
  uint64_t modulo = 0;               // v = k % modulo (0: v = k)
  std::vector<Record> records{};
  uint64_t next = 0;
  steady::time_point start{};
  int64_t first_send_ns = 0, last_answer_ns = 0;
  uint64_t errors = 0, reconnects = 0;
  std::map<int, uint64_t> statuses{};
  std::string first_error_body{};
};

class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, Shared& s) : io_(io), stream_(io), timer_(io), s_(s) {
    req_.method(http::verb::post);
    req_.target(s.target);
    req_.version(11);
    req_.set(http::field::host, s.host);
    req_.set(http::field::authorization, "Bearer " + s.args.token);
    req_.set(http::field::content_type, "application/json");
    req_.keep_alive(true);
    req_.body() = s.body;
    req_.prepare_payload();
    net::append_wire(wire_, req_);
  }

  void start() { connect(); }

 private:
  void connect() {
    stream_.expires_after(std::chrono::seconds(10));
    stream_.async_connect(s_.server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->fail(ec, nullptr);
      self->stream_.socket().set_option(tcp::no_delay(true), ec);
      self->next();
    });
  }

  void next() {
    if (s_.next >= s_.args.events) return close();
    idx_ = s_.next++;
    if (s_.args.rate > 0) {
      due_ = s_.start + std::chrono::nanoseconds(
                            static_cast<int64_t>(static_cast<double>(idx_) * 1e9 / s_.args.rate));
      if (due_ > steady::now()) {
        timer_.expires_at(due_);
        return timer_.async_wait([self = shared_from_this()](beast::error_code) { self->send(); });
      }
    }
    send();
  }

  void send() {
    if (s_.parts.size() > 1) {
      std::string v = std::to_string(s_.modulo ? idx_ % s_.modulo : idx_);
      std::string& b = req_.body();
      b.assign(s_.parts[0]);
      for (size_t i = 1; i < s_.parts.size(); ++i) {
        b += v;
        b += s_.parts[i];
      }
      req_.prepare_payload();
      wire_.clear();
      net::append_wire(wire_, req_);
    }
    sent_ = steady::now();
    if (s_.args.rate <= 0) due_ = sent_;
    if (s_.first_send_ns == 0) s_.first_send_ns = wall_ns();
    stream_.expires_after(std::chrono::seconds(s_.args.timeout_s));
    asio::async_write(stream_, asio::buffer(wire_),
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->fail(ec, &self->s_.records[self->idx_]);
                        self->read();
                      });
  }

  void read() {
    parser_.emplace();
    parser_->body_limit(1 << 20);
    http::async_read(
        stream_, buf_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_answer(ec); });
  }

  void on_answer(beast::error_code ec) {
    Record& r = s_.records[idx_];
    if (ec) return fail(ec, &r);
    auto now = steady::now();
    r.answer_ns = wall_ns();
    s_.last_answer_ns = r.answer_ns;
    r.latency_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - sent_).count();
    r.late_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - due_).count();
    auto& res = parser_->get();
    r.status = static_cast<int>(res.result_int());
    s_.statuses[r.status]++;
    if (r.status == s_.args.expect_status) {
      const std::string& b = res.body();
      static constexpr std::string_view kKey = "\"event_id\":\"";
      auto p = b.find(kKey);
      if (p != std::string::npos) {
        p += kKey.size();
        auto e = b.find('"', p);
        if (e != std::string::npos && e - p < sizeof r.event_id) b.copy(r.event_id, e - p, p);
      }
    } else if (s_.first_error_body.empty()) {
      s_.first_error_body = std::to_string(r.status) + " " + res.body().substr(0, 300);
    }
    bool keep = res.keep_alive();
    if (!keep) {
      reconnect();
      return;
    }
    next();
  }

  void fail(beast::error_code ec, Record* r) {
    s_.errors++;
    if (r) r->status = 0;
    if (s_.first_error_body.empty()) s_.first_error_body = "transport: " + ec.message();
    if (++consecutive_errors_ > 20) {
      std::cerr << "load: giving up a connection after 20 errors in a row: " << ec.message()
                << "\n";
      return close();
    }
    timer_.expires_after(std::chrono::milliseconds(50));
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->reconnect(); });
  }

  void reconnect() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
    buf_.clear();
    s_.reconnects++;
    connect();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  asio::io_context& io_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  Shared& s_;
  http::request<http::string_body> req_;
  std::string wire_;  // req_ on the wire
  beast::flat_buffer buf_;
  std::optional<http::response_parser<http::string_body>> parser_;
  uint64_t idx_ = 0;
  steady::time_point sent_, due_;
  int consecutive_errors_ = 0;
};

bool parse_url(const std::string& url, std::string& host, std::string& port, std::string& target) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return false;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  host = authority.substr(0, colon);
  port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  return !host.empty();
}

std::string make_body(const LoadArgs& a, const std::string& type) {
  boost::json::object o{{"type", type}};
  // The payload serializes to exactly payload_bytes (at least 8): {"p":"xxx..."}.
  size_t fill = a.payload_bytes > 8 ? a.payload_bytes - 8 : 0;
  o["payload"] = boost::json::object{{"p", std::string(fill, 'x')}};
  if (!a.tenant.empty()) o["tenant"] = a.tenant;
  return boost::json::serialize(o);
}

std::vector<std::string> split(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at; (at = text.find(sep, from)) != std::string::npos; from = at + sep.size())
    out.push_back(text.substr(from, at - from));
  out.push_back(text.substr(from));
  return out;
}

}  // namespace

int run_load(const LoadArgs& a) {
  std::string host, port, target;
  if (!parse_url(a.url, host, port, target)) {
    std::cerr << "load: --url must be http://HOST:PORT/PATH\n";
    return 2;
  }
  asio::io_context io;
  tcp::resolver resolver(io);
  beast::error_code ec;
  auto results = resolver.resolve(host, port, ec);
  if (ec || results.empty()) {
    std::cerr << "load: cannot resolve " << host << ": " << ec.message() << "\n";
    return 2;
  }
  Shared s{.args = a,
           .server = results.begin()->endpoint(),
           .host = host + ":" + port,
           .target = target};
  if (!a.body_file.empty()) {
    std::ifstream f(a.body_file, std::ios::binary);
    if (!f) {
      std::cerr << "load: cannot read " << a.body_file << "\n";
      return 2;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    s.body = ss.str();
  } else if (!a.body_template.empty()) {
    s.parts = split(a.body_template, "{k}");
    s.body = a.body_template;
  } else if (a.types_round_robin > 0) {
    static const std::string kMarker = "@@SEALHOOK_BENCH_TYPE@@";
    s.parts = split(make_body(a, a.type_prefix + kMarker), kMarker);
    s.modulo = a.types_round_robin;
    s.body = make_body(a, a.type_prefix + "0");  // the size reported in the summary
  } else {
    s.body = make_body(a, a.type);
  }
  s.records.resize(a.events);

  int conns = static_cast<int>(
      std::min<uint64_t>(static_cast<uint64_t>(a.connections), std::max<uint64_t>(a.events, 1)));
  s.start = steady::now();
  for (int i = 0; i < conns; ++i) std::make_shared<Conn>(io, s)->start();
  io.run();
  auto elapsed_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - s.start).count();

  std::vector<int64_t> lat, late;
  uint64_t accepted = 0;
  for (const auto& r : s.records)
    if (r.status == a.expect_status) {
      ++accepted;
      lat.push_back(r.latency_ns);
      late.push_back(r.late_ns);
    }
  std::sort(lat.begin(), lat.end());
  std::sort(late.begin(), late.end());

  if (!a.out.empty()) {
    std::ofstream f(a.out, std::ios::trunc);
    for (const auto& r : s.records)
      f << (r.event_id[0] ? r.event_id : "-") << ' ' << r.answer_ns << ' ' << r.latency_ns << ' '
        << r.status << '\n';
    if (!f) {
      std::cerr << "load: cannot write " << a.out << "\n";
      return 2;
    }
  }

  // Publishing time: first send to last answer.
  int64_t window =
      s.last_answer_ns > s.first_send_ns ? s.last_answer_ns - s.first_send_ns : elapsed_ns;
  uint64_t non_202 = 0;
  for (auto [code, n] : s.statuses)
    if (code != a.expect_status) non_202 += n;
  std::ostringstream o;
  o << "{\"events\":" << a.events << ",\"connections\":" << conns << ",\"rate\":" << a.rate
    << ",\"body_bytes\":" << s.body.size() << ",\"types_round_robin\":" << a.types_round_robin
    << ",\"expect_status\":" << a.expect_status << ",\"accepted\":" << accepted
    << ",\"non_202\":" << non_202
    << ",\"unsent\":" << (a.events - std::min<uint64_t>(a.events, s.next))
    << ",\"transport_errors\":" << s.errors << ",\"reconnects\":" << s.reconnects
    << ",\"statuses\":{";
  bool first = true;
  for (auto [code, n] : s.statuses) {
    o << (first ? "" : ",") << '"' << code << "\":" << n;
    first = false;
  }
  o << "},\"elapsed_s\":" << static_cast<double>(window) / 1e9 << ",\"accepted_per_s\":"
    << (window > 0 ? static_cast<double>(accepted) * 1e9 / static_cast<double>(window) : 0)
    << ",\"publish_ms\":{\"p50\":" << ms(percentile(lat, 50))
    << ",\"p90\":" << ms(percentile(lat, 90)) << ",\"p99\":" << ms(percentile(lat, 99))
    << ",\"max\":" << ms(lat.empty() ? 0 : lat.back()) << "}";
  if (a.rate > 0)
    o << ",\"publish_from_due_ms\":{\"p50\":" << ms(percentile(late, 50))
      << ",\"p99\":" << ms(percentile(late, 99))
      << ",\"max\":" << ms(late.empty() ? 0 : late.back()) << "}";
  o << ",\"first_send_ns\":" << s.first_send_ns << ",\"last_answer_ns\":" << s.last_answer_ns;
  if (!s.first_error_body.empty())
    o << ",\"first_error\":" << boost::json::serialize(boost::json::value(s.first_error_body));
  o << "}";
  std::cout << o.str() << std::endl;
  return accepted > 0 ? 0 : 1;
}

}  // namespace sealhook::bench
