// `sealhook serve`: the composition root. Config -> factories -> wiring -> run -> drain.
#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <iostream>
#include <thread>

#include "api/context.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/metrics.hpp"
#include "core/ids.hpp"
#include "delivery/dispatcher.hpp"

namespace sealhook::app {
namespace {

// Hands memory the allocator holds free back to the system. The binary is linked with tcmalloc
// (apps/sealhook), which keeps what a drained backlog freed (gigabytes after a long outage of
// one endpoint) for reuse; it is looked up at run time so that other builds (sanitizers, tests)
// need not link it, and does nothing without it.
void release_free_memory() {
  using Release = void (*)();
  static const auto release =
      reinterpret_cast<Release>(dlsym(RTLD_DEFAULT, "MallocExtension_ReleaseFreeMemory"));
  if (release != nullptr) release();
}

int fail(const Error& e) {
  std::cerr << "sealhook serve: " << e.message << "\n";
  return 2;
}

void print_welcome(const ServeConfig& c, uint16_t port, bool generated_token) {
  std::string host = c.listen.substr(0, c.listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  std::string base = "http://" + host + ":" + std::to_string(port);
  std::cout << "sealhook listening on " << base << " (queue " << c.queue << ", store " << c.store
            << ")\n";
  if (generated_token)
    std::cout << "admin token (shown once): " << c.admin_token << "\n"
              << "get started:\n"
              << "  curl -s -X POST " << base << "/v1/tenants -H 'Authorization: Bearer "
              << c.admin_token << "' -d '{\"name\":\"acme\"}'\n"
              << "  then see README.md, 'The flow'\n";
  std::cout << std::flush;
}

int run(ServeConfig& parsed, CLI::App& cmd) {
  // The file fills in what flags and environment left unset (it writes into `parsed`).
  if (!parsed.config_file.empty())
    if (auto st = apply_config_file(cmd, parsed.config_file); !st) return fail(st.error());
  ServeConfig c = parsed;
  if (auto st = validate(c); !st) return fail(st.error());
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  SystemClock clock;
  auto store = make_store(c.store);
  if (!store) return fail(store.error());
  Registry registry;
  CatalogLimits limits;
  limits.max_tenants = c.max_tenants;
  limits.max_endpoints_per_tenant = c.max_endpoints_per_tenant;
  limits.default_max_attempts = c.max_attempts;
  CatalogService catalog(**store, registry, clock, limits, c.allow_private_networks);
  if (auto st = catalog.load(); !st) return fail(st.error());
  auto queue =
      make_queue(c.queue, QueueOptions{c.queue_capacity, c.max_inflight_per_endpoint}, clock);
  if (!queue) return fail(queue.error());
  Journal journal(**store, clock,
                  JournalOptions{.linger = std::chrono::milliseconds(c.journal_linger_ms),
                                 .settle = std::chrono::milliseconds(c.journal_settle_ms)});
  Publisher publisher(catalog, **queue, journal, **store, clock);

  bool generated = c.admin_token.empty();
  if (generated) c.admin_token = random_token("sht_", 32);

  boost::asio::io_context io;
  auto sender = delivery::make_http_sender(
      io,
      // Keep as many idle connections per origin as attempts may run at once against it (all of
      // them, when many endpoints share one host), so busy endpoints never churn connections:
      // with 64 per origin, 100 endpoints on one host opened a new connection for 6 % of their
      // deliveries and cost 12 % of the throughput. Idle ones expire.
      delivery::SenderOptions{c.allow_private_networks, c.max_response_bytes, c.max_inflight,
                              "sealhook/0.1"});
  delivery::RetryPolicy policy({c.retry_base_ms, c.retry_max_delay_ms, c.retry_jitter},
                               delivery::system_uniform01());
  delivery::Dispatcher dispatcher(
      **queue, *sender, registry, journal, policy, clock, io,
      {c.max_inflight, std::chrono::milliseconds(c.attempt_timeout_ms), c.max_attempts});
  api::ApiContext ctx{catalog,
                      publisher,
                      **store,
                      journal,
                      **queue,
                      clock,
                      sha256_hex(c.admin_token),
                      c.max_payload_bytes,
                      nullptr};
  ctx.metrics_text = [&] {
    return render_metrics(publisher.counters(), dispatcher, **queue, **store);
  };
  net::ServerOptions server_options;
  server_options.max_body_bytes = c.max_payload_bytes + 64 * 1024;
  server_options.max_connections = c.max_connections;
  net::HttpServer server(io, server_options,
                         [&](net::Request& r) { return api::handle_request(ctx, r); });
  if (auto st = server.listen(c.listen); !st) return fail(st.error());

  // Memory freed after a backlog drains goes back to the system (see release_free_memory).
  boost::asio::steady_timer release_timer(io);
  std::function<void()> arm_release = [&] {
    release_timer.expires_after(std::chrono::seconds(10));
    release_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      release_free_memory();
      arm_release();
    });
  };
  arm_release();

  auto work = boost::asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int i = 0; i < c.io_threads; ++i) threads.emplace_back([&] { io.run(); });
  dispatcher.start();
  print_welcome(c, server.port(), generated);

  // Block until SIGTERM/SIGINT.
  boost::asio::io_context signal_io;
  boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([](auto, int) {});
  signal_io.run();

  spdlog::info("shutting down: no new requests; draining for up to {} ms", c.drain_timeout_ms);
  server.stop_accepting();
  (*queue)->close();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.drain_timeout_ms);
  bool drained = dispatcher.drain(deadline);
  dispatcher.stop();
  auto left = (*queue)->stats();
  size_t inflight = dispatcher.inflight();
  journal.stop();
  release_timer.cancel();
  work.reset();
  io.stop();
  for (auto& t : threads) t.join();
  std::cout << (drained ? "drained: nothing left" : "not drained: ");
  if (!drained)
    std::cout << left.depth << " deliveries left in the memory queue (" << inflight
              << " were in flight); they are lost with this process";
  std::cout << std::endl;
  spdlog::info("stopped (delivered {}, dead {}, left {})", dispatcher.counters().delivered.load(),
               dispatcher.counters().dead.load(), left.depth);
  return 0;
}

}  // namespace

std::function<int()> add_serve_command(CLI::App& app) {
  auto cfg = std::make_shared<ServeConfig>();
  auto* cmd = app.add_subcommand("serve", "HTTP API and delivery workers");
  add_serve_options(*cmd, *cfg);
  return [cfg, cmd] { return run(*cfg, *cmd); };
}

}  // namespace sealhook::app
