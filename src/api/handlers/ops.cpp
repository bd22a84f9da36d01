// Ops routes: /healthz, /readyz, /metrics (api/ops.hpp, for the API and for `worker`) and
// /openapi.json.
#include "api/ops.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/verb.hpp>

#include "api/handlers/handlers.hpp"
#include "api/openapi/openapi_document.hpp"

namespace sealhook::api {
namespace {

HandlerResult healthz() { return ok_json(200, boost::json::object{{"status", "ok"}}); }

HandlerResult readyz(const OpsContext& ctx) {
  if (auto st = ctx.store.ping(); !st)
    return make_error(ErrorKind::kUnavailable, "store_unavailable", st.error().message);
  if (!ctx.journal.healthy())
    return make_error(ErrorKind::kUnavailable, "store_unavailable",
                      "delivery records cannot be written (retrying)");
  if (auto st = ctx.queue.ping(); !st)
    return make_error(ErrorKind::kUnavailable, "queue_unavailable", st.error().message);
  return ok_json(200, boost::json::object{{"status", "ready"}});
}

HandlerResult metrics(const OpsContext& ctx) {
  net::Response res{boost::beast::http::status::ok, 11};
  res.set(boost::beast::http::field::content_type, "text/plain; version=0.0.4");
  res.body() = ctx.metrics_text ? ctx.metrics_text() : std::string();
  res.prepare_payload();
  return res;
}

}  // namespace

std::optional<Result<net::Response>> ops_route(const OpsContext& ctx, const net::Request& req,
                                               std::string_view name) {
  auto route = [&](auto handler) -> std::optional<HandlerResult> {
    if (req.method() != boost::beast::http::verb::get)
      return HandlerResult(make_error(ErrorKind::kMethodNotAllowed, "method_not_allowed",
                                      "this method is not allowed on this path"));
    return handler();
  };
  if (name == "healthz") return route([] { return healthz(); });
  if (name == "readyz") return route([&] { return readyz(ctx); });
  if (name == "metrics") return route([&] { return metrics(ctx); });
  return std::nullopt;
}

net::Response handle_ops_request(const OpsContext& ctx, const net::Request& req) {
  try {
    auto target = parse_target(req.target());
    std::optional<HandlerResult> r;
    if (target && target->segments.size() == 1) r = ops_route(ctx, req, target->segments[0]);
    if (!r) r = HandlerResult(make_error(ErrorKind::kNotFound, "not_found", "no such route"));
    if (!*r) {
      auto res = net::error_response(r->error(), req.version(), req.keep_alive());
      if (r->error().kind == ErrorKind::kMethodNotAllowed)
        res.set(boost::beast::http::field::allow, "GET");
      return res;
    }
    return std::move(r->value());
  } catch (const std::exception& e) {
    spdlog::error("{}: the ops handler threw: {}", std::string(req.target()), e.what());
    return net::error_response(
        make_error(ErrorKind::kInternal, "internal_error", "internal error; see the server log"),
        req.version(), false);
  }
}

HandlerResult openapi() { return net::json_response(200, std::string(openapi_document())); }

}  // namespace sealhook::api
