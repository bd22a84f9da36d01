// Tenant routes: /v1/endpoints/{id}/secret/... (signing secret rotation).
#include "api/handlers/handlers.hpp"

namespace sealhook::api {

Result<std::optional<int64_t>> parse_rotate_body(const net::Request& req) {
  if (req.body().empty()) return std::optional<int64_t>{};  // the body is optional
  auto body = parse_object(req);
  if (!body) return body.error();
  if (auto st = only_fields(*body, {"grace_period_s"}); !st) return st.error();
  auto grace_s = optional_int(*body, "grace_period_s");
  if (!grace_s) return grace_s.error();
  if (!grace_s->has_value()) return std::optional<int64_t>{};
  return std::optional<int64_t>(int64_t{**grace_s} * 1000);
}

HandlerResult rotate_secret(ApiContext& ctx, const Principal& p, const std::string& id,
                            const net::Request& req) {
  auto grace_ms = parse_rotate_body(req);
  if (!grace_ms) return grace_ms.error();
  return endpoint_answer(ctx, ctx.catalog.rotate_endpoint_secret(p.tenant_id, id, *grace_ms), 200,
                         true);
}

HandlerResult expire_previous_secret(ApiContext& ctx, const Principal& p, const std::string& id) {
  if (auto e = ctx.catalog.expire_previous_secret(p.tenant_id, id); !e) return e.error();
  return no_content();
}

}  // namespace sealhook::api
