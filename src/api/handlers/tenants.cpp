// Admin routes: /v1/tenants
#include "api/handlers/handlers.hpp"

namespace sealhook::api {

Result<std::string> parse_tenant_body(const net::Request& req) {
  auto body = parse_object(req);
  if (!body) return body.error();
  if (auto st = only_fields(*body, {"name"}); !st) return st.error();
  return required_string(*body, "name", 128);
}

HandlerResult create_tenant(ApiContext& ctx, const net::Request& req) {
  auto name = parse_tenant_body(req);
  if (!name) return name.error();
  auto created = ctx.catalog.create_tenant(*name);
  if (!created) return created.error();
  auto& [tenant, token] = created.value();
  return ok_json(201, boost::json::object{{"id", tenant.id},
                                          {"name", tenant.name},
                                          {"created_at", tenant.created_at_ms},
                                          {"api_key", token}});
}

HandlerResult list_tenants(ApiContext& ctx, const Target& t) {
  auto page = page_params(t, "tn_");
  if (!page) return page.error();
  auto snap = ctx.catalog.snapshot();
  auto it = page->cursor ? snap->tenants.upper_bound(*page->cursor) : snap->tenants.begin();
  boost::json::array data;
  std::optional<std::string> next;
  for (; it != snap->tenants.end(); ++it) {
    if (data.size() == page->limit) {
      next = data.back().as_object().at("id").as_string().c_str();
      break;
    }
    const TenantView& view = *it->second;
    const Tenant& tn = view.tenant;
    // What the provider should act on: a subscribed tenant without a public key has every
    // event skipped (publish answers count them in "skipped").
    boost::json::array warnings;
    if (!view.active_key() && !view.patterns.empty()) warnings.emplace_back("no_public_key");
    data.push_back(boost::json::object{{"id", tn.id},
                                       {"name", tn.name},
                                       {"created_at", tn.created_at_ms},
                                       {"warnings", std::move(warnings)}});
  }
  return net::json_response(200, page_json(std::move(data), next));
}

HandlerResult delete_tenant(ApiContext& ctx, const std::string& id) {
  if (auto st = ctx.catalog.delete_tenant(id); !st) return st.error();
  return no_content();
}

HandlerResult create_api_key(ApiContext& ctx, const std::string& tenant_id) {
  auto created = ctx.catalog.create_api_key(tenant_id);
  if (!created) return created.error();
  auto& [key, token] = created.value();
  return ok_json(201, boost::json::object{{"id", key.id},
                                          {"tenant", key.tenant_id},
                                          {"created_at", key.created_at_ms},
                                          {"api_key", token}});
}

HandlerResult list_api_keys(ApiContext& ctx, const std::string& tenant_id) {
  auto keys = ctx.catalog.list_api_keys(tenant_id);
  if (!keys) return keys.error();
  boost::json::array data;
  for (const auto& k : *keys) data.push_back({{"id", k.id}, {"created_at", k.created_at_ms}});
  return net::json_response(200, page_json(std::move(data), std::nullopt));
}

HandlerResult delete_api_key(ApiContext& ctx, const std::string& tenant_id,
                             const std::string& key_id, const Target& t) {
  auto force = t.query.find("force");
  bool allow_last = force != t.query.end() && force->second == "true";
  if (force != t.query.end() && !allow_last && force->second != "false")
    return make_error(ErrorKind::kBadRequest, "invalid_query", "'force' must be true or false");
  if (auto st = ctx.catalog.delete_api_key(tenant_id, key_id, allow_last); !st) return st.error();
  return no_content();
}

}  // namespace sealhook::api
