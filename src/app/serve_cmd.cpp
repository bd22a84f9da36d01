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
#include "app/node.hpp"
#include "app/welcome.hpp"
#include "core/ids.hpp"
#include "delivery/dispatcher.hpp"
#include "net/io_runner.hpp"

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

net::ServerOptions http_options(const ServeConfig& c) {
  net::ServerOptions o;
  o.max_body_bytes = c.max_payload_bytes + kEnvelopeBytes;
  o.max_connections = c.max_connections;
  o.max_connections_per_client = c.max_connections_per_client;
  o.max_request_memory_bytes = c.max_request_memory_bytes;
  o.header_timeout = std::chrono::milliseconds(c.header_timeout_ms);
  o.body_timeout = std::chrono::milliseconds(c.body_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  o.screen = api::screen_request;  // 401 before the body for `Expect: 100-continue`
  return o;
}

// Expired idempotency keys go, every 10 minutes, on the blocking pool.
void schedule_purge(Node& n, boost::asio::steady_timer& timer) {
  timer.expires_after(std::chrono::minutes(10));
  timer.async_wait([&n, &timer](const boost::system::error_code& ec) {
    if (ec) return;
    boost::asio::post(*n.blocking, [&n] {
      if (auto st = n.store->purge_idempotency(n.clock.now_ms() - kIdempotencyWindowMs); !st)
        spdlog::warn("purging idempotency keys failed: {}", st.error().message);
    });
    schedule_purge(n, timer);
  });
}

int run(ServeConfig& parsed, CLI::App& cmd) {
  // The file fills in what flags and environment left unset (it writes into `parsed`).
  if (auto st = apply_config_option(cmd); !st) return fail(st.error());
  ServeConfig c = parsed;
  if (auto st = validate(c); !st) return fail(st.error());
  spdlog::set_level(spdlog::level::from_str(c.log_level));
  auto assembled = assemble(c);
  if (!assembled) return fail(assembled.error());
  Node& n = **assembled;

  api::ApiContext ctx{*n.catalog, *n.publisher, *n.store,           *n.journal,
                      *n.queue,   n.clock,      n.admin_token_hash, c.max_payload_bytes,
                      nullptr,    nullptr};
  ctx.metrics_text = [&] {
    return render_metrics(n.publisher->counters(), *n.dispatcher, *n.queue, *n.store, *n.journal);
  };
  net::ServerOptions server_options = http_options(c);
  // Handlers may touch the store, wait for a durable push or flush the journal: off the io
  // threads that carry deliveries (api::dispatch keeps only non-blocking publishes on them).
  ctx.offload = [&n](std::function<void()> task) {
    boost::asio::post(*n.blocking, std::move(task));
  };
  server_options.async = [&ctx](net::Request&& r, net::Reply reply) {
    api::dispatch(ctx, std::move(r), std::move(reply));
  };
  net::HttpServer server(n.io, server_options,
                         [&](net::Request& r) { return api::handle_request(ctx, r); });
  if (auto st = server.listen(c.listen); !st) return fail(st.error());

  // Memory freed after a backlog drains goes back to the system (see release_free_memory).
  boost::asio::steady_timer release_timer(n.io);
  std::function<void()> arm_release = [&] {
    release_timer.expires_after(std::chrono::seconds(10));
    release_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      release_free_memory();
      arm_release();
    });
  };
  arm_release();
  boost::asio::steady_timer purge_timer(n.io);
  schedule_purge(n, purge_timer);

  auto work = boost::asio::make_work_guard(n.io);
  std::vector<std::thread> threads;
  for (int i = 0; i < c.io_threads; ++i)
    threads.emplace_back([&] { net::run_guarded(n.io, "io"); });
  n.dispatcher->start();
  // SIGTERM/SIGINT are caught from the moment the banner says the server is there.
  boost::asio::io_context signal_io;
  boost::asio::signal_set signals(signal_io, SIGINT, SIGTERM);
  signals.async_wait([](auto, int) {});
  print_welcome(n, server.local_endpoint());
  // Store records the last run left pending that no queue holds: settled while serving, so
  // a large queue is back in service at once.
  boost::asio::post(*n.blocking, [&n] {
    if (auto r = reconcile(*n.store, n.queue.get(), n.config.queue, n.clock.now_ms()); !r)
      spdlog::error("recovery: checking pending records against the queue failed: {}",
                    r.error().message);
  });
  watch_queue_resets(n);

  signal_io.run();  // until SIGTERM/SIGINT

  // A durable queue keeps what is queued for the next start: only the attempts in flight are
  // finished. The memory queue is drained for up to --drain-timeout-ms; what is left is lost,
  // and its records say so.
  const bool durable = n.queue->durable();
  spdlog::info("shutting down: no new requests; {} for up to {} ms",
               durable ? "finishing attempts in flight" : "draining", c.drain_timeout_ms);
  server.stop_accepting();
  n.queue->close();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(c.drain_timeout_ms);
  bool drained = n.dispatcher->drain(deadline, !durable);
  n.dispatcher->stop();
  // The queue's own count of leases is the in-flight figure: an attempt sent and not yet
  // answered, or answered and not yet settled, is still leased.
  auto left = n.queue->stats();
  n.journal->stop();
  release_timer.cancel();
  purge_timer.cancel();
  n.blocking->join();
  work.reset();
  n.io.stop();
  for (auto& t : threads) t.join();
  if (durable) {
    std::cout << "stopped: " << left.depth << " deliveries kept in " << queue_path(c)
              << " for the next start";
    if (left.leased > 0)
      std::cout << ", " << left.leased
                << " of them in flight (sent, no answer yet: sent again once their lease expires)";
    std::cout << std::endl;
  } else {
    if (drained) {
      std::cout << "drained: nothing left" << std::endl;
    } else {
      auto lost = reconcile(*n.store, nullptr, c.queue, n.clock.now_ms());
      std::cout << "not drained: " << left.depth << " deliveries left in the memory queue, "
                << left.leased << " of them in flight (sent, no answer yet: they may have arrived)"
                << "; they are lost with this process";
      if (lost) std::cout << " and recorded as lost (" << *lost << ")";
      std::cout << std::endl;
    }
  }
  spdlog::info("stopped (delivered {}, dead {}, left {})",
               n.dispatcher->counters().delivered.load(), n.dispatcher->counters().dead.load(),
               left.depth);
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
