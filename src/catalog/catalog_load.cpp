// CatalogService: reading the catalog from the store, whole at start and then per changed
// tenant as the change feed (catalog/feed/) finds the store's catalog version moved.
#include <algorithm>
#include <boost/json/parse.hpp>
#include <map>

#include "catalog/catalog.hpp"

namespace sealhook {
namespace {

// Tenant views built from store rows, in one pass from sorted maps: inserting 100,000 tenants
// one by one would copy a chunk per insert.
struct BuiltCatalog {
  std::map<std::string, TenantPtr> tenants;
  std::map<std::string, EndpointPtr> endpoints;
  std::map<std::string, ApiKey> api_keys;
};

Result<BuiltCatalog> build_views(Catalog& cat) {
  struct Loading {
    TenantView view;
    std::map<std::string, EndpointPtr> endpoints;
    EndpointRoutes::Builder routes;
  };
  std::map<std::string, Loading> tenants;
  BuiltCatalog out;
  for (auto& t : cat.tenants) tenants[t.id].view.tenant = t;
  for (auto& k : cat.api_keys) {
    tenants[k.tenant_id].view.api_key_hashes.push_back(k.hash_hex);
    out.api_keys[k.hash_hex] = k;
  }
  for (auto& k : cat.public_keys) {
    boost::system::error_code ec;
    auto jwk = boost::json::parse(k.jwk_json, ec);
    if (ec) return make_error(ErrorKind::kInternal, "corrupt_store", "bad stored key " + k.kid);
    auto key = crypto::PublicKey::from_stored_jwk(jwk);
    if (!key) return key.error();
    tenants[k.tenant_id].view.keys.push_back(
        KeyView{k, std::make_shared<const crypto::PublicKey>(std::move(key.value()))});
  }
  for (auto& [tenant, patterns] : cat.subscriptions) tenants[tenant].view.patterns = patterns;
  for (auto& e : cat.endpoints) {
    auto parsed = make_endpoint_view(e);
    if (!parsed) return parsed.error();
    auto view = std::make_shared<const EndpointView>(std::move(parsed.value()));
    Loading& t = tenants[e.tenant_id];
    t.endpoints[e.id] = view;
    t.routes.add(e.id, e.event_types, view);
    out.endpoints[e.id] = std::move(view);
  }
  for (auto& [id, t] : tenants) {
    TenantView& v = t.view;
    std::sort(v.keys.begin(), v.keys.end(), [](const KeyView& a, const KeyView& b) {
      return a.record.created_at_ms < b.record.created_at_ms;
    });
    v.endpoints = EndpointsById::from(std::move(t.endpoints));
    v.routes = std::move(t.routes).build();
    out.tenants[id] = std::make_shared<const TenantView>(std::move(v));
  }
  return out;
}

// Whether two views of one tenant hold the same catalog (a reload of our own write is a no-op).
bool same_tenant(const TenantView& a, const TenantView& b) {
  if (!(a.tenant == b.tenant) || a.patterns != b.patterns || a.api_key_hashes != b.api_key_hashes ||
      a.keys.size() != b.keys.size() || a.endpoints.size() != b.endpoints.size())
    return false;
  for (size_t i = 0; i < a.keys.size(); ++i)
    if (!(a.keys[i].record == b.keys[i].record)) return false;
  for (auto ia = a.endpoints.begin(), ib = b.endpoints.begin(); ia != a.endpoints.end(); ++ia, ++ib)
    if (ia->first != ib->first || !(ia->second->endpoint == ib->second->endpoint)) return false;
  return true;
}

void remove_tenant(Snapshot& s, const TenantView& t) {
  for (const auto& [id, ep] : t.endpoints) s.endpoints.erase(id);
  for (const auto& hash : t.api_key_hashes) s.api_keys.erase(hash);
  if (!t.patterns.empty()) s.subscribers.remove(t.tenant.id, t.patterns);
  s.tenants.erase(t.tenant.id);
}

void add_tenant(Snapshot& s, const TenantPtr& t, const BuiltCatalog& built) {
  for (const auto& [id, ep] : t->endpoints) s.endpoints.set(id, ep);
  for (const auto& hash : t->api_key_hashes)
    if (auto it = built.api_keys.find(hash); it != built.api_keys.end())
      s.api_keys.set(hash, it->second);
  if (!t->patterns.empty()) s.subscribers.add(t->tenant.id, t->patterns, true);
  s.tenants.set(t->tenant.id, t);
}

}  // namespace

Status CatalogService::load() {
  return registry_.update([&](Snapshot& s) { return replace_all(s); });
}

Status CatalogService::replace_all(Snapshot& s) {
  // The version first: the rows read after it are at least as new.
  auto version = store_.catalog_version();
  if (!version) return version.error();
  auto cat = store_.load_catalog();
  if (!cat) return cat.error();
  auto built = build_views(*cat);
  if (!built) return built.error();
  TypeIndex<bool>::Builder subscribers;
  for (const auto& [id, t] : built->tenants)
    if (!t->patterns.empty()) subscribers.add(id, t->patterns, true);
  s.tenants = CowMap<std::string, TenantPtr>::from(std::move(built->tenants));
  s.endpoints = EndpointsById::from(std::move(built->endpoints));
  s.api_keys = CowMap<std::string, ApiKey>::from(std::move(built->api_keys));
  s.subscribers = std::move(subscribers).build();
  version_.store(*version);
  return {};
}

Status CatalogService::replace_tenants(Snapshot& s, const CatalogChanges& changes) {
  auto cat = store_.load_tenants_catalog(changes.tenant_ids);
  if (!cat) return cat.error();
  auto built = build_views(*cat);
  if (!built) return built.error();
  // An endpoint whose ordering another process switched: this process's own queue is told
  // first, as for a local PATCH. A failure leaves the version behind: retried.
  if (remote_ordering_hook_)
    for (const auto& e : cat->endpoints)
      if (const EndpointPtr* was = s.endpoints.find(e.id);
          was && (*was)->endpoint.ordering != e.ordering)
        if (Status st = remote_ordering_hook_(e); !st) return st;
  for (const auto& id : changes.tenant_ids) {
    const TenantPtr* old = s.tenants.find(id);
    auto fresh = built->tenants.find(id);
    bool present = fresh != built->tenants.end() && !fresh->second->tenant.id.empty();
    if (old && present && same_tenant(**old, *fresh->second)) continue;
    if (old) remove_tenant(s, **old);
    if (present) add_tenant(s, fresh->second, *built);
  }
  version_.store(changes.version);
  return {};
}

Result<bool> CatalogService::reload_if_changed() {
  auto version = store_.catalog_version();
  if (!version) return version.error();
  if (*version == version_.load()) return false;
  // Under the write lock, so that no write of this process lands between the read and the swap.
  Status st = registry_.update([&](Snapshot& s) -> Status {
    auto changes = store_.load_catalog_changes(version_.load(), kMaxDelta);
    if (!changes) return changes.error();
    if (changes->too_far_behind || changes->version < version_.load()) return replace_all(s);
    return replace_tenants(s, *changes);
  });
  if (!st) return st.error();
  return true;
}

}  // namespace sealhook
