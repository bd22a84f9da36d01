#include "catalog/catalog.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "catalog/event_types.hpp"
#include "core/ids.hpp"
#include "core/utf8.hpp"

namespace sealhook {
namespace {

Error not_found(std::string_view what) {
  return make_error(ErrorKind::kNotFound, "not_found", std::string(what) + " not found");
}

Error too_many(std::string_view what, size_t limit) {
  return make_error(ErrorKind::kConflict, "limit_reached",
                    "at most " + std::to_string(limit) + " " + std::string(what));
}

std::string new_api_key_token() { return random_token("shk_", 32); }

}  // namespace

CatalogService::CatalogService(Store& store, Registry& registry, const Clock& clock,
                               CatalogLimits limits, delivery::UrlGuard& guard)
    : store_(store), registry_(registry), clock_(clock), limits_(limits), guard_(guard) {}

Result<std::shared_ptr<const TenantView>> CatalogService::tenant(const Snapshot& s,
                                                                 const std::string& id) const {
  const TenantPtr* t = s.tenants.find(id);
  if (!t) return not_found("tenant");
  return *t;
}

Result<std::pair<Tenant, std::string>> CatalogService::create_tenant(const std::string& name) {
  if (name.empty() || utf8_length(name) > 128)
    return make_error(ErrorKind::kBadRequest, "invalid_name", "name must be 1 to 128 characters");
  return write([&](Snapshot& s) -> Result<std::pair<Tenant, std::string>> {
    if (s.tenants.size() >= limits_.max_tenants) return too_many("tenants", limits_.max_tenants);
    int64_t now = clock_.now_ms();
    Tenant t{new_id("tn_", now), name, now};
    std::string token = new_api_key_token();
    ApiKey key{new_id("ak_", now), t.id, sha256_hex(token), now};
    if (auto st = store_.insert_tenant(t, key); !st) return st.error();
    auto view = std::make_shared<TenantView>();
    view->tenant = t;
    view->api_key_hashes.push_back(key.hash_hex);
    s.tenants.set(t.id, std::move(view));
    s.api_keys.set(key.hash_hex, key);
    return std::make_pair(t, token);
  });
}

Status CatalogService::delete_tenant(const std::string& tenant_id) {
  return write([&](Snapshot& s) -> Status {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    if (auto st = store_.delete_tenant(tenant_id); !st) return st;
    for (const auto& [id, ep] : (*t)->endpoints) s.endpoints.erase(id);
    for (const auto& hash : (*t)->api_key_hashes) s.api_keys.erase(hash);
    if (!(*t)->patterns.empty()) s.subscribers.remove(tenant_id, (*t)->patterns);
    s.tenants.erase(tenant_id);
    return {};
  });
}

Result<std::pair<ApiKey, std::string>> CatalogService::create_api_key(
    const std::string& tenant_id) {
  return write([&](Snapshot& s) -> Result<std::pair<ApiKey, std::string>> {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    if ((*t)->api_key_hashes.size() >= limits_.max_api_keys_per_tenant)
      return too_many("API keys per tenant", limits_.max_api_keys_per_tenant);
    int64_t now = clock_.now_ms();
    std::string token = new_api_key_token();
    ApiKey key{new_id("ak_", now), tenant_id, sha256_hex(token), now};
    if (auto st = store_.insert_api_key(key); !st) return st.error();
    auto next = std::make_shared<TenantView>(**t);
    next->api_key_hashes.push_back(key.hash_hex);
    s.tenants.set(tenant_id, std::move(next));
    s.api_keys.set(key.hash_hex, key);
    return std::make_pair(key, token);
  });
}

Result<std::vector<ApiKey>> CatalogService::list_api_keys(const std::string& tenant_id) const {
  auto snap = registry_.snapshot();
  auto t = tenant(*snap, tenant_id);
  if (!t) return t.error();
  std::vector<ApiKey> out;
  for (const auto& hash : (*t)->api_key_hashes)
    if (const ApiKey* key = snap->api_keys.find(hash)) out.push_back(*key);
  return out;
}

Status CatalogService::delete_api_key(const std::string& tenant_id, const std::string& key_id,
                                      bool allow_last) {
  return write([&](Snapshot& s) -> Status {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    const auto& hashes = (*t)->api_key_hashes;
    auto it = std::find_if(hashes.begin(), hashes.end(), [&](const std::string& hash) {
      const ApiKey* key = s.api_keys.find(hash);
      return key && key->id == key_id;
    });
    if (it == hashes.end()) return not_found("API key");
    if (hashes.size() == 1 && !allow_last)
      return make_error(ErrorKind::kConflict, "last_api_key",
                        "this is the tenant's last API key; add another first, or delete it with "
                        "?force=true");
    if (auto st = store_.delete_api_key(tenant_id, key_id); !st) return st;
    auto next = std::make_shared<TenantView>(**t);
    next->api_key_hashes.erase(next->api_key_hashes.begin() + (it - hashes.begin()));
    s.api_keys.erase(*it);
    s.tenants.set(tenant_id, std::move(next));
    return {};
  });
}

std::optional<std::string> CatalogService::authenticate(std::string_view token) const {
  if (token.size() > 256) return std::nullopt;
  std::string hash = sha256_hex(token);
  auto snap = registry_.snapshot();
  const ApiKey* key = snap->api_keys.find(hash);
  // The map lookup is on a hash of a 256-bit secret; compare the stored hash in constant time.
  if (!key || !constant_time_equal(key->hash_hex, hash)) return std::nullopt;
  return key->tenant_id;
}

Result<PublicKeyRecord> CatalogService::add_public_key(const std::string& tenant_id,
                                                       const boost::json::value& value) {
  auto key = crypto::PublicKey::parse(value);
  if (!key) return key.error();
  return write([&](Snapshot& s) -> Result<PublicKeyRecord> {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    for (auto& k : (*t)->keys)
      if (k.record.kid == key->kid())
        return make_error(ErrorKind::kConflict, "key_exists", "this key is already uploaded");
    if ((*t)->keys.size() >= limits_.max_keys_per_tenant)
      return too_many("keys per tenant", limits_.max_keys_per_tenant);
    PublicKeyRecord rec{key->kid(), tenant_id, key->alg(), boost::json::serialize(key->to_jwk()),
                        clock_.now_ms()};
    if (auto st = store_.insert_public_key(rec); !st) return st.error();
    auto next = std::make_shared<TenantView>(**t);
    next->keys.push_back(KeyView{rec, std::make_shared<const crypto::PublicKey>(key.value())});
    s.tenants.set(tenant_id, std::move(next));
    return rec;
  });
}

Status CatalogService::delete_public_key(const std::string& tenant_id, const std::string& kid) {
  return write([&](Snapshot& s) -> Status {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    auto next = std::make_shared<TenantView>(**t);
    auto removed = std::erase_if(next->keys, [&](const KeyView& k) { return k.record.kid == kid; });
    if (removed == 0) return not_found("key");
    if (auto st = store_.delete_public_key(tenant_id, kid); !st) return st;
    s.tenants.set(tenant_id, std::move(next));
    return {};
  });
}

Status CatalogService::set_subscriptions(const std::string& tenant_id,
                                         const std::vector<std::string>& patterns) {
  auto normalized = normalize_patterns(patterns);
  if (!normalized) return normalized.error();
  return write([&](Snapshot& s) -> Status {
    auto t = tenant(s, tenant_id);
    if (!t) return t.error();
    if (auto st = store_.put_subscriptions(tenant_id, *normalized); !st) return st;
    if (!(*t)->patterns.empty()) s.subscribers.remove(tenant_id, (*t)->patterns);
    if (!normalized->empty()) s.subscribers.add(tenant_id, *normalized, true);
    auto next = std::make_shared<TenantView>(**t);
    next->patterns = *normalized;
    s.tenants.set(tenant_id, std::move(next));
    return {};
  });
}

std::vector<FanoutTarget> CatalogService::fanout(
    std::string_view type, const std::optional<std::string>& tenant_id) const {
  auto snap = registry_.snapshot();
  std::vector<FanoutTarget> out;
  const std::string type_key(type);
  auto consider = [&](const TenantPtr& t) {
    if (!any_pattern_matches(t->patterns, type)) return;
    FanoutTarget target{t, {}};
    const EndpointRoutes& routes = t->routes;
    if (const EndpointsById* exact = routes.exact(type_key))
      for (const auto& [id, ep] : *exact) target.endpoints.push_back(ep);
    for (const auto& [id, ep] : routes.by_pattern()) {
      const auto& types = ep->endpoint.event_types;
      if (types.empty() || any_pattern_matches(types, type)) target.endpoints.push_back(ep);
    }
    if (!target.endpoints.empty()) out.push_back(std::move(target));
  };
  if (tenant_id) {
    if (const TenantPtr* t = snap->tenants.find(*tenant_id)) consider(*t);
    return out;
  }
  // Tenants subscribed to this exact type, then those with a wildcard (never both).
  auto visit = [&](const CowMap<std::string, bool>& ids) {
    for (const auto& [id, unused] : ids)
      if (const TenantPtr* t = snap->tenants.find(id)) consider(*t);
  };
  if (const auto* exact = snap->subscribers.exact(type_key)) visit(*exact);
  visit(snap->subscribers.by_pattern());
  return out;
}

}  // namespace sealhook
