// Ops routes: /healthz, /readyz, /metrics, /openapi.json
#include "api/handlers/handlers.hpp"
#include "api/openapi/openapi_document.hpp"

namespace sealhook::api {

HandlerResult healthz() { return ok_json(200, boost::json::object{{"status", "ok"}}); }

HandlerResult readyz(ApiContext& ctx) {
  if (auto st = ctx.store.ping(); !st)
    return make_error(ErrorKind::kUnavailable, "store_unavailable", st.error().message);
  if (!ctx.journal.healthy())
    return make_error(ErrorKind::kUnavailable, "store_unavailable",
                      "delivery records cannot be written (retrying)");
  if (auto st = ctx.queue.ping(); !st)
    return make_error(ErrorKind::kUnavailable, "queue_unavailable", st.error().message);
  return ok_json(200, boost::json::object{{"status", "ready"}});
}

HandlerResult metrics(ApiContext& ctx) {
  net::Response res{boost::beast::http::status::ok, 11};
  res.set(boost::beast::http::field::content_type, "text/plain; version=0.0.4");
  res.body() = ctx.metrics_text ? ctx.metrics_text() : std::string();
  res.prepare_payload();
  return res;
}

HandlerResult openapi() { return net::json_response(200, std::string(openapi_document())); }

}  // namespace sealhook::api
