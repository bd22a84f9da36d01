// The endpoint half of CatalogService: validation, create, update, delete.
#include <algorithm>

#include "catalog/catalog.hpp"
#include "catalog/event_types.hpp"
#include "core/ids.hpp"
#include "delivery/ssrf_guard.hpp"

namespace sealhook {

void rebuild_routes(Snapshot& s, const std::string& tenant_id) {
  auto t = s.tenants.find(tenant_id);
  if (t == s.tenants.end()) return;
  auto routes = std::make_shared<EndpointRoutes>();
  for (const auto& id : t->second->endpoint_ids) {
    auto ep = s.endpoints.find(id);
    if (ep == s.endpoints.end()) continue;
    const auto& types = ep->second->endpoint.event_types;
    bool exact = !types.empty() && std::none_of(types.begin(), types.end(), [](const auto& p) {
      return !p.empty() && p.back() == '*';
    });
    if (!exact) {
      routes->by_pattern.push_back(ep->second);
      continue;
    }
    for (const auto& type : types) routes->by_exact_type[type].push_back(ep->second);
  }
  auto next = std::make_shared<TenantView>(*t->second);
  next->routes = std::move(routes);
  t->second = std::move(next);
}

Status CatalogService::validate(EndpointSpec& spec, bool creating) const {
  if (creating && !spec.url)
    return make_error(ErrorKind::kBadRequest, "missing_field", "'url' is required");
  if (spec.url) {
    if (auto st = delivery::check_endpoint_url(*spec.url, allow_private_); !st) return st;
  }
  if (spec.event_types) {
    auto normalized = normalize_patterns(*spec.event_types);
    if (!normalized) return normalized.error();
    spec.event_types = std::move(normalized.value());
  }
  if (spec.max_attempts &&
      (*spec.max_attempts < 1 || *spec.max_attempts > limits_.max_attempts_limit))
    return make_error(
        ErrorKind::kBadRequest, "invalid_max_attempts",
        "max_attempts must be between 1 and " + std::to_string(limits_.max_attempts_limit));
  if (spec.secret) {
    if (auto parsed = crypto::SigningSecret::parse(*spec.secret); !parsed) return parsed.error();
  }
  return {};
}

Result<Endpoint> CatalogService::create_endpoint(const std::string& tenant_id,
                                                 const EndpointSpec& given) {
  EndpointSpec spec = given;
  if (auto st = validate(spec, true); !st) return st.error();
  return registry_.update([&](Snapshot& s) -> Result<Endpoint> {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    if ((*t)->endpoint_ids.size() >= limits_.max_endpoints_per_tenant)
      return make_error(
          ErrorKind::kConflict, "limit_reached",
          "at most " + std::to_string(limits_.max_endpoints_per_tenant) + " endpoints per tenant");
    int64_t now = clock_.now_ms();
    auto secret = spec.secret ? crypto::SigningSecret::parse(*spec.secret).value()
                              : crypto::SigningSecret::generate();
    Endpoint e{new_id("ep_", now),
               tenant_id,
               *spec.url,
               secret.to_string(),
               spec.event_types.value_or(std::vector<std::string>{}),
               spec.ordering.value_or(Ordering::kUnordered),
               spec.max_attempts.value_or(limits_.default_max_attempts),
               now};
    if (auto st = store_.put_endpoint(e); !st) return st.error();
    auto next = std::make_shared<TenantView>(**t);
    next->endpoint_ids.push_back(e.id);
    s.tenants[tenant_id] = std::move(next);
    s.endpoints[e.id] = std::make_shared<const EndpointView>(EndpointView{e, secret});
    rebuild_routes(s, tenant_id);
    return e;
  });
}

Result<Endpoint> CatalogService::update_endpoint(const std::string& tenant_id,
                                                 const std::string& endpoint_id,
                                                 const EndpointSpec& given) {
  EndpointSpec spec = given;
  if (auto st = validate(spec, false); !st) return st.error();
  return registry_.update([&](Snapshot& s) -> Result<Endpoint> {
    auto it = s.endpoints.find(endpoint_id);
    if (it == s.endpoints.end() || it->second->endpoint.tenant_id != tenant_id)
      return make_error(ErrorKind::kNotFound, "not_found", "endpoint not found");
    EndpointView next = *it->second;
    Endpoint& e = next.endpoint;
    if (spec.url) e.url = *spec.url;
    if (spec.event_types) e.event_types = *spec.event_types;
    if (spec.ordering) e.ordering = *spec.ordering;
    if (spec.max_attempts) e.max_attempts = *spec.max_attempts;
    if (spec.secret) {
      next.secret = crypto::SigningSecret::parse(*spec.secret).value();
      e.secret = next.secret.to_string();
    }
    if (auto st = store_.put_endpoint(e); !st) return st.error();
    it->second = std::make_shared<const EndpointView>(next);
    rebuild_routes(s, tenant_id);
    return e;
  });
}

Status CatalogService::delete_endpoint(const std::string& tenant_id,
                                       const std::string& endpoint_id) {
  return registry_.update([&](Snapshot& s) -> Status {
    auto it = s.endpoints.find(endpoint_id);
    if (it == s.endpoints.end() || it->second->endpoint.tenant_id != tenant_id)
      return make_error(ErrorKind::kNotFound, "not_found", "endpoint not found");
    if (auto st = store_.delete_endpoint(tenant_id, endpoint_id); !st) return st;
    s.endpoints.erase(it);
    auto t = tenant(s, tenant_id);
    if (t) {
      auto next = std::make_shared<TenantView>(**t);
      std::erase(next->endpoint_ids, endpoint_id);
      s.tenants[tenant_id] = std::move(next);
      rebuild_routes(s, tenant_id);
    }
    return {};
  });
}

}  // namespace sealhook
