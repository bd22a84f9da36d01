#pragma once
// The SQLite implementation of Store: one connection for everything, serialized by a mutex,
// and one more for tenants' delivery reads (WAL: they read while the journal writes). It is
// not on the hot path (the catalog is served from memory, deliveries are written in batches).
#include <memory>
#include <mutex>
#include <string>

#include "store/sqlite/connection.hpp"
#include "store/store.hpp"

namespace sealhook::sqlite {

class Statement;

// An endpoint row's state: the columns disabled, state_reason, state_changed_at_ms from `col`.
EndpointState read_endpoint_state(const Statement& row, int col);

class SqliteStore final : public Store {
 public:
  // `path` is a database file or ":memory:"; the schema is migrated before this returns.
  static Result<std::unique_ptr<Store>> open(const std::string& path,
                                             const ConnectionOptions& options = {});

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

  // list_deliveries never returns more than this many rows at once (`next` pages on).
  static constexpr size_t kMaxPageSize = 1000;

 private:
  explicit SqliteStore(std::unique_ptr<Connection> conn) : conn_(std::move(conn)) {}

  // Runs a DELETE; kNotFound naming `what` when it removed nothing.
  template <class... Args>
  Status delete_one(std::string_view sql, std::string_view what, const Args&... args);
  Status write_one(const DeliveryUpdate& update);

  // The reads of list_deliveries, get_delivery and get_attempts: reader_ under read_mu_ when
  // there is one (a file), else conn_ under mu_.
  template <class Read>
  auto read(Read read_with);

  std::mutex mu_;
  std::unique_ptr<Connection> conn_;
  std::mutex read_mu_;
  std::unique_ptr<Connection> reader_;
};

}  // namespace sealhook::sqlite
