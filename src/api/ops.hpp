#pragma once
// The ops routes (/healthz, /readyz, /metrics) on their own, for a process without the API
// (`sealhook worker`): the same handlers the API router serves them with.
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/http_server.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"

namespace sealhook::api {

struct OpsContext {
  Store& store;
  const Journal& journal;
  Queue& queue;
  std::function<std::string()> metrics_text;  // Prometheus exposition
};

// GET /healthz, /readyz or /metrics (405 for another method on them); nullopt for any other
// path. Blocking (the store is asked): run it where that is allowed.
std::optional<Result<net::Response>> ops_route(const OpsContext& ctx, const net::Request& req,
                                               std::string_view name);

// Only the ops routes: anything else is a 404 JSON error.
net::Response handle_ops_request(const OpsContext& ctx, const net::Request& req);

}  // namespace sealhook::api
