#pragma once
// One function per route; the router authenticates and picks the function.
#include "api/context.hpp"
#include "api/http_util.hpp"

namespace sealhook::api {

using HandlerResult = Result<net::Response>;

// Admin: tenants.
HandlerResult create_tenant(ApiContext& ctx, const net::Request& req);
HandlerResult list_tenants(ApiContext& ctx, const Target& t);
HandlerResult delete_tenant(ApiContext& ctx, const std::string& id);
HandlerResult create_api_key(ApiContext& ctx, const std::string& tenant_id);
HandlerResult list_api_keys(ApiContext& ctx, const std::string& tenant_id);
// ?force=true deletes the tenant's last key too.
HandlerResult delete_api_key(ApiContext& ctx, const std::string& tenant_id,
                             const std::string& key_id, const Target& t);

// Tenant: keys and subscriptions.
HandlerResult add_key(ApiContext& ctx, const Principal& p, const net::Request& req);
HandlerResult list_keys(ApiContext& ctx, const Principal& p);
HandlerResult delete_key(ApiContext& ctx, const Principal& p, const std::string& kid);
HandlerResult put_subscriptions(ApiContext& ctx, const Principal& p, const net::Request& req);
HandlerResult get_subscriptions(ApiContext& ctx, const Principal& p);

// Tenant: endpoints.
HandlerResult create_endpoint(ApiContext& ctx, const Principal& p, const net::Request& req);
HandlerResult list_endpoints(ApiContext& ctx, const Principal& p, const Target& t);
HandlerResult get_endpoint(ApiContext& ctx, const Principal& p, const std::string& id);
HandlerResult patch_endpoint(ApiContext& ctx, const Principal& p, const std::string& id,
                             const net::Request& req);
HandlerResult delete_endpoint(ApiContext& ctx, const Principal& p, const std::string& id);
// POST /v1/endpoints/{id}/secret/rotate and DELETE /v1/endpoints/{id}/secret/previous.
HandlerResult rotate_secret(ApiContext& ctx, const Principal& p, const std::string& id,
                            const net::Request& req);
HandlerResult expire_previous_secret(ApiContext& ctx, const Principal& p, const std::string& id);
// An endpoint as the API shows it (`previous_secret_expires_at` as of `now_ms`); the secret
// only when `with_secret` (on create and rotate).
boost::json::object endpoint_json(const Endpoint& e, bool with_secret, int64_t now_ms);
// A changed endpoint's answer: `e` as JSON with `status`, or its error.
HandlerResult endpoint_answer(const ApiContext& ctx, const Result<Endpoint>& e, unsigned status,
                              bool with_secret);

// Tenant: deliveries.
HandlerResult list_deliveries(ApiContext& ctx, const Principal& p, const Target& t);
HandlerResult get_delivery(ApiContext& ctx, const Principal& p, const std::string& id);
HandlerResult replay_delivery(ApiContext& ctx, const Principal& p, const std::string& id);

// Publish (admin or tenant). `legacy` is POST /publish.
// The publish request in `req`, checked (the catalog is read from memory: no blocking).
Result<PublishRequest> parse_publish(ApiContext& ctx, const Principal& p, const net::Request& req,
                                     bool legacy);
HandlerResult publish_event(ApiContext& ctx, const Principal& p, const net::Request& req,
                            bool legacy);

// The request bodies, parsed and checked without the catalog or the store (fuzz/ drives these).
Result<std::string> parse_tenant_body(const net::Request& req);      // the tenant's name
Result<boost::json::value> parse_key_body(const net::Request& req);  // PEM string or JWK object
Result<std::vector<std::string>> parse_subscriptions_body(const net::Request& req);
Result<EndpointSpec> parse_endpoint_spec(const net::Request& req);
// The rotate body (optional): its grace_period_s in ms, unset when not given.
Result<std::optional<int64_t>> parse_rotate_body(const net::Request& req);
// parse_publish without its look-up of the tenant in the catalog.
Result<PublishRequest> parse_publish_body(const Principal& p, const net::Request& req, bool legacy,
                                          size_t max_payload_bytes);

// Ops.
// Ops: /healthz, /readyz and /metrics are api/ops.hpp's ops_route().
HandlerResult openapi();  // the OpenAPI document, no auth

}  // namespace sealhook::api
