// `sealhook receive`: the reference receiver.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "app/commands.hpp"
#include "core/clock.hpp"
#include "receiver/receiver.hpp"

namespace sealhook::app {
namespace {

struct ReceiveArgs {
  std::string listen = "127.0.0.1:9000";
  std::vector<std::string> key_files;
  int threads = 4;
  receiver::ReceiverOptions receiver;  // the flags below fill it in place
};

int run(const ReceiveArgs& a) {
  receiver::ReceiverOptions o = a.receiver;
  for (const auto& f : a.key_files) {
    auto k = crypto::PrivateKey::load_file(f);
    if (!k) {
      std::cerr << "receive: " << f << ": " << k.error().message << "\n";
      return 2;
    }
    o.keys.push_back(std::move(k.value()));
  }
  SystemClock clock;
  receiver::Receiver rx(std::move(o), clock, [](const std::string& line) {
    std::cout << line << '\n' << std::flush;
  });
  boost::asio::io_context io;
  // The server's defaults (10 s header, 30 s body, 75 s idle, 256 MiB of bodies), except the
  // per-address cap: a receiver's one client is sealhook, which may hold --max-inflight
  // connections to it at once.
  net::ServerOptions options;
  options.max_connections_per_client = options.max_connections;
  net::HttpServer server(io, options, [&](net::Request& r) { return rx.handle(r); });
  if (auto st = server.listen(a.listen); !st) {
    std::cerr << "receive: " << st.error().message << "\n";
    return 2;
  }
  std::cerr << "sealhook receive listening on port " << server.port() << std::endl;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  std::vector<std::thread> pool;
  for (int i = 1; i < a.threads; ++i) pool.emplace_back([&] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  std::cerr << "sealhook receive: " << rx.received() << " events, " << rx.duplicates()
            << " duplicates\n";
  return 0;
}

}  // namespace

std::function<int()> add_receive_command(CLI::App& app) {
  auto a = std::make_shared<ReceiveArgs>();
  auto* cmd = app.add_subcommand("receive", "customer side: verify, decrypt and print deliveries");
  cmd->option_defaults()->always_capture_default();  // --help shows every default
  cmd->add_option("--listen", a->listen, "address:port to listen on");
  cmd->add_option("--key", a->key_files, "private key file (PEM or JWK); repeat for rotation")
      ->required();
  // The endpoint's signing secret (the "secret" of POST /v1/endpoints): without one nothing
  // can be verified, so one of the two is required.
  auto* secrets = cmd->add_option_group("signing secret", "the endpoint's whsec_ secret");
  secrets->add_option("--secret", a->receiver.secrets,
                      "endpoint signing secret whsec_...; repeat during a rotation");
  secrets->add_option(
      "--secret-file", a->receiver.secret_file,
      "file with one whsec_ secret per line, re-read when it changes (may appear later)");
  secrets->require_option();
  cmd->add_option("--fail-rate", a->receiver.fail_rate, "answer 500 to this fraction of requests")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--delay-ms", a->receiver.delay_ms, "wait this long before answering")
      ->check(CLI::Range(0, 600'000));
  cmd->add_option("--tolerance-s", a->receiver.tolerance_s,
                  "largest accepted difference between webhook-timestamp and this clock");
  cmd->add_option("--seed", a->receiver.seed, "seed for --fail-rate (0: random)");
  cmd->add_option("--threads", a->threads, "worker threads")->check(CLI::Range(1, 256));
  return [a] { return run(*a); };
}

}  // namespace sealhook::app
