// `sealhook worker`: delivery only, on a queue shared with `serve` and other workers. No API;
// GET /healthz, /readyz and /metrics on --metrics-listen. Config -> assemble() -> run -> stop.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <functional>
#include <iostream>
#include <memory>

#include "api/ops.hpp"
#include "app/commands.hpp"
#include "app/config.hpp"
#include "app/logging.hpp"
#include "app/metrics.hpp"
#include "app/node.hpp"
#include "app/node_runtime.hpp"
#include "app/welcome.hpp"

namespace sealhook::app {
namespace {

int worker_fail(const Error& e) {
  std::cerr << "sealhook worker: " << e.message << "\n";
  return 2;
}

// The ops listener: small requests, few connections, answered on the blocking pool (readyz
// and metrics ask the store).
net::ServerOptions ops_http_options(Node& n, const api::OpsContext& ops) {
  net::ServerOptions o;
  o.max_body_bytes = 64 * 1024;
  o.max_connections = 256;
  o.async = [&n, &ops](net::Request&& r, net::Reply reply) {
    auto shared = std::make_shared<net::Request>(std::move(r));
    boost::asio::post(*n.blocking, [&ops, shared, reply = std::move(reply)] {
      reply(api::handle_ops_request(ops, *shared));
    });
  };
  return o;
}

int run_worker(ServeConfig& parsed, CLI::App& cmd) {
  if (auto st = apply_config_option(cmd); !st) return worker_fail(st.error());
  ServeConfig c = parsed;
  if (auto st = validate_worker(c); !st) return worker_fail(st.error());
  if (auto st = setup_logging({c.log_level, c.log_format, c.log_queue_size}); !st)
    return worker_fail(st.error());
  auto assembled = assemble(c);
  if (!assembled) return worker_fail(assembled.error());
  Node& n = **assembled;

  api::OpsContext ops{
      *n.store, *n.journal, *n.queue, [&n] {
        return render_metrics({n.publisher->counters(), *n.dispatcher, *n.queue, n.config.queue,
                               *n.journal, n.slow_gauges, n.feed ? &n.feed->counters() : nullptr,
                               std::nullopt, n.tracer ? &n.tracer->counters() : nullptr,
                               n.catalog.get()});
      }};
  net::HttpServer server(n.io, ops_http_options(n, ops),
                         [&ops](net::Request& r) { return api::handle_ops_request(ops, r); });
  if (auto st = server.listen(c.metrics_listen); !st) return worker_fail(st.error());

  NodeRuntime runtime(n);
  runtime.start();
  const auto where = describe_listen(server.local_endpoint());
  std::cout << "sealhook worker: delivering from the " << c.queue << " queue as " << redis_owner(c)
            << "; /healthz /readyz /metrics on " << where.url << std::endl;
  runtime.start_reconcile();

  runtime.wait_for_signal();

  spdlog::info("shutting down: no new leases");
  auto stopped = runtime.stop();
  server.stop_accepting();
  std::cout << "stopped: " << (stopped.drained ? "every attempt in flight finished" : "not drained")
            << "; " << stopped.left.depth << " deliveries left in the " << c.queue << " queue";
  if (stopped.left.leased > 0)
    std::cout << ", " << stopped.left.leased << " leased (by this or other processes)";
  std::cout << std::endl;
  spdlog::info("stopped (delivered {}, dead {})", n.dispatcher->counters().delivered.load(),
               n.dispatcher->counters().dead.load());
  return 0;
}

}  // namespace

std::function<int()> add_worker_command(CLI::App& app) {
  auto cfg = std::make_shared<ServeConfig>();
  auto* cmd = app.add_subcommand(
      "worker",
      "delivery only, on a queue shared with serve (redis); /metrics on --metrics-listen");
  add_worker_options(*cmd, *cfg);
  return [cfg, cmd] { return run_worker(*cfg, *cmd); };
}

}  // namespace sealhook::app
