// PostgresStore: opening, the store spec's knobs, and the catalog writes (tenants, keys,
// subscriptions, endpoints). Every catalog write bumps the version and NOTIFYs in its own
// transaction, by the triggers of migrations/0001_init.sql.
#include "store/postgres/postgres_store.hpp"

#include <charconv>

#include "store/postgres/catalog_listener.hpp"
#include "store/postgres/migrations.hpp"

namespace sealhook::postgres {
namespace {

Error invalid_spec(std::string message) {
  return make_error(ErrorKind::kBadRequest, "invalid_store", std::move(message));
}

Error not_found(std::string_view what) {
  return make_error(ErrorKind::kNotFound, "not_found", std::string(what) + " was not found.");
}

Result<int64_t> knob(std::string_view name, std::string_view text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return invalid_spec("The store parameter " + std::string(name) + "=" + std::string(text) +
                        " must be a whole number from " + std::to_string(min) + " to " +
                        std::to_string(max) + ".");
  }
  return v;
}

ArrayLiteral array_of(const std::vector<std::string>& items) {
  ArrayLiteral a;
  for (const std::string& s : items) a.add(s);
  return a;
}

}  // namespace

Result<std::pair<std::string, PostgresOptions>> parse_spec(const std::string& spec) {
  PostgresOptions options;
  size_t q = spec.find('?');
  if (q == std::string::npos) return std::pair{spec, options};
  std::string kept = spec.substr(0, q);
  char sep = '?';
  std::string_view query = std::string_view(spec).substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (key == "pool_size") {
      auto v = knob(key, value, 1, 1000);
      if (!v) return v.error();
      options.pool.size = static_cast<size_t>(*v);
    } else if (key == "pool_wait_ms") {
      auto v = knob(key, value, 1, 600000);
      if (!v) return v.error();
      options.pool.wait = std::chrono::milliseconds(*v);
    } else if (key == "connect_timeout_ms") {
      auto v = knob(key, value, 100, 600000);
      if (!v) return v.error();
      options.pool.connect.connect_timeout = std::chrono::milliseconds(*v);
    } else if (!pair.empty()) {
      kept += sep;
      kept += pair;
      sep = '&';
    }
  }
  return std::pair{kept, options};
}

Result<std::unique_ptr<Store>> PostgresStore::open(const std::string& conninfo,
                                                   const PostgresOptions& options) {
  std::unique_ptr<PostgresStore> store(new PostgresStore(conninfo, options));
  Status migrated = store->with("migrate the schema", [](Connection& c) { return migrate(c); });
  if (!migrated) return migrated.error();
  return std::unique_ptr<Store>(std::move(store));
}

PostgresStore::PostgresStore(std::string conninfo, const PostgresOptions& options)
    : options_(options), pool_(std::move(conninfo), options.pool) {}

// The listener's thread is joined before the pool goes.
PostgresStore::~PostgresStore() {
  std::lock_guard lock(listener_mu_);
  listener_.reset();
}

bool PostgresStore::watch_catalog(std::function<void()> on_change) {
  std::lock_guard lock(listener_mu_);
  listener_.reset();  // joined before another starts: one callback at a time
  if (on_change) {
    listener_ = std::make_unique<CatalogListener>(
        pool_.conninfo(), options_.pool.connect,
        ListenOptions{kCatalogChannel, options_.listen_probe, options_.reconnect_backoff_max},
        std::move(on_change));
  }
  return true;
}

template <class... Args>
Status PostgresStore::delete_one(std::string_view sql, std::string_view what, const Args&... args) {
  return with("delete " + std::string(what), [&](Connection& c) -> Status {
    auto r = c.query(sql, "delete " + std::string(what), args...);
    if (!r) return r.error();
    if (r->changed() == 0) return not_found(what);
    return {};
  });
}

Status PostgresStore::insert_tenant(const Tenant& tenant, const ApiKey& first_key) {
  return with("insert the tenant", [&](Connection& c) -> Status {
    auto tx = Transaction::begin(c);
    if (!tx) return tx.error();
    auto t = c.query("INSERT INTO tenants (id, name, created_at_ms) VALUES ($1, $2, $3)",
                     "insert the tenant", tenant.id, tenant.name, tenant.created_at_ms);
    if (!t) return t.error();
    auto k = c.query(
        "INSERT INTO api_keys (id, tenant_id, hash_hex, created_at_ms) VALUES ($1, $2, $3, $4)",
        "insert the API key", first_key.id, first_key.tenant_id, first_key.hash_hex,
        first_key.created_at_ms);
    if (!k) return k.error();
    return tx->commit();
  });
}

Status PostgresStore::delete_tenant(const std::string& tenant_id) {
  return with("delete the tenant", [&](Connection& c) -> Status {
    auto tx = Transaction::begin(c);
    if (!tx) return tx.error();
    // Locked first: a journal batch in flight for this tenant (which takes a share of this
    // lock) either committed before, and its rows go below, or waits and finds no tenant.
    auto locked =
        c.query("SELECT 1 FROM tenants WHERE id = $1 FOR UPDATE", "lock the tenant", tenant_id);
    if (!locked) return locked.error();
    if (locked->size() == 0) return not_found("the tenant");
    // The tenant's deliveries with their attempts and dead letters (no foreign key ties those
    // to a delivery); the tenant row takes its keys, subscriptions and endpoints with it.
    for (const char* sql :
         {"DELETE FROM attempts WHERE delivery_id IN"
          " (SELECT id FROM deliveries WHERE tenant_id = $1)",
          "DELETE FROM dead_letters WHERE delivery_id IN"
          " (SELECT id FROM deliveries WHERE tenant_id = $1)",
          "DELETE FROM deliveries WHERE tenant_id = $1", "DELETE FROM idempotency WHERE scope = $1",
          "DELETE FROM tenants WHERE id = $1"}) {
      if (auto r = c.query(sql, "delete the tenant", tenant_id); !r) return r.error();
    }
    return tx->commit();
  });
}

Status PostgresStore::insert_api_key(const ApiKey& key) {
  return with("insert the API key", [&](Connection& c) -> Status {
    auto r = c.query(
        "INSERT INTO api_keys (id, tenant_id, hash_hex, created_at_ms) VALUES ($1, $2, $3, $4)",
        "insert the API key", key.id, key.tenant_id, key.hash_hex, key.created_at_ms);
    if (!r) return r.error();
    return {};
  });
}

Status PostgresStore::delete_api_key(const std::string& tenant_id, const std::string& key_id) {
  return delete_one("DELETE FROM api_keys WHERE id = $1 AND tenant_id = $2", "the API key", key_id,
                    tenant_id);
}

Status PostgresStore::insert_public_key(const PublicKeyRecord& key) {
  return with("insert the public key", [&](Connection& c) -> Status {
    auto r = c.query(
        "INSERT INTO public_keys (tenant_id, kid, alg, jwk_json, created_at_ms)"
        " VALUES ($1, $2, $3, $4, $5)",
        "insert the public key", key.tenant_id, key.kid, key.alg, key.jwk_json, key.created_at_ms);
    if (!r) return r.error();
    return {};
  });
}

Status PostgresStore::delete_public_key(const std::string& tenant_id, const std::string& kid) {
  return delete_one("DELETE FROM public_keys WHERE tenant_id = $1 AND kid = $2", "the public key",
                    tenant_id, kid);
}

Status PostgresStore::put_subscriptions(const std::string& tenant_id,
                                        const std::vector<std::string>& patterns) {
  return with("replace the subscriptions", [&](Connection& c) -> Status {
    auto tx = Transaction::begin(c);
    if (!tx) return tx.error();
    // An empty list inserts nothing that the foreign key would check.
    auto exists = c.query("SELECT 1 FROM tenants WHERE id = $1 FOR KEY SHARE", "look up the tenant",
                          tenant_id);
    if (!exists) return exists.error();
    if (exists->size() == 0) return not_found("the tenant");
    if (auto r = c.query("DELETE FROM subscriptions WHERE tenant_id = $1",
                         "replace the subscriptions", tenant_id);
        !r) {
      return r.error();
    }
    auto r = c.query(
        "INSERT INTO subscriptions (tenant_id, position, pattern)"
        " SELECT $1, p.n - 1, p.pattern FROM unnest($2::text[]) WITH ORDINALITY AS p(pattern, n)",
        "insert the subscriptions", tenant_id, array_of(patterns));
    if (!r) return r.error();
    return tx->commit();
  });
}

Status PostgresStore::put_endpoint(const Endpoint& e) {
  return with("write the endpoint", [&](Connection& c) -> Status {
    auto tx = Transaction::begin(c);
    if (!tx) return tx.error();
    // Replaces in place, keeping created_at_ms; an id owned by another tenant is left alone.
    auto r = c.query(
        "INSERT INTO endpoints"
        " (id, tenant_id, url, secret, ordering, max_attempts, created_at_ms,"
        " previous_secret, previous_secret_expires_at_ms, disabled, state_reason,"
        " state_changed_at_ms, disable_after_ms, disable_min_attempts, rate_milli_per_s,"
        " rate_burst)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
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
        e.state.disabled, to_string(e.state.reason), e.state.changed_at_ms, e.disable_after_ms,
        e.disable_min_attempts, e.rate_milli_per_s, e.rate_burst);
    if (!r) return r.error();
    if (r->changed() == 0) {
      return make_error(ErrorKind::kConflict, "already_exists",
                        "Endpoint " + e.id + " already exists for another tenant.");
    }
    if (auto d = c.query("DELETE FROM endpoint_event_types WHERE endpoint_id = $1",
                         "replace the endpoint's event types", e.id);
        !d) {
      return d.error();
    }
    auto types = c.query(
        "INSERT INTO endpoint_event_types (endpoint_id, position, event_type)"
        " SELECT $1, t.n - 1, t.event_type"
        " FROM unnest($2::text[]) WITH ORDINALITY AS t(event_type, n)",
        "insert the endpoint's event types", e.id, array_of(e.event_types));
    if (!types) return types.error();
    return tx->commit();
  });
}

Result<bool> PostgresStore::set_endpoint_state(const std::string& tenant_id,
                                               const std::string& endpoint_id,
                                               const EndpointState& state) {
  return with("write the endpoint's state", [&](Connection& c) -> Result<bool> {
    auto r = c.query(
        "UPDATE endpoints SET disabled = $3, state_reason = $4, state_changed_at_ms = $5"
        " WHERE id = $1 AND tenant_id = $2 AND disabled <> $3",
        "write the endpoint's state", endpoint_id, tenant_id, state.disabled,
        to_string(state.reason), state.changed_at_ms);
    if (!r) return r.error();
    if (r->changed() > 0) return true;
    auto exists = c.query("SELECT 1 FROM endpoints WHERE id = $1 AND tenant_id = $2",
                          "read the endpoint's state", endpoint_id, tenant_id);
    if (!exists) return exists.error();
    if (exists->size() > 0) return false;  // in that state already
    return not_found("the endpoint");
  });
}

Status PostgresStore::delete_endpoint(const std::string& tenant_id,
                                      const std::string& endpoint_id) {
  // Its deliveries stay, as history.
  return delete_one("DELETE FROM endpoints WHERE id = $1 AND tenant_id = $2", "the endpoint",
                    endpoint_id, tenant_id);
}

// Readiness means writable: a one-row write answers (a read-only standby, or a server out of
// disk, does not).
Status PostgresStore::ping() {
  return with("answer a ping", [&](Connection& c) -> Status {
    auto r = c.query(
        "INSERT INTO meta (key, value) VALUES ('ready_probe', '1')"
        " ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text",
        "answer a ping");
    if (!r) return r.error();
    return {};
  });
}

}  // namespace sealhook::postgres
