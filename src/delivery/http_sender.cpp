// The Beast/Asio implementation of Sender; one attempt's life is in http_attempt.cpp.
#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "delivery/connection_pool.hpp"
#include "delivery/http_attempt.hpp"
#include "delivery/sender.hpp"
#include "delivery/tls_context.hpp"

namespace sealhook::delivery {
namespace {

namespace asio = boost::asio;

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kSweepInterval = std::chrono::seconds(15);

class HttpSender final : public Sender {
 public:
  HttpSender(asio::io_context& io, SenderOptions options, asio::ssl::context&& tls)
      : shared_(std::make_shared<SenderShared>(io, std::move(options), std::move(tls))),
        sweep_(std::make_shared<Sweep>(asio::make_strand(io))) {
    schedule_sweep(sweep_, shared_);
  }

  ~HttpSender() override {
    // In-flight attempts keep SenderShared alive until they finish; the sweep stops with it.
    asio::post(sweep_->timer.get_executor(), [sweep = sweep_] { sweep->timer.cancel(); });
  }

  void send(SendRequest request, std::function<void(SendResult)> done) override {
    start_attempt(shared_, std::move(request), std::move(done));
  }

 private:
  struct Sweep {
    explicit Sweep(const asio::strand<asio::io_context::executor_type>& strand) : timer(strand) {}
    asio::basic_waitable_timer<std::chrono::steady_clock,
                               asio::wait_traits<std::chrono::steady_clock>,
                               asio::strand<asio::io_context::executor_type>>
        timer;
  };

  // Closes idle connections older than kIdleTimeout, including those of origins no longer used.
  static void schedule_sweep(const std::shared_ptr<Sweep>& sweep,
                             std::weak_ptr<SenderShared> weak) {
    sweep->timer.expires_after(kSweepInterval);
    sweep->timer.async_wait([sweep, weak](const boost::system::error_code& ec) {
      if (ec) return;
      auto shared = weak.lock();
      if (!shared) return;
      shared->pool.prune();
      schedule_sweep(sweep, weak);
    });
  }

  std::shared_ptr<SenderShared> shared_;
  std::shared_ptr<Sweep> sweep_;
};

}  // namespace

SenderShared::SenderShared(asio::io_context& io_context, SenderOptions opts,
                           asio::ssl::context&& client_tls)
    : io(io_context),
      options(std::move(opts)),
      dns(options.dns_threads),
      tls(std::move(client_tls)),
      pool(options.max_idle_per_origin, kIdleTimeout) {}

Result<std::unique_ptr<Sender>> make_http_sender(asio::io_context& io, SenderOptions options) {
  auto tls = make_client_tls_context(options.ca_file);
  if (!tls) return tls.error();
  return std::unique_ptr<Sender>(
      std::make_unique<HttpSender>(io, std::move(options), std::move(tls.value())));
}

}  // namespace sealhook::delivery
