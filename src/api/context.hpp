#pragma once
// What the handlers need, handed over by the composition root (app/).
#include <functional>
#include <string>

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
};

struct Principal {
  bool admin = false;
  std::string tenant_id;  // set when !admin
};

// Missing or unknown token -> 401.
Result<Principal> authenticate(const ApiContext& ctx, const net::Request& req);

// The router: one entry point for every request.
net::Response handle_request(ApiContext& ctx, net::Request& req);

}  // namespace sealhook::api
