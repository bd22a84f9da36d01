// SqliteStore: the read side of the catalog change feed (the version, the changed tenants, and
// the catalog of a few tenants). The writes are counted by the triggers of
// migrations/0006_catalog_feed.sql.
#include "store/sqlite/sqlite_store.hpp"

namespace sealhook::sqlite {
namespace {

template <class Row>
Status feed_rows(Connection& conn, Result<BorrowedStatement>& st, std::string_view what, Row row) {
  if (!st) return st.error();
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) row(**st);
  if (rc != SQLITE_DONE) return conn.error(rc, what);
  return {};
}

Result<int64_t> read_catalog_version(Connection& conn) {
  auto st = conn.query("SELECT version FROM catalog_version WHERE id = 1");
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc == SQLITE_DONE) return int64_t{0};
  if (rc != SQLITE_ROW) return conn.error(rc, "read the catalog version");
  return (*st)->int64(0);
}

Status load_one_tenant(Connection& conn, const std::string& id, Catalog& out) {
  auto t = conn.query("SELECT id, name, created_at_ms FROM tenants WHERE id = ?1", id);
  if (Status s = feed_rows(conn, t, "load a tenant",
                           [&](Statement& r) {
                             out.tenants.push_back(Tenant{r.text(0), r.text(1), r.int64(2)});
                           });
      !s)
    return s;
  auto k = conn.query(
      "SELECT id, tenant_id, hash_hex, created_at_ms FROM api_keys WHERE tenant_id = ?1"
      " ORDER BY created_at_ms, id",
      id);
  if (Status s =
          feed_rows(conn, k, "load a tenant's API keys",
                    [&](Statement& r) {
                      out.api_keys.push_back(ApiKey{r.text(0), r.text(1), r.text(2), r.int64(3)});
                    });
      !s)
    return s;
  auto p = conn.query(
      "SELECT kid, tenant_id, alg, jwk_json, created_at_ms FROM public_keys WHERE tenant_id = ?1"
      " ORDER BY created_at_ms, rowid",
      id);
  if (Status s = feed_rows(conn, p, "load a tenant's public keys",
                           [&](Statement& r) {
                             out.public_keys.push_back(PublicKeyRecord{
                                 r.text(0), r.text(1), r.text(2), r.text(3), r.int64(4)});
                           });
      !s)
    return s;
  std::vector<std::string> patterns;
  auto sub =
      conn.query("SELECT pattern FROM subscriptions WHERE tenant_id = ?1 ORDER BY position", id);
  if (Status s = feed_rows(conn, sub, "load a tenant's subscriptions",
                           [&](Statement& r) { patterns.push_back(r.text(0)); });
      !s)
    return s;
  if (!patterns.empty()) out.subscriptions.emplace_back(id, std::move(patterns));
  size_t first = out.endpoints.size();
  auto e = conn.query(
      "SELECT id, tenant_id, url, secret, ordering, max_attempts, created_at_ms, previous_secret,"
      " previous_secret_expires_at_ms, disabled, state_reason, state_changed_at_ms,"
      " disable_after_ms, disable_min_attempts, rate_milli_per_s, rate_burst FROM endpoints "
      "WHERE tenant_id = ?1"
      " ORDER BY created_at_ms, id",
      id);
  if (Status s = feed_rows(
          conn, e, "load a tenant's endpoints",
          [&](Statement& r) {
            Endpoint ep{r.text(0),  r.text(1),  r.text(2), r.text(3), {}, Ordering::kUnordered,
                        r.int32(5), r.int64(6), r.text(7), r.int64(8)};
            ep.ordering = parse_ordering(r.text(4)).value_or(Ordering::kUnordered);
            ep.state = read_endpoint_state(r, 9);
            ep.disable_after_ms = r.int64(12);
            ep.disable_min_attempts = r.int32(13);
            ep.rate_milli_per_s = r.int64(14);
            ep.rate_burst = r.int32(15);
            out.endpoints.push_back(std::move(ep));
          });
      !s)
    return s;
  for (size_t i = first; i < out.endpoints.size(); ++i) {
    Endpoint& ep = out.endpoints[i];
    auto types = conn.query(
        "SELECT event_type FROM endpoint_event_types WHERE endpoint_id = ?1 ORDER BY position",
        ep.id);
    if (Status s = feed_rows(conn, types, "load an endpoint's event types",
                             [&](Statement& r) { ep.event_types.push_back(r.text(0)); });
        !s)
      return s;
  }
  return {};
}

}  // namespace

Result<int64_t> SqliteStore::catalog_version() {
  std::lock_guard lock(mu_);
  return read_catalog_version(*conn_);
}

Result<CatalogChanges> SqliteStore::load_catalog_changes(int64_t since, size_t max) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_, /*write=*/false);
  if (!tx) return tx.error();
  CatalogChanges out;
  auto version = read_catalog_version(*conn_);
  if (!version) return version.error();
  out.version = *version;
  if (out.version <= since) return out;
  if (out.version - since > static_cast<int64_t>(max)) {
    out.too_far_behind = true;
    return out;
  }
  // The oldest kept change must follow `since` directly, or some were pruned.
  auto oldest = conn_->query("SELECT COALESCE(MIN(version), 0) FROM catalog_changes");
  if (!oldest) return oldest.error();
  if (int rc = (*oldest)->step(); rc != SQLITE_ROW) return conn_->error(rc, "read the changes");
  if ((*oldest)->int64(0) > since + 1) {
    out.too_far_behind = true;
    return out;
  }
  oldest->reset();
  auto st = conn_->query(
      "SELECT tenant_id FROM catalog_changes WHERE version > ?1 AND version <= ?2"
      " GROUP BY tenant_id",
      since, out.version);
  if (Status s = feed_rows(*conn_, st, "read the catalog changes",
                           [&](Statement& r) { out.tenant_ids.push_back(r.text(0)); });
      !s)
    return s.error();
  if (Status s = tx->commit(); !s) return s.error();
  return out;
}

Result<Catalog> SqliteStore::load_tenants_catalog(const std::vector<std::string>& tenant_ids) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_, /*write=*/false);  // one consistent snapshot
  if (!tx) return tx.error();
  Catalog out;
  for (const auto& id : tenant_ids)
    if (Status s = load_one_tenant(*conn_, id, out); !s) return s.error();
  if (Status s = tx->commit(); !s) return s.error();
  return out;
}

}  // namespace sealhook::sqlite
