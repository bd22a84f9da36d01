// PostgresStore: reading the catalog, whole (at start) or a few tenants of it (the change
// feed), and the feed's version and changed tenants. Each read is one REPEATABLE READ
// snapshot, so a catalog is never half of one write.
#include <unordered_map>

#include "store/postgres/postgres_store.hpp"

namespace sealhook::postgres {
namespace {

// Which tenants a load reads: all of them, or those of `ids` (ordered as given, then as a
// whole load orders them).
struct TenantScope {
  const std::vector<std::string>* ids = nullptr;

  // The WHERE clause on `column`, and the ORDER BY keys that come first.
  std::string where(std::string_view column) const {
    return ids ? " WHERE " + std::string(column) + " = ANY($1::text[])" : "";
  }
  std::string order(std::string_view column) const {
    return ids ? "array_position($1::text[], " + std::string(column) + "::text), " : "";
  }
  Result<Rows> query(Connection& c, const std::string& sql, std::string_view what) const {
    if (!ids) return c.query(sql, what);
    ArrayLiteral a;
    for (const std::string& id : *ids) a.add(id);
    return c.query(sql, what, a);
  }
};

Status load_tenant_rows(Connection& c, const TenantScope& scope, Catalog& out) {
  auto r = scope.query(c,
                       "SELECT id, name, created_at_ms FROM tenants" + scope.where("id") +
                           " ORDER BY " + scope.order("id") + "created_at_ms, id",
                       "load tenants");
  if (!r) return r.error();
  for (int i = 0; i < r->size(); ++i)
    out.tenants.push_back(Tenant{r->text(i, 0), r->text(i, 1), r->int64(i, 2)});
  return {};
}

Status load_api_key_rows(Connection& c, const TenantScope& scope, Catalog& out) {
  auto r = scope.query(c,
                       "SELECT id, tenant_id, hash_hex, created_at_ms FROM api_keys" +
                           scope.where("tenant_id") + " ORDER BY " + scope.order("tenant_id") +
                           "created_at_ms, id",
                       "load API keys");
  if (!r) return r.error();
  for (int i = 0; i < r->size(); ++i) {
    out.api_keys.push_back(ApiKey{r->text(i, 0), r->text(i, 1), r->text(i, 2), r->int64(i, 3)});
  }
  return {};
}

// Oldest first per tenant: the last one listed for a tenant is its newest key.
Status load_public_key_rows(Connection& c, const TenantScope& scope, Catalog& out) {
  auto r = scope.query(c,
                       "SELECT kid, tenant_id, alg, jwk_json, created_at_ms FROM public_keys" +
                           scope.where("tenant_id") + " ORDER BY " + scope.order("tenant_id") +
                           "created_at_ms, seq",
                       "load public keys");
  if (!r) return r.error();
  for (int i = 0; i < r->size(); ++i) {
    out.public_keys.push_back(PublicKeyRecord{r->text(i, 0), r->text(i, 1), r->text(i, 2),
                                              r->text(i, 3), r->int64(i, 4)});
  }
  return {};
}

Status load_subscription_rows(Connection& c, const TenantScope& scope, Catalog& out) {
  auto r = scope.query(c,
                       "SELECT tenant_id, pattern FROM subscriptions" + scope.where("tenant_id") +
                           " ORDER BY " + scope.order("tenant_id") + "tenant_id, position",
                       "load subscriptions");
  if (!r) return r.error();
  for (int i = 0; i < r->size(); ++i) {
    std::string tenant = r->text(i, 0);
    if (out.subscriptions.empty() || out.subscriptions.back().first != tenant) {
      out.subscriptions.emplace_back(std::move(tenant), std::vector<std::string>{});
    }
    out.subscriptions.back().second.push_back(r->text(i, 1));
  }
  return {};
}

Status load_endpoint_rows(Connection& c, const TenantScope& scope, Catalog& out) {
  auto r = scope.query(c,
                       "SELECT id, tenant_id, url, secret, ordering, max_attempts, created_at_ms,"
                       " previous_secret, previous_secret_expires_at_ms, disabled, state_reason,"
                       " state_changed_at_ms, disable_after_ms, disable_min_attempts, "
                       "rate_milli_per_s, rate_burst FROM endpoints" +
                           scope.where("tenant_id") + " ORDER BY " + scope.order("tenant_id") +
                           "created_at_ms, id",
                       "load endpoints");
  if (!r) return r.error();
  size_t first = out.endpoints.size();
  for (int i = 0; i < r->size(); ++i) {
    Endpoint e{r->text(i, 0),        r->text(i, 1),  r->text(i, 2),  r->text(i, 3), {},
               Ordering::kUnordered, r->int32(i, 5), r->int64(i, 6), r->text(i, 7), r->int64(i, 8)};
    e.ordering = parse_ordering(r->text(i, 4)).value_or(Ordering::kUnordered);
    e.state.disabled = r->text(i, 9) == "t";
    e.state.reason = parse_state_reason(r->text(i, 10)).value_or(StateReason::kNone);
    e.state.changed_at_ms = r->int64(i, 11);
    e.disable_after_ms = r->int64(i, 12);
    e.disable_min_attempts = r->int32(i, 13);
    e.rate_milli_per_s = r->int64(i, 14);
    e.rate_burst = r->int32(i, 15);
    out.endpoints.push_back(std::move(e));
  }
  std::unordered_map<std::string, Endpoint*> by_id;
  for (size_t i = first; i < out.endpoints.size(); ++i)
    by_id.emplace(out.endpoints[i].id, &out.endpoints[i]);
  auto types = scope.query(
      c,
      "SELECT t.endpoint_id, t.event_type FROM endpoint_event_types t" +
          (scope.ids ? " JOIN endpoints e ON e.id = t.endpoint_id" + scope.where("e.tenant_id")
                     : std::string()) +
          " ORDER BY t.endpoint_id, t.position",
      "load endpoint event types");
  if (!types) return types.error();
  for (int i = 0; i < types->size(); ++i) {
    auto it = by_id.find(types->text(i, 0));
    if (it != by_id.end()) it->second->event_types.push_back(types->text(i, 1));
  }
  return {};
}

Result<Catalog> load_scope(Connection& c, const TenantScope& scope) {
  auto tx = Transaction::begin(c, Transaction::kSnapshot);
  if (!tx) return tx.error();
  Catalog out;
  for (auto load : {load_tenant_rows, load_api_key_rows, load_public_key_rows,
                    load_subscription_rows, load_endpoint_rows}) {
    if (Status s = load(c, scope, out); !s) return s.error();
  }
  if (Status s = tx->commit(); !s) return s.error();
  return out;
}

Result<int64_t> read_version(Connection& c) {
  auto r = c.query("SELECT version FROM catalog_version WHERE id = 1", "read the catalog version");
  if (!r) return r.error();
  return r->size() == 0 ? int64_t{0} : r->int64(0, 0);
}

}  // namespace

Result<Catalog> PostgresStore::load_catalog() {
  return with("load the catalog", [](Connection& c) { return load_scope(c, TenantScope{}); });
}

Result<Catalog> PostgresStore::load_tenants_catalog(const std::vector<std::string>& tenant_ids) {
  if (tenant_ids.empty()) return Catalog{};
  return with("load tenants",
              [&](Connection& c) { return load_scope(c, TenantScope{&tenant_ids}); });
}

Result<int64_t> PostgresStore::catalog_version() {
  return with("read the catalog version", [](Connection& c) { return read_version(c); });
}

Result<CatalogChanges> PostgresStore::load_catalog_changes(int64_t since, size_t max) {
  return with("read the catalog changes", [&](Connection& c) -> Result<CatalogChanges> {
    auto tx = Transaction::begin(c, Transaction::kSnapshot);
    if (!tx) return tx.error();
    CatalogChanges out;
    auto version = read_version(c);
    if (!version) return version.error();
    out.version = *version;
    if (out.version <= since) return out;
    if (out.version - since > static_cast<int64_t>(max)) {
      out.too_far_behind = true;
      return out;
    }
    // The oldest kept change must follow `since` directly, or some were pruned.
    auto oldest = c.query("SELECT COALESCE(MIN(version), 0) FROM catalog_changes",
                          "read the catalog changes");
    if (!oldest) return oldest.error();
    if (oldest->int64(0, 0) > since + 1) {
      out.too_far_behind = true;
      return out;
    }
    auto r = c.query(
        "SELECT tenant_id FROM catalog_changes WHERE version > $1 AND version <= $2"
        " GROUP BY tenant_id ORDER BY tenant_id",
        "read the catalog changes", since, out.version);
    if (!r) return r.error();
    for (int i = 0; i < r->size(); ++i) out.tenant_ids.push_back(r->text(i, 0));
    if (Status s = tx->commit(); !s) return s.error();
    return out;
  });
}

}  // namespace sealhook::postgres
