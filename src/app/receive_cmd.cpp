// `sealhook receive`: the reference receiver.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <iostream>
#include <memory>
#include <thread>

#include "app/commands.hpp"
#include "app/receive_config.hpp"
#include "core/clock.hpp"
#include "receiver/receiver.hpp"

namespace sealhook::app {
namespace {

int fail(const std::string& message) {
  std::cerr << "sealhook receive: " << message << "\n";
  return 2;
}

int run(ReceiveConfig& a, CLI::App& cmd) {
  if (auto st = apply_config_option(cmd); !st) return fail(st.error().message);
  if (auto st = validate(a); !st) return fail(st.error().message);
  receiver::ReceiverOptions o = a.receiver;
  for (const auto& f : a.key_files) {
    auto k = crypto::PrivateKey::load_file(f);
    if (!k) return fail(f + ": " + k.error().message);
    o.keys.push_back(std::move(k.value()));
  }
  SystemClock clock;
  receiver::Receiver rx(std::move(o), clock, [](const std::string& line) {
    std::cout << line << '\n' << std::flush;
  });
  boost::asio::io_context io;
  // The server's defaults (10 s header, 30 s body, 75 s idle, 256 MiB of bodies), except the
  // per-address cap: a receiver's one client is sealhook, which may hold --max-inflight
  // connections to it at once; and the body bound, which is the JWE of the largest payload.
  net::ServerOptions options;
  options.max_connections_per_client = options.max_connections;
  options.max_body_bytes = receive_body_limit(a.max_payload_bytes);
  net::HttpServer server(io, options, [&](net::Request& r) { return rx.handle(r); });
  if (auto st = server.listen(a.listen); !st) return fail(st.error().message);
  // SIGTERM is handled from the moment the start-up line says the receiver is there.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { io.stop(); });
  std::cerr << "sealhook receive listening on port " << server.port() << " (payloads up to "
            << a.max_payload_bytes << " bytes, request bodies up to " << options.max_body_bytes
            << ")" << std::endl;
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
  auto a = std::make_shared<ReceiveConfig>();
  auto* cmd = app.add_subcommand("receive", "customer side: verify, decrypt and print deliveries");
  cmd->option_defaults()->always_capture_default();  // --help shows every default
  add_receive_options(*cmd, *a);
  return [a, cmd] { return run(*a, *cmd); };
}

}  // namespace sealhook::app
