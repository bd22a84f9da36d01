// Tenant routes: /v1/keys and /v1/subscriptions
#include <boost/json/parse.hpp>

#include "api/handlers/handlers.hpp"

namespace sealhook::api {
namespace {

boost::json::object key_json(const PublicKeyRecord& k) {
  boost::system::error_code ec;
  auto jwk = boost::json::parse(k.jwk_json, ec);
  return boost::json::object{{"kid", k.kid},
                             {"alg", k.alg},
                             {"created_at", k.created_at_ms},
                             {"jwk", ec ? boost::json::value(nullptr) : jwk}};
}

}  // namespace

Result<boost::json::value> parse_key_body(const net::Request& req) {
  auto body = parse_object(req);
  if (!body) return body.error();
  if (auto st = only_fields(*body, {"public_key"}); !st) return st.error();
  auto it = body->find("public_key");
  if (it == body->end())
    return make_error(ErrorKind::kBadRequest, "missing_field", "'public_key' is required");
  if (!it->value().is_string() && !it->value().is_object())
    return make_error(ErrorKind::kBadRequest, "invalid_field",
                      "'public_key' must be a PEM string or a JWK object");
  return std::move(it->value());
}

Result<std::vector<std::string>> parse_subscriptions_body(const net::Request& req) {
  auto body = parse_object(req);
  if (!body) return body.error();
  if (auto st = only_fields(*body, {"event_types"}); !st) return st.error();
  auto types = optional_string_list(*body, "event_types");
  if (!types) return types.error();
  if (!types->has_value())
    return make_error(ErrorKind::kBadRequest, "missing_field", "'event_types' is required");
  return std::move(**types);
}

HandlerResult add_key(ApiContext& ctx, const Principal& p, const net::Request& req) {
  auto key = parse_key_body(req);
  if (!key) return key.error();
  auto rec = ctx.catalog.add_public_key(p.tenant_id, *key);
  if (!rec) return rec.error();
  return ok_json(201, boost::json::object{{"kid", rec->kid}, {"alg", rec->alg}});
}

HandlerResult list_keys(ApiContext& ctx, const Principal& p) {
  auto snap = ctx.catalog.snapshot();
  boost::json::array data;
  if (const TenantPtr* t = snap->tenants.find(p.tenant_id)) {
    const auto& keys = (*t)->keys;
    for (auto k = keys.rbegin(); k != keys.rend(); ++k) {  // newest (active) first
      auto o = key_json(k->record);
      o["active"] = k == keys.rbegin();
      data.push_back(std::move(o));
    }
  }
  return net::json_response(200, page_json(std::move(data), std::nullopt));
}

HandlerResult delete_key(ApiContext& ctx, const Principal& p, const std::string& kid) {
  if (auto st = ctx.catalog.delete_public_key(p.tenant_id, kid); !st) return st.error();
  return no_content();
}

HandlerResult put_subscriptions(ApiContext& ctx, const Principal& p, const net::Request& req) {
  auto types = parse_subscriptions_body(req);
  if (!types) return types.error();
  if (auto st = ctx.catalog.set_subscriptions(p.tenant_id, *types); !st) return st.error();
  return get_subscriptions(ctx, p);
}

HandlerResult get_subscriptions(ApiContext& ctx, const Principal& p) {
  auto snap = ctx.catalog.snapshot();
  boost::json::array types;
  if (const TenantPtr* t = snap->tenants.find(p.tenant_id))
    for (const auto& pattern : (*t)->patterns) types.push_back(boost::json::value(pattern));
  return ok_json(200, boost::json::object{{"event_types", std::move(types)}});
}

}  // namespace sealhook::api
