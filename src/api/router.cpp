#include <spdlog/spdlog.h>
#include <boost/beast/http/verb.hpp>

#include "api/allow.hpp"
#include "api/context.hpp"
#include "api/handlers/handlers.hpp"
#include "api/ops.hpp"
#include "core/ids.hpp"

namespace sealhook::api {

namespace http = boost::beast::http;

namespace {

std::string_view bearer_token(const net::RequestHeader& req) {
  auto auth = req[http::field::authorization];
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer "))
    return auth.substr(7);
  return req["X-API-Key"];
}

Error method_not_allowed() {
  return make_error(ErrorKind::kMethodNotAllowed, "method_not_allowed",
                    "this method is not allowed on this path");
}

Error missing_credentials() {
  return make_error(ErrorKind::kUnauthorized, "unauthorized",
                    "missing credentials: send 'Authorization: Bearer <token>'");
}

Error not_found() { return make_error(ErrorKind::kNotFound, "not_found", "no such route"); }

Result<Principal> require_admin(const ApiContext& ctx, const net::Request& req) {
  auto p = authenticate(ctx, req);
  if (p && !p->admin)
    return make_error(ErrorKind::kForbidden, "forbidden", "this route needs the admin token");
  return p;
}

Result<Principal> require_tenant(const ApiContext& ctx, const net::Request& req) {
  auto p = authenticate(ctx, req);
  if (p && p->admin)
    return make_error(ErrorKind::kForbidden, "forbidden",
                      "this route needs a tenant API key, not the admin token");
  return p;
}

HandlerResult admin_routes(ApiContext& ctx, const net::Request& req, const Target& t) {
  auto p = require_admin(ctx, req);
  if (!p) return p.error();
  const auto& s = t.segments;
  auto m = req.method();
  if (s.size() == 2) {
    if (m == http::verb::post) return create_tenant(ctx, req);
    if (m == http::verb::get) return list_tenants(ctx, t);
    return method_not_allowed();
  }
  if (s.size() == 3)
    return m == http::verb::delete_ ? delete_tenant(ctx, s[2]) : method_not_allowed();
  if (s.size() == 4 && s[3] == "api-keys") {
    if (m == http::verb::post) return create_api_key(ctx, s[2]);
    if (m == http::verb::get) return list_api_keys(ctx, s[2]);
    return method_not_allowed();
  }
  if (s.size() == 5 && s[3] == "api-keys")
    return m == http::verb::delete_ ? delete_api_key(ctx, s[2], s[4], t) : method_not_allowed();
  return not_found();
}

HandlerResult tenant_routes(ApiContext& ctx, const net::Request& req, const Target& t) {
  auto p = require_tenant(ctx, req);
  if (!p) return p.error();
  const auto& s = t.segments;
  const std::string& res = s[1];
  auto m = req.method();
  if (res == "keys") {
    if (s.size() == 2 && m == http::verb::post) return add_key(ctx, *p, req);
    if (s.size() == 2 && m == http::verb::get) return list_keys(ctx, *p);
    if (s.size() == 3 && m == http::verb::delete_) return delete_key(ctx, *p, s[2]);
  } else if (res == "subscriptions" && s.size() == 2) {
    if (m == http::verb::put) return put_subscriptions(ctx, *p, req);
    if (m == http::verb::get) return get_subscriptions(ctx, *p);
  } else if (res == "endpoints") {
    if (s.size() == 2 && m == http::verb::post) return create_endpoint(ctx, *p, req);
    if (s.size() == 2 && m == http::verb::get) return list_endpoints(ctx, *p, t);
    if (s.size() == 3 && m == http::verb::get) return get_endpoint(ctx, *p, s[2]);
    if (s.size() == 3 && m == http::verb::patch) return patch_endpoint(ctx, *p, s[2], req);
    if (s.size() == 3 && m == http::verb::delete_) return delete_endpoint(ctx, *p, s[2]);
    if (s.size() == 5 && s[3] == "secret" && s[4] == "rotate" && m == http::verb::post)
      return rotate_secret(ctx, *p, s[2], req);
    if (s.size() == 5 && s[3] == "secret" && s[4] == "previous" && m == http::verb::delete_)
      return expire_previous_secret(ctx, *p, s[2]);
    if (s.size() == 5) return method_not_allowed();  // 405 with Allow, or 404 when no such path
  } else if (res == "deliveries") {
    if (s.size() == 2 && m == http::verb::get) return list_deliveries(ctx, *p, t);
    if (s.size() == 3 && m == http::verb::get) return get_delivery(ctx, *p, s[2]);
    if (s.size() == 4 && s[3] == "replay" && m == http::verb::post)
      return replay_delivery(ctx, *p, s[2]);
  } else {
    return not_found();
  }
  return s.size() <= 4 ? method_not_allowed() : not_found();
}

HandlerResult route(ApiContext& ctx, net::Request& req, const Target& t) {
  const auto& s = t.segments;
  auto m = req.method();
  if (s.size() == 1) {
    if (auto r =
            ops_route(OpsContext{ctx.store, ctx.journal, ctx.queue, ctx.metrics_text}, req, s[0]))
      return std::move(*r);
    if (s[0] == "openapi.json") return m == http::verb::get ? openapi() : method_not_allowed();
    if (s[0] == "publish") {
      if (m != http::verb::post) return method_not_allowed();
      auto p = authenticate(ctx, req);
      if (!p) return p.error();
      return publish_event(ctx, *p, req, true);
    }
  }
  if (s.size() < 2 || s[0] != "v1") return not_found();
  // A path no route has (the Allow table lists them all) is 404 for any valid credential, before
  // a route's check of who may call it turns it into a 403.
  if (allowed_methods(s).empty()) {
    auto p = authenticate(ctx, req);
    if (!p) return p.error();
    return not_found();
  }
  if (s[1] == "tenants") return admin_routes(ctx, req, t);
  if (s[1] == "events" && s.size() == 2) {
    if (m != http::verb::post) return method_not_allowed();
    auto p = authenticate(ctx, req);
    if (!p) return p.error();
    return publish_event(ctx, *p, req, false);
  }
  return tenant_routes(ctx, req, t);
}

}  // namespace

Result<Principal> authenticate(const ApiContext& ctx, const net::Request& req) {
  std::string_view token = bearer_token(req);
  if (token.empty()) return missing_credentials();
  if (constant_time_equal(sha256_hex(token), ctx.admin_token_hash)) return Principal{true, ""};
  if (auto tenant = ctx.catalog.authenticate(token)) return Principal{false, *tenant};
  return make_error(ErrorKind::kUnauthorized, "unauthorized", "invalid token");
}

// Every route but the ops ones (/healthz, /readyz, /metrics, /openapi.json) and unknown ones
// outside /v1 authenticates first (see route()).
std::optional<net::Response> screen_request(const net::RequestHeader& h) {
  auto target = parse_target(h.target());
  if (!target) return std::nullopt;  // the handler answers it
  const auto& s = target->segments;
  bool needs_credentials = (s.size() == 1 && s[0] == "publish") || (s.size() >= 2 && s[0] == "v1");
  if (!needs_credentials || !bearer_token(h).empty()) return std::nullopt;
  return net::error_response(missing_credentials(), h.version(), false);
}

net::Response handle_request(ApiContext& ctx, net::Request& req) {
  try {
    auto target = parse_target(req.target());
    HandlerResult r = target ? route(ctx, req, *target) : HandlerResult(target.error());
    if (!r && r.error().kind == ErrorKind::kMethodNotAllowed)
      r = method_not_allowed_at(*target, req.version(), req.keep_alive());
    if (!r) return net::error_response(r.error(), req.version(), req.keep_alive());
    return std::move(r.value());
  } catch (const std::exception& e) {
    // A bug or an environment failure, never the caller's input: 500, and keep serving.
    spdlog::error("{} {}: the handler threw: {}", std::string(req.method_string()),
                  std::string(req.target()), e.what());
    return net::error_response(
        make_error(ErrorKind::kInternal, "internal_error", "internal error; see the server log"),
        req.version(), false);
  }
}

namespace {

// POST /v1/events or POST /publish: the routes that may be answered without blocking.
std::optional<bool> publish_route(const net::Request& req) {
  if (req.method() != http::verb::post) return std::nullopt;
  std::string_view t = req.target();
  if (t == "/v1/events") return false;
  if (t == "/publish") return true;
  return std::nullopt;
}

// GET /v1/deliveries or /v1/deliveries/{id}: a tenant reading its deliveries.
bool delivery_read(const net::Request& req) {
  if (req.method() != http::verb::get) return false;
  std::string_view t = req.target();
  t = t.substr(0, t.find('?'));
  constexpr std::string_view kRoute = "/v1/deliveries";
  if (!t.starts_with(kRoute)) return false;
  t.remove_prefix(kRoute.size());
  return t.empty() || (t.front() == '/' && t.find('/', 1) == std::string_view::npos);
}

// A tenant's delivery read over its rate (ctx.read_limit): the 429 to answer at once.
std::optional<net::Response> over_read_rate(ApiContext& ctx, const net::Request& req) {
  if (!ctx.read_limit || !delivery_read(req)) return std::nullopt;
  auto p = authenticate(ctx, req);
  if (!p || p->admin) return std::nullopt;  // answered by the handler (401, 403)
  const int64_t wait_ms = ctx.read_limit->take(p->tenant_id, ctx.clock.now_ms());
  if (wait_ms == 0) return std::nullopt;
  auto res = net::error_response(
      Error{ErrorKind::kTooMany, "rate_limited",
            "this tenant reads its deliveries faster than --tenant-read-rate allows; retry "
            "after the Retry-After seconds"},
      req.version(), req.keep_alive());
  res.set(http::field::retry_after, std::to_string((wait_ms + 999) / 1000));
  return res;
}

}  // namespace

void dispatch(ApiContext& ctx, net::Request&& req, net::Reply reply) {
  if (auto limited = over_read_rate(ctx, req)) return reply(std::move(*limited));
  auto legacy = publish_route(req);
  auto offloaded = [&] {
    const bool read = ctx.offload_read && delivery_read(req);
    auto shared = std::make_shared<net::Request>(std::move(req));
    auto run = [&ctx, shared, reply = std::move(reply)] { reply(handle_request(ctx, *shared)); };
    if (read)
      ctx.offload_read(std::move(run));
    else if (ctx.offload)
      ctx.offload(std::move(run));
    else
      run();
  };
  if (!legacy) return offloaded();
  auto p = authenticate(ctx, req);
  auto pr = p ? parse_publish(ctx, *p, req, *legacy) : Result<PublishRequest>(p.error());
  // An idempotent publish reserves its key in the store first: that may block.
  if (pr && pr->idempotency_key) return offloaded();
  const unsigned version = req.version();
  const bool keep_alive = req.keep_alive();
  if (!pr) return reply(net::error_response(pr.error(), version, keep_alive));
  ctx.publisher.publish_async(
      *pr, [reply = std::move(reply), version, keep_alive](Result<std::string> answer) {
        if (!answer) return reply(net::error_response(answer.error(), version, keep_alive));
        reply(net::json_response(202, std::move(answer.value()), version, keep_alive));
      });
}

}  // namespace sealhook::api
