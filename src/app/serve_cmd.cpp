// `sealhook serve`: the API and delivery. Config -> assemble() -> listen -> run -> drain.
#include <spdlog/spdlog.h>

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <iostream>
#include <optional>

#include "api/context.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/metrics.hpp"
#include "app/node.hpp"
#include "app/node_runtime.hpp"
#include "app/welcome.hpp"
#include "core/ids.hpp"
#include "delivery/dispatcher.hpp"

namespace sealhook::app {
namespace {

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

void report_stop(Node& n, const NodeRuntime::Stopped& s) {
  const ServeConfig& c = n.config;
  if (n.queue->durable()) {
    std::cout << "stopped: " << s.left.depth << " deliveries kept in "
              << (c.queue == "sqlite" ? queue_path(c) : "the " + c.queue + " queue")
              << " for the next start";
    if (s.left.leased > 0)
      std::cout << ", " << s.left.leased
                << " of them in flight (sent, no answer yet: sent again once their lease expires)";
    std::cout << std::endl;
  } else if (s.drained) {
    std::cout << "drained: nothing left" << std::endl;
  } else {
    auto lost = reconcile(*n.store, nullptr, c.queue, n.clock.now_ms());
    std::cout << "not drained: " << s.left.depth << " deliveries left in the memory queue, "
              << s.left.leased << " of them in flight (sent, no answer yet: they may have arrived)"
              << "; they are lost with this process";
    if (lost) std::cout << " and recorded as lost (" << *lost << ")";
    std::cout << std::endl;
  }
  spdlog::info("stopped (delivered {}, dead {}, left {})",
               n.dispatcher->counters().delivered.load(), n.dispatcher->counters().dead.load(),
               s.left.depth);
}

int run(ServeConfig& parsed, CLI::App& cmd) {
  // The file fills in what flags and environment left unset (it writes into `parsed`).
  if (auto st = apply_config_option(cmd); !st) return fail(st.error());
  ServeConfig c = parsed;
  if (auto st = validate(c); !st) return fail(st.error());
  if (auto st = setup_logging({c.log_level, c.log_format, c.log_queue_size}); !st)
    return fail(st.error());
  auto assembled = assemble(c);
  if (!assembled) return fail(assembled.error());
  Node& n = **assembled;

  api::ApiContext ctx{
      *n.catalog,         *n.publisher,        *n.store, *n.journal, *n.queue, n.clock,
      n.admin_token_hash, c.max_payload_bytes, nullptr,  nullptr,    nullptr,  nullptr};
  std::optional<api::ReadLimit> read_limit;
  if (c.tenant_read_rate > 0)
    ctx.read_limit = &read_limit.emplace(c.tenant_read_rate, c.tenant_read_burst);
  ctx.metrics_text = [&] {
    return render_metrics({n.publisher->counters(), *n.dispatcher, *n.queue, n.config.queue,
                           *n.journal, n.slow_gauges, n.feed ? &n.feed->counters() : nullptr,
                           read_limit ? read_limit->limited() : 0,
                           n.tracer ? &n.tracer->counters() : nullptr, n.catalog.get()});
  };
  net::ServerOptions server_options = http_options(c);
  // Handlers may touch the store, wait for a durable push or flush the journal: off the io
  // threads that carry deliveries (api::dispatch keeps only non-blocking publishes on them).
  ctx.offload = [&n](std::function<void()> task) {
    boost::asio::post(*n.blocking, std::move(task));
  };
  ctx.offload_read = [&n](std::function<void()> task) { n.reads->post(std::move(task)); };
  ctx.read_own_writes = [&n] {
    if (!ReadPool::flushed_for_batch()) n.journal->flush();
  };
  server_options.async = [&ctx](net::Request&& r, net::Reply reply) {
    api::dispatch(ctx, std::move(r), std::move(reply));
  };
  net::HttpServer server(n.io, server_options,
                         [&](net::Request& r) { return api::handle_request(ctx, r); });
  if (auto st = server.listen(c.listen); !st) return fail(st.error());

  NodeRuntime runtime(n);
  boost::asio::steady_timer purge_timer(n.io);
  schedule_purge(n, purge_timer);
  runtime.start();  // SIGTERM/SIGINT are caught from the moment the banner says it is there
  print_welcome(n, server.local_endpoint());
  // Store records the last run left pending that no queue holds: settled while serving, so
  // a large queue is back in service at once.
  runtime.start_reconcile();

  runtime.wait_for_signal();

  // A durable queue keeps what is queued for the next start: only the attempts in flight are
  // finished. The memory queue is drained for up to --drain-timeout-ms; what is left is lost,
  // and its records say so.
  spdlog::info("shutting down: no new requests");
  server.stop_accepting();
  boost::asio::post(n.io, [&purge_timer] { purge_timer.cancel(); });
  report_stop(n, runtime.stop());
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
