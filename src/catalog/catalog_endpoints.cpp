// The endpoint half of CatalogService: validation, create, update, delete.
#include "catalog/catalog.hpp"
#include "catalog/event_types.hpp"
#include "core/ids.hpp"

namespace sealhook {

Status CatalogService::validate(EndpointSpec& spec, bool creating) const {
  if (creating && !spec.url)
    return make_error(ErrorKind::kBadRequest, "missing_field", "'url' is required");
  if (spec.url) {
    if (auto st = guard_.check(*spec.url); !st) return st;
  }
  if (spec.event_types) {
    auto normalized = normalize_patterns(*spec.event_types);
    if (!normalized) return normalized.error();
    spec.event_types = std::move(normalized.value());
  }
  if (spec.max_attempts &&
      (*spec.max_attempts < 1 || *spec.max_attempts > limits_.max_attempts_limit))
    return make_error(
        ErrorKind::kUnprocessable, "invalid_max_attempts",
        "max_attempts must be between 1 and " + std::to_string(limits_.max_attempts_limit));
  if (spec.secret) {
    if (auto parsed = crypto::SigningSecret::parse(*spec.secret); !parsed) return parsed.error();
  }
  constexpr int64_t kYearMs = 365LL * 86'400'000;
  if (spec.disable_after_ms && *spec.disable_after_ms != 0 &&
      (*spec.disable_after_ms < 1000 || *spec.disable_after_ms > kYearMs))
    return make_error(ErrorKind::kUnprocessable, "invalid_disable_after",
                      "disable_after_ms must be 0 (the server's) or from 1000 (1 s) to " +
                          std::to_string(kYearMs) + " (365 days)");
  if (spec.disable_min_attempts &&
      (*spec.disable_min_attempts < 0 || *spec.disable_min_attempts > 1'000'000))
    return make_error(ErrorKind::kUnprocessable, "invalid_disable_min_attempts",
                      "disable_min_attempts must be 0 (the server's) to 1000000");
  return {};
}

Result<Endpoint> CatalogService::create_endpoint(const std::string& tenant_id,
                                                 const EndpointSpec& given) {
  EndpointSpec spec = given;
  if (auto st = validate(spec, true); !st) return st.error();
  return write([&](Snapshot& s) -> Result<Endpoint> {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    if ((*t)->endpoints.size() >= limits_.max_endpoints_per_tenant)
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
               now,
               "",
               0,
               spec.disabled.value_or(false) ? EndpointState{true, StateReason::kManual, now}
                                             : EndpointState{},
               spec.disable_after_ms.value_or(0),
               spec.disable_min_attempts.value_or(0),
               spec.rate_limit ? spec.rate_limit->first : 0,
               spec.rate_limit ? spec.rate_limit->second : 0};
    if (auto st = store_.put_endpoint(e); !st) return st.error();
    auto view = std::make_shared<const EndpointView>(EndpointView{e, secret, std::nullopt});
    auto next = std::make_shared<TenantView>(**t);
    next->endpoints.set(e.id, view);
    next->routes.add(e.id, e.event_types, view);
    s.tenants.set(tenant_id, std::move(next));
    s.endpoints.set(e.id, std::move(view));
    return e;
  });
}

Result<Endpoint> CatalogService::update_endpoint(const std::string& tenant_id,
                                                 const std::string& endpoint_id,
                                                 const EndpointSpec& given) {
  EndpointSpec spec = given;
  if (auto st = validate(spec, false); !st) return st.error();
  const bool edits = spec.url || spec.event_types || spec.ordering || spec.max_attempts ||
                     spec.secret || spec.disable_after_ms || spec.disable_min_attempts ||
                     spec.rate_limit || !spec.disabled;
  if (edits) {
    auto edited = edit_endpoint(tenant_id, endpoint_id, spec);
    if (!edited || !spec.disabled) return edited;
  }
  return set_endpoint_state(tenant_id, endpoint_id, *spec.disabled, StateReason::kManual);
}

Result<Endpoint> CatalogService::set_endpoint_state(const std::string& tenant_id,
                                                    const std::string& endpoint_id, bool disabled,
                                                    StateReason reason, bool* changed) {
  if (changed) *changed = false;
  return write([&](Snapshot& s) -> Result<Endpoint> {
    auto old = own_endpoint(s, tenant_id, endpoint_id);
    if (!old) return old.error();
    if ((*old)->endpoint.state.disabled == disabled) return (*old)->endpoint;
    EndpointView next = **old;
    next.endpoint.state = EndpointState{disabled, reason, clock_.now_ms()};
    auto stored = store_.set_endpoint_state(tenant_id, endpoint_id, next.endpoint.state);
    if (!stored) return stored.error();
    // Put in that state by another process already: this one learns it from the feed.
    if (!*stored) return (*old)->endpoint;
    if (changed) *changed = true;
    if (disabled) disables_[static_cast<size_t>(reason)]++;
    auto installed = install_endpoint(s, *tenant(s, tenant_id), **old, std::move(next));
    if (installed && state_hook_) state_hook_(*installed);
    return installed;
  });
}

Result<Endpoint> CatalogService::edit_endpoint(const std::string& tenant_id,
                                               const std::string& endpoint_id,
                                               const EndpointSpec& spec) {
  return write([&](Snapshot& s) -> Result<Endpoint> {
    auto old = own_endpoint(s, tenant_id, endpoint_id);
    if (!old) return old.error();
    EndpointView next = **old;
    Endpoint& e = next.endpoint;
    if (spec.url) e.url = *spec.url;
    if (spec.event_types) e.event_types = *spec.event_types;
    if (spec.ordering) e.ordering = *spec.ordering;
    if (spec.max_attempts) e.max_attempts = *spec.max_attempts;
    if (spec.disable_after_ms) e.disable_after_ms = *spec.disable_after_ms;
    if (spec.disable_min_attempts) e.disable_min_attempts = *spec.disable_min_attempts;
    if (spec.rate_limit) std::tie(e.rate_milli_per_s, e.rate_burst) = *spec.rate_limit;
    if (spec.secret) {  // exactly this secret from now on: no overlap (that is what rotate is for)
      next.secret = crypto::SigningSecret::parse(*spec.secret).value();
      e.secret = next.secret.to_string();
      next.previous.reset();
      e.previous_secret.clear();
      e.previous_secret_expires_at_ms = 0;
    }
    const bool switched = ordering_hook_ && e.ordering != (*old)->endpoint.ordering;
    if (switched) {
      if (auto st = ordering_hook_(e); !st) return st.error();
    }
    auto replaced = replace_endpoint(s, *tenant(s, tenant_id), **old, std::move(next));
    if (!replaced && switched)
      (void)ordering_hook_((*old)->endpoint);  // else start-up puts it right
    return replaced;
  });
}

Result<Endpoint> CatalogService::replace_endpoint(Snapshot& s, const TenantPtr& tenant,
                                                  const EndpointView& old, EndpointView&& next) {
  if (auto st = store_.put_endpoint(next.endpoint); !st) return st.error();
  return install_endpoint(s, tenant, old, std::move(next));
}

Result<Endpoint> CatalogService::install_endpoint(Snapshot& s, const TenantPtr& tenant,
                                                  const EndpointView& old, EndpointView&& next) {
  const std::string& id = old.endpoint.id;
  auto view = std::make_shared<const EndpointView>(std::move(next));
  auto tenant_next = std::make_shared<TenantView>(*tenant);
  tenant_next->routes.remove(id, old.endpoint.event_types);
  tenant_next->routes.add(id, view->endpoint.event_types, view);
  tenant_next->endpoints.set(id, view);
  s.tenants.set(tenant->tenant.id, std::move(tenant_next));
  s.endpoints.set(id, view);
  return view->endpoint;
}

Status CatalogService::delete_endpoint(const std::string& tenant_id,
                                       const std::string& endpoint_id) {
  return write([&](Snapshot& s) -> Status {
    auto t = tenant(s, tenant_id);
    const EndpointPtr* old = t ? (*t)->endpoints.find(endpoint_id) : nullptr;
    if (!old) return make_error(ErrorKind::kNotFound, "not_found", "endpoint not found");
    if (auto st = store_.delete_endpoint(tenant_id, endpoint_id); !st) return st;
    auto next = std::make_shared<TenantView>(**t);
    next->routes.remove(endpoint_id, (*old)->endpoint.event_types);
    next->endpoints.erase(endpoint_id);
    s.tenants.set(tenant_id, std::move(next));
    s.endpoints.erase(endpoint_id);
    return {};
  });
}

}  // namespace sealhook
