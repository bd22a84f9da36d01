#include "trace/exporter.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "delivery/ssrf_guard.hpp"  // parse_url
#include "trace/otlp_json.hpp"

namespace sealhook::trace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One keep-alive connection to the collector, on the exporter thread's own io_context.
struct Exporter::Connection {
  asio::io_context io;
  tcp::resolver resolver{io};
  beast::tcp_stream stream{io};
  bool open = false;
};

namespace {
constexpr size_t kMaxAnswerBytes = 64 * 1024;
}  // namespace

Result<std::unique_ptr<Exporter>> Exporter::start(ExporterOptions options) {
  auto url = delivery::parse_url(options.url);
  if (!url || url->scheme != "http")
    return make_error(ErrorKind::kBadRequest, "invalid_config",
                      "the OTLP traces endpoint must be an http:// URL, not '" + options.url + "'");
  std::unique_ptr<Exporter> e(new Exporter(std::move(options)));
  e->host_ = url->host;
  e->port_ = std::to_string(url->port);
  e->target_ = url->target;
  e->thread_ = std::thread([p = e.get()] { p->run(); });
  return e;
}

Exporter::Exporter(ExporterOptions options)
    : options_(std::move(options)), conn_(std::make_unique<Connection>()) {}

Exporter::~Exporter() { stop(); }

void Exporter::add(Span&& span) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.max_queue) {
      counters_.dropped_full++;
      return;
    }
    queue_.push_back(std::move(span));
    // The first span starts the batch's delay; a full batch goes at once.
    if (queue_.size() != 1 && queue_.size() != options_.max_batch) return;
  }
  cv_.notify_one();
}

void Exporter::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Exporter::run() {
  std::vector<Span> batch;  // swapped with queue_: both keep the capacity they grew to
  std::unique_lock lock(mu_);
  while (true) {
    // A batch goes when it is full, when its first span has waited the delay, or at the stop.
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (!stopping_)
      cv_.wait_for(lock, options_.delay,
                   [&] { return stopping_ || queue_.size() >= options_.max_batch; });
    if (queue_.empty()) {
      if (stopping_) return;
      continue;
    }
    // The batch leaves the lock at once: the whole queue swapped out (the usual case, so that
    // callers adding spans never wait for hundreds of moves), else its oldest max_batch.
    const size_t n = std::min(queue_.size(), options_.max_batch);
    if (n == queue_.size()) {
      batch.swap(queue_);
    } else {
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + static_cast<std::ptrdiff_t>(n)));
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    lock.unlock();
    const bool ok = post(encode_otlp_json(options_.resource, batch));
    batch.clear();  // the spans freed outside the lock; the capacity kept for the next swap
    if (ok) {
      counters_.exported += n;
    } else {
      counters_.dropped_failed += n;
      if (counters_.failed_exports++ == 0)
        spdlog::warn("traces: the export to {} failed; spans are dropped while it fails",
                     options_.url);
    }
    lock.lock();
    if (stopping_ && !ok) {  // stopping with a collector that fails: no more waits
      counters_.dropped_failed += queue_.size();
      queue_.clear();
      return;
    }
  }
}

// One POST on the kept connection (a new one when there is none), the whole exchange bounded
// by the timeout: the io_context runs for that long at most, then what is left is cancelled.
bool Exporter::post(std::string body) {
  Connection& c = *conn_;
  http::request<http::string_body> req{http::verb::post, target_, 11};
  req.set(http::field::host, host_ + ":" + port_);
  req.set(http::field::content_type, "application/json");
  req.set(http::field::user_agent, "sealhook");
  for (const auto& [name, value] : options_.headers) req.set(name, value);
  req.body() = std::move(body);
  req.prepare_payload();
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);
  bool ok = false;
  auto on_read = [&](beast::error_code ec, size_t) {
    if (ec) return;
    ok = parser.get().result_int() / 100 == 2;
    c.open = parser.get().keep_alive();
  };
  auto on_written = [&](beast::error_code ec, size_t) {
    if (!ec) http::async_read(c.stream, buffer, parser, on_read);
  };
  auto send = [&] { http::async_write(c.stream, req, on_written); };
  c.io.restart();
  if (c.open) {
    send();
  } else {
    c.resolver.async_resolve(
        host_, port_, [&](beast::error_code ec, tcp::resolver::results_type r) {
          if (ec) return;
          c.stream.async_connect(r, [&](beast::error_code ec2, const tcp::endpoint&) {
            if (!ec2) send();
          });
        });
  }
  c.open = false;  // until an answer says it may stay
  c.io.run_for(options_.timeout);
  if (!c.io.stopped()) {  // timed out: cancel, and let the handlers finish
    beast::error_code ignored;
    c.resolver.cancel();
    c.stream.socket().close(ignored);
    c.io.run();
    ok = false;
  }
  if (!ok || !c.open) {
    beast::error_code ignored;
    c.stream.socket().close(ignored);
    c.open = false;
  }
  return ok;
}

}  // namespace sealhook::trace
