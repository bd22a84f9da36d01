#pragma once
// The PostgreSQL implementation of Store, for processes on several machines sharing one
// catalog, one delivery journal and one DLQ. Calls borrow a connection from a bounded pool
// (pool.hpp); the catalog change feed is pushed by LISTEN/NOTIFY (catalog_listener.hpp).
//
// Written on libpq, PostgreSQL's own C client (Debian's libpq-dev), not libpqxx: the store
// needs little more than prepared statements, array parameters and the notification socket,
// which the C API gives directly, with control over what each round trip carries (a journal
// batch is one statement over arrays), over connect and TCP timeouts, and over the socket the
// listener polls beside its stop signal. libpqxx would add a dependency and a layer of
// exceptions (our errors are values) without saving much code here.
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "store/postgres/pool.hpp"
#include "store/store.hpp"

namespace sealhook::postgres {

class CatalogListener;

struct PostgresOptions {
  PoolOptions pool;
  // The listener probes an idle connection this often (a server gone silent is noticed).
  std::chrono::milliseconds listen_probe{10000};
  std::chrono::milliseconds reconnect_backoff_max{5000};
};

// Splits a store spec into what libpq is given and our own knobs: the query parameters
// pool_size (1..1000, default 4), pool_wait_ms (1..600000, default 1000) and
// connect_timeout_ms (100..600000, default 1000) are taken out of a postgres:// URI; the rest
// (libpq's parameters) stays.
Result<std::pair<std::string, PostgresOptions>> parse_spec(const std::string& spec);

class PostgresStore final : public Store {
 public:
  // `conninfo` is a postgres:// or postgresql:// URI (libpq's parameters and PG* environment
  // variables apply); the schema is migrated before this returns.
  static Result<std::unique_ptr<Store>> open(const std::string& conninfo,
                                             const PostgresOptions& options = {});
  ~PostgresStore() override;

  Result<Catalog> load_catalog() override;
  Result<int64_t> catalog_version() override;
  Result<CatalogChanges> load_catalog_changes(int64_t since, size_t max) override;
  Result<Catalog> load_tenants_catalog(const std::vector<std::string>& tenant_ids) override;
  Status insert_tenant(const Tenant& tenant, const ApiKey& first_key) override;
  Status delete_tenant(const std::string& tenant_id) override;
  Status insert_api_key(const ApiKey& key) override;
  Status delete_api_key(const std::string& tenant_id, const std::string& key_id) override;
  Status insert_public_key(const PublicKeyRecord& key) override;
  Status delete_public_key(const std::string& tenant_id, const std::string& kid) override;
  Status put_subscriptions(const std::string& tenant_id,
                           const std::vector<std::string>& patterns) override;
  Status put_endpoint(const Endpoint& endpoint) override;
  Result<bool> set_endpoint_state(const std::string& tenant_id, const std::string& endpoint_id,
                                  const EndpointState& state) override;
  Result<EndpointHealth> add_endpoint_failures(const std::string& endpoint_id, int failures,
                                               int64_t first_at_ms, int64_t last_at_ms) override;
  Status clear_endpoint_failures(const std::string& endpoint_id) override;
  Result<std::vector<std::string>> failing_endpoints() override;
  Status delete_endpoint(const std::string& tenant_id, const std::string& endpoint_id) override;

  Status write_deliveries(const std::vector<DeliveryUpdate>& batch) override;
  Result<std::optional<DeliveryRecord>> get_delivery(const std::string& tenant_id,
                                                     const std::string& id) override;
  Result<std::vector<AttemptRecord>> get_attempts(const std::string& delivery_id) override;
  Result<DeliveryPage> list_deliveries(const std::string& tenant_id,
                                       std::optional<DeliveryStatus> status, size_t limit,
                                       const std::optional<std::string>& cursor) override;
  Result<std::optional<DeadLetter>> get_dead_letter(const std::string& tenant_id,
                                                    const std::string& id) override;
  Result<int64_t> count_deliveries(std::optional<DeliveryStatus> status) override;

  Status purge_idempotency(int64_t before_ms) override;
  Result<Reservation> reserve_idempotency(const std::string& scope, const std::string& key,
                                          const std::string& request_hash, int64_t now_ms,
                                          int64_t expired_before_ms,
                                          int64_t stale_before_ms) override;
  Status complete_idempotency(const std::string& scope, const std::string& key,
                              const std::string& response_json) override;
  Status release_idempotency(const std::string& scope, const std::string& key) override;
  Result<bool> claim_dead(const std::string& tenant_id, const std::string& id,
                          int64_t now_ms) override;
  Status unclaim_dead(const std::string& tenant_id, const std::string& id,
                      const std::string& body) override;
  Result<std::vector<std::pair<std::string, std::string>>> pending_deliveries(
      int64_t updated_before_ms) override;
  Result<std::vector<std::pair<std::string, std::string>>> pending_deliveries(
      int64_t updated_before_ms, const std::optional<std::pair<std::string, std::string>>& after,
      size_t limit) override;
  Status settle_pending(const std::vector<std::pair<std::string, std::string>>& ids,
                        DeliveryStatus status, const std::string& error, int64_t now_ms) override;
  Result<std::optional<std::string>> get_meta(const std::string& key) override;
  Status put_meta(const std::string& key, const std::string& value) override;

  Status ping() override;
  // A connection of its own LISTENs on sealhook_catalog, on a thread of its own.
  bool watch_catalog(std::function<void()> on_change) override;

  // list_deliveries never returns more than this many rows at once (`next` pages on).
  static constexpr size_t kMaxPageSize = 1000;
  // The NOTIFY channel every catalog write signals (migrations/0001_init.sql).
  static constexpr const char* kCatalogChannel = "sealhook_catalog";

 private:
  PostgresStore(std::string conninfo, const PostgresOptions& options);

  // Runs `f(connection)` on a borrowed connection; an error when none could be had.
  template <class F>
  auto with(std::string_view what, F f) -> decltype(f(std::declval<Connection&>()));
  // Runs a DELETE; kNotFound naming `what` when it removed nothing.
  template <class... Args>
  Status delete_one(std::string_view sql, std::string_view what, const Args&... args);

  const PostgresOptions options_;
  Pool pool_;
  std::mutex listener_mu_;
  std::unique_ptr<CatalogListener> listener_;
};

template <class F>
auto PostgresStore::with(std::string_view what, F f) -> decltype(f(std::declval<Connection&>())) {
  auto lease = pool_.acquire(what);
  if (!lease) return lease.error();
  return f(**lease);
}

}  // namespace sealhook::postgres
