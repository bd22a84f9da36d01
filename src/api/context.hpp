#pragma once
// What the handlers need, handed over by the composition root (app/).
#include <functional>
#include <optional>
#include <string>

#include "api/read_limit.hpp"
#include "catalog/catalog.hpp"
#include "core/clock.hpp"
#include "net/http_server.hpp"
#include "publish/publisher.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"

namespace sealhook::api {

struct ApiContext {
  CatalogService& catalog;
  Publisher& publisher;
  Store& store;
  Journal& journal;
  Queue& queue;
  const Clock& clock;
  std::string admin_token_hash;  // SHA-256 hex of the admin token
  size_t max_payload_bytes = 1024 * 1024;
  std::function<std::string()> metrics_text;  // Prometheus exposition
  // Runs work that may block (store calls, durable pushes) off the io threads; unset: inline.
  std::function<void(std::function<void()>)> offload;
  // Where tenants' delivery reads (GET /v1/deliveries, GET /v1/deliveries/{id}) run instead,
  // when set: a pool of their own, so that polling them never takes from the deliveries.
  std::function<void(std::function<void()>)> offload_read;
  // Returns once every update submitted before the request is readable (GET /v1/deliveries
  // reads its own writes); unset: journal.flush(). A read pool that flushed once for a batch of
  // reads answers at once for each of them.
  std::function<void()> read_own_writes;
  // Tenants' delivery reads over their rate are answered 429 before any work; unset: no limit.
  ReadLimit* read_limit = nullptr;
};

struct Principal {
  bool admin = false;
  std::string tenant_id;  // set when !admin
};

// Missing or unknown token -> 401.
Result<Principal> authenticate(const ApiContext& ctx, const net::Request& req);

// The server's pre-body check (net::ServerOptions::screen): a request to a route that needs a
// credential but carries none is refused 401 from its header alone, without a store lookup.
std::optional<net::Response> screen_request(const net::RequestHeader& h);

// The router: one entry point for every request (blocking: run it where that is allowed).
net::Response handle_request(ApiContext& ctx, net::Request& req);

// For the io threads: a publish without an idempotency key is parsed, sealed and queued from
// here without blocking (the queue answers later); everything else goes to ctx.offload.
void dispatch(ApiContext& ctx, net::Request&& req, net::Reply reply);

}  // namespace sealhook::api
