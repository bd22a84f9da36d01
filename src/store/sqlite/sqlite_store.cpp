// SqliteStore: opening, and the catalog (tenants, keys, subscriptions, endpoints).
// Deliveries and idempotency records are in sqlite_deliveries.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <unordered_map>

#include "store/sqlite/migrations.hpp"

namespace sealhook::sqlite {
namespace {

Error not_found(std::string_view what) {
  return make_error(ErrorKind::kNotFound, "not_found", std::string(what) + " was not found.");
}

// Steps `st` to the end, calling `row` on each row.
template <class Row>
Status each_row(Connection& conn, Result<BorrowedStatement>& st, std::string_view what, Row row) {
  if (!st) return st.error();
  int rc;
  while ((rc = (*st)->step()) == SQLITE_ROW) row(**st);
  if (rc != SQLITE_DONE) return conn.error(rc, what);
  return {};
}

Status load_tenants(Connection& conn, Catalog& out) {
  auto st = conn.query("SELECT id, name, created_at_ms FROM tenants ORDER BY created_at_ms, id");
  return each_row(conn, st, "load tenants", [&](Statement& r) {
    out.tenants.push_back(Tenant{r.text(0), r.text(1), r.int64(2)});
  });
}

Status load_api_keys(Connection& conn, Catalog& out) {
  auto st = conn.query(
      "SELECT id, tenant_id, hash_hex, created_at_ms FROM api_keys ORDER BY created_at_ms, id");
  return each_row(conn, st, "load API keys", [&](Statement& r) {
    out.api_keys.push_back(ApiKey{r.text(0), r.text(1), r.text(2), r.int64(3)});
  });
}

// Oldest first per tenant: the last one listed for a tenant is its newest key.
Status load_public_keys(Connection& conn, Catalog& out) {
  auto st = conn.query(
      "SELECT kid, tenant_id, alg, jwk_json, created_at_ms FROM public_keys"
      " ORDER BY created_at_ms, rowid");
  return each_row(conn, st, "load public keys", [&](Statement& r) {
    out.public_keys.push_back(
        PublicKeyRecord{r.text(0), r.text(1), r.text(2), r.text(3), r.int64(4)});
  });
}

Status load_subscriptions(Connection& conn, Catalog& out) {
  auto st = conn.query("SELECT tenant_id, pattern FROM subscriptions ORDER BY tenant_id, position");
  return each_row(conn, st, "load subscriptions", [&](Statement& r) {
    std::string tenant = r.text(0);
    if (out.subscriptions.empty() || out.subscriptions.back().first != tenant) {
      out.subscriptions.emplace_back(std::move(tenant), std::vector<std::string>{});
    }
    out.subscriptions.back().second.push_back(r.text(1));
  });
}

Status load_endpoints(Connection& conn, Catalog& out) {
  auto st = conn.query(
      "SELECT id, tenant_id, url, secret, ordering, max_attempts, created_at_ms, previous_secret,"
      " previous_secret_expires_at_ms, disabled, state_reason, state_changed_at_ms,"
      " disable_after_ms, disable_min_attempts, rate_milli_per_s, rate_burst FROM endpoints "
      "ORDER BY created_at_ms, id");
  Status s = each_row(conn, st, "load endpoints", [&](Statement& r) {
    Endpoint e{r.text(0),  r.text(1),  r.text(2), r.text(3), {}, Ordering::kUnordered,
               r.int32(5), r.int64(6), r.text(7), r.int64(8)};
    e.ordering = parse_ordering(r.text(4)).value_or(Ordering::kUnordered);
    e.state = read_endpoint_state(r, 9);
    e.disable_after_ms = r.int64(12);
    e.disable_min_attempts = r.int32(13);
    e.rate_milli_per_s = r.int64(14);
    e.rate_burst = r.int32(15);
    out.endpoints.push_back(std::move(e));
  });
  if (!s) return s;
  std::unordered_map<std::string, Endpoint*> by_id;
  for (Endpoint& e : out.endpoints) by_id.emplace(e.id, &e);
  auto types = conn.query(
      "SELECT endpoint_id, event_type FROM endpoint_event_types ORDER BY endpoint_id, position");
  return each_row(conn, types, "load endpoint event types", [&](Statement& r) {
    auto it = by_id.find(r.text(0));
    if (it != by_id.end()) it->second->event_types.push_back(r.text(1));
  });
}

Status insert_key(Connection& conn, const ApiKey& key) {
  return conn.run(
      "INSERT INTO api_keys (id, tenant_id, hash_hex, created_at_ms) VALUES (?1, ?2, ?3, ?4)",
      "insert the API key", key.id, key.tenant_id, key.hash_hex, key.created_at_ms);
}

Result<bool> tenant_exists(Connection& conn, const std::string& tenant_id) {
  auto st = conn.query("SELECT 1 FROM tenants WHERE id = ?1", tenant_id);
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return conn.error(rc, "look up the tenant");
  return rc == SQLITE_ROW;
}

}  // namespace

EndpointState read_endpoint_state(const Statement& row, int col) {
  return EndpointState{row.int32(col) != 0,
                       parse_state_reason(row.text(col + 1)).value_or(StateReason::kNone),
                       row.int64(col + 2)};
}

Result<std::unique_ptr<Store>> SqliteStore::open(const std::string& path,
                                                 const ConnectionOptions& options) {
  auto conn = Connection::open(path, options);
  if (!conn) return conn.error();
  if (Status s = migrate(**conn); !s) return s.error();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*conn)));
  // Tenant reads (GET /v1/deliveries...) on a connection of their own: in WAL mode they read
  // beside the journal's batch writes instead of waiting for them (and holding them up).
  // An in-memory database is private to its connection: there, they share the one.
  if (path != ":memory:") {
    auto reader = Connection::open(path, options);
    if (!reader) return reader.error();
    store->reader_ = std::move(*reader);
  }
  return std::unique_ptr<Store>(std::move(store));
}

template <class... Args>
Status SqliteStore::delete_one(std::string_view sql, std::string_view what, const Args&... args) {
  if (Status s = conn_->run(sql, std::string("delete ") + std::string(what), args...); !s) {
    return s;
  }
  if (conn_->changes() == 0) return not_found(what);
  return {};
}

Result<Catalog> SqliteStore::load_catalog() {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_, /*write=*/false);  // one consistent snapshot
  if (!tx) return tx.error();
  Catalog out;
  for (auto load :
       {load_tenants, load_api_keys, load_public_keys, load_subscriptions, load_endpoints}) {
    if (Status s = load(*conn_, out); !s) return s.error();
  }
  if (Status s = tx->commit(); !s) return s.error();
  return out;
}

Status SqliteStore::insert_tenant(const Tenant& tenant, const ApiKey& first_key) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  if (Status s = conn_->run("INSERT INTO tenants (id, name, created_at_ms) VALUES (?1, ?2, ?3)",
                            "insert the tenant", tenant.id, tenant.name, tenant.created_at_ms);
      !s) {
    return s;
  }
  if (Status s = insert_key(*conn_, first_key); !s) return s;
  return tx->commit();
}

Status SqliteStore::delete_tenant(const std::string& tenant_id) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  // The tenant's deliveries with their attempts and dead letters (no foreign key ties those to
  // a delivery: see 0002_deliveries_by_tenant.sql); the tenant row takes its keys,
  // subscriptions and endpoints with it (ON DELETE CASCADE).
  for (const char* sql : {"DELETE FROM attempts WHERE delivery_id IN"
                          " (SELECT id FROM deliveries WHERE tenant_id = ?1)",
                          "DELETE FROM dead_letters WHERE delivery_id IN"
                          " (SELECT id FROM deliveries WHERE tenant_id = ?1)",
                          "DELETE FROM deliveries WHERE tenant_id = ?1"}) {
    if (Status s = conn_->run(sql, "delete the tenant's deliveries", tenant_id); !s) return s;
  }
  if (Status s = conn_->run("DELETE FROM idempotency WHERE scope = ?1",
                            "delete the tenant's idempotency keys", tenant_id);
      !s) {
    return s;
  }
  if (Status s = delete_one("DELETE FROM tenants WHERE id = ?1", "the tenant", tenant_id); !s) {
    return s;
  }
  return tx->commit();
}

Status SqliteStore::insert_api_key(const ApiKey& key) {
  std::lock_guard lock(mu_);
  return insert_key(*conn_, key);
}

Status SqliteStore::delete_api_key(const std::string& tenant_id, const std::string& key_id) {
  std::lock_guard lock(mu_);
  return delete_one("DELETE FROM api_keys WHERE id = ?1 AND tenant_id = ?2", "the API key", key_id,
                    tenant_id);
}

Status SqliteStore::insert_public_key(const PublicKeyRecord& key) {
  std::lock_guard lock(mu_);
  return conn_->run(
      "INSERT INTO public_keys (tenant_id, kid, alg, jwk_json, created_at_ms)"
      " VALUES (?1, ?2, ?3, ?4, ?5)",
      "insert the public key", key.tenant_id, key.kid, key.alg, key.jwk_json, key.created_at_ms);
}

Status SqliteStore::delete_public_key(const std::string& tenant_id, const std::string& kid) {
  std::lock_guard lock(mu_);
  return delete_one("DELETE FROM public_keys WHERE tenant_id = ?1 AND kid = ?2", "the public key",
                    tenant_id, kid);
}

Status SqliteStore::put_subscriptions(const std::string& tenant_id,
                                      const std::vector<std::string>& patterns) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  auto exists = tenant_exists(*conn_, tenant_id);  // an empty list inserts nothing to check
  if (!exists) return exists.error();
  if (!*exists) return not_found("the tenant");
  if (Status s = conn_->run("DELETE FROM subscriptions WHERE tenant_id = ?1",
                            "replace the subscriptions", tenant_id);
      !s) {
    return s;
  }
  for (size_t i = 0; i < patterns.size(); ++i) {
    if (Status s = conn_->run(
            "INSERT INTO subscriptions (tenant_id, position, pattern) VALUES (?1, ?2, ?3)",
            "insert a subscription", tenant_id, static_cast<int64_t>(i), patterns[i]);
        !s) {
      return s;
    }
  }
  return tx->commit();
}

Status SqliteStore::put_endpoint(const Endpoint& e) {
  std::lock_guard lock(mu_);
  auto tx = Transaction::begin(*conn_);
  if (!tx) return tx.error();
  // Replaces in place, keeping created_at_ms; an id owned by another tenant is left alone.
  if (Status s = conn_->run(
          "INSERT INTO endpoints"
          " (id, tenant_id, url, secret, ordering, max_attempts, created_at_ms,"
          " previous_secret, previous_secret_expires_at_ms, disabled, state_reason,"
          " state_changed_at_ms, disable_after_ms, disable_min_attempts, rate_milli_per_s,"
          " rate_burst)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
          " ON CONFLICT (id) DO UPDATE SET url = excluded.url, secret = excluded.secret,"
          " ordering = excluded.ordering, max_attempts = excluded.max_attempts,"
          " previous_secret = excluded.previous_secret,"
          " previous_secret_expires_at_ms = excluded.previous_secret_expires_at_ms,"
          " disable_after_ms = excluded.disable_after_ms,"
          " disable_min_attempts = excluded.disable_min_attempts,"
          " rate_milli_per_s = excluded.rate_milli_per_s, rate_burst = excluded.rate_burst"
          " WHERE endpoints.tenant_id = excluded.tenant_id",
          "write the endpoint", e.id, e.tenant_id, e.url, e.secret, to_string(e.ordering),
          e.max_attempts, e.created_at_ms, e.previous_secret, e.previous_secret_expires_at_ms,
          int64_t{e.state.disabled ? 1 : 0}, to_string(e.state.reason), e.state.changed_at_ms,
          e.disable_after_ms, e.disable_min_attempts, e.rate_milli_per_s, e.rate_burst);
      !s) {
    return s;
  }
  if (conn_->changes() == 0) {
    return make_error(ErrorKind::kConflict, "already_exists",
                      "Endpoint " + e.id + " already exists for another tenant.");
  }
  if (Status s = conn_->run("DELETE FROM endpoint_event_types WHERE endpoint_id = ?1",
                            "replace the endpoint's event types", e.id);
      !s) {
    return s;
  }
  for (size_t i = 0; i < e.event_types.size(); ++i) {
    if (Status s = conn_->run("INSERT INTO endpoint_event_types (endpoint_id, position, event_type)"
                              " VALUES (?1, ?2, ?3)",
                              "insert an endpoint event type", e.id, static_cast<int64_t>(i),
                              e.event_types[i]);
        !s) {
      return s;
    }
  }
  return tx->commit();
}

Result<bool> SqliteStore::set_endpoint_state(const std::string& tenant_id,
                                             const std::string& endpoint_id,
                                             const EndpointState& state) {
  std::lock_guard lock(mu_);
  if (Status s = conn_->run(
          "UPDATE endpoints SET disabled = ?3, state_reason = ?4, state_changed_at_ms = ?5"
          " WHERE id = ?1 AND tenant_id = ?2 AND disabled <> ?3",
          "write the endpoint's state", endpoint_id, tenant_id, int64_t{state.disabled ? 1 : 0},
          to_string(state.reason), state.changed_at_ms);
      !s)
    return s.error();
  if (conn_->changes() > 0) return true;
  auto st = conn_->query("SELECT 1 FROM endpoints WHERE id = ?1 AND tenant_id = ?2", endpoint_id,
                         tenant_id);
  if (!st) return st.error();
  int rc = (*st)->step();
  if (rc == SQLITE_ROW) return false;  // in that state already
  if (rc != SQLITE_DONE) return conn_->error(rc, "read the endpoint's state");
  return not_found("the endpoint");
}

Status SqliteStore::delete_endpoint(const std::string& tenant_id, const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  // Its deliveries stay, as history.
  return delete_one("DELETE FROM endpoints WHERE id = ?1 AND tenant_id = ?2", "the endpoint",
                    endpoint_id, tenant_id);
}

// Readiness means writable: a one-row write (which needs room in the WAL) answers.
Status SqliteStore::ping() {
  std::lock_guard lock(mu_);
  return conn_->run(
      "INSERT INTO meta (key, value) VALUES ('ready_probe', '1')"
      " ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
      "answer a ping");
}

}  // namespace sealhook::sqlite
