#pragma once
// The durable store. The catalog (tenants, keys, subscriptions, endpoints) is read whole at
// start and served from memory afterwards; delivery and attempt records are written in
// batches off the hot path. One implementation per folder (sqlite/, later postgres/).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/model.hpp"
#include "core/result.hpp"

namespace sealhook {

struct Catalog {
  std::vector<Tenant> tenants;
  std::vector<ApiKey> api_keys;
  std::vector<PublicKeyRecord> public_keys;
  std::vector<std::pair<std::string, std::vector<std::string>>>
      subscriptions;  // tenant -> patterns
  std::vector<Endpoint> endpoints;
};

// A dead-lettered delivery keeps its ciphertext so it can be replayed.
struct DeadLetter {
  DeliveryRecord record;
  std::string body;  // the JWE compact string as it was sent
};

struct DeliveryUpdate {
  DeliveryRecord record;                 // upserted by id
  std::vector<AttemptRecord> attempts;   // appended
  std::optional<std::string> dead_body;  // set when the delivery is dead-lettered
  bool clear_dead_body = false;          // set when a dead delivery is replayed
  bool create_only = false;              // the publish-time record: never overwrites a later update
};

struct Reservation {
  // kMismatch: the key is held by a request with another hash (whatever its state).
  enum State { kReserved, kDone, kInProgress, kMismatch } state = kReserved;
  std::string response_json;  // kDone: the answer to give again
};

// What changed in the catalog since a version (Store::load_catalog_changes).
struct CatalogChanges {
  int64_t version = 0;                  // the catalog version these changes lead up to
  bool too_far_behind = false;          // more than asked for, or pruned: reload everything
  std::vector<std::string> tenant_ids;  // each changed tenant once (deleted ones too)
};

struct DeliveryPage {
  std::vector<DeliveryRecord> data;
  std::optional<std::string> next;  // cursor: the last id of this page
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<Catalog> load_catalog() = 0;
  // The change feed: every catalog write below bumps a version in the store, in the write's
  // own transaction, and records the tenant it changed, so that every process sharing the
  // store can tell cheaply that it is behind and reload just those tenants.
  virtual Result<int64_t> catalog_version() = 0;
  // The tenants changed after `since`; too_far_behind when more than `max` versions (or
  // changes already pruned) lie between.
  virtual Result<CatalogChanges> load_catalog_changes(int64_t since, size_t max) = 0;
  // The catalog of these tenants only (a deleted tenant is simply absent).
  virtual Result<Catalog> load_tenants_catalog(const std::vector<std::string>& tenant_ids) = 0;

  virtual Status insert_tenant(const Tenant& tenant, const ApiKey& first_key) = 0;
  // Deletes the tenant and everything it owns (keys, endpoints, deliveries).
  virtual Status delete_tenant(const std::string& tenant_id) = 0;
  virtual Status insert_api_key(const ApiKey& key) = 0;
  virtual Status delete_api_key(const std::string& tenant_id, const std::string& key_id) = 0;
  virtual Status insert_public_key(const PublicKeyRecord& key) = 0;
  virtual Status delete_public_key(const std::string& tenant_id, const std::string& kid) = 0;
  virtual Status put_subscriptions(const std::string& tenant_id,
                                   const std::vector<std::string>& patterns) = 0;
  // Insert or replace by id. A replace keeps the stored state (set_endpoint_state() writes it).
  virtual Status put_endpoint(const Endpoint& endpoint) = 0;
  // Only the endpoint's state, if it is not in that state already (whoever put it there):
  // answers whether this call changed it; not_found when the tenant has no such endpoint.
  virtual Result<bool> set_endpoint_state(const std::string& tenant_id,
                                          const std::string& endpoint_id,
                                          const EndpointState& state) = 0;
  // Endpoint health, apart from the catalog (no catalog version moves). Adds `failures` failed
  // attempts, the first made at `first_at_ms`, the last at `last_at_ms`, to the endpoint's
  // streak (one starts at first_at_ms when it has none), and answers the streak as it is now,
  // every process's failures in it. not_found when the endpoint is gone.
  virtual Result<EndpointHealth> add_endpoint_failures(const std::string& endpoint_id, int failures,
                                                       int64_t first_at_ms, int64_t last_at_ms) = 0;
  // An attempt succeeded: the endpoint's streak ends (if it had one).
  virtual Status clear_endpoint_failures(const std::string& endpoint_id) = 0;
  // The endpoints that have a streak now.
  virtual Result<std::vector<std::string>> failing_endpoints() = 0;
  virtual Status delete_endpoint(const std::string& tenant_id, const std::string& endpoint_id) = 0;

  // Applied in one transaction.
  virtual Status write_deliveries(const std::vector<DeliveryUpdate>& batch) = 0;
  virtual Result<std::optional<DeliveryRecord>> get_delivery(const std::string& tenant_id,
                                                             const std::string& id) = 0;
  virtual Result<std::vector<AttemptRecord>> get_attempts(const std::string& delivery_id) = 0;
  // Newest first; `cursor` is the last id of the previous page.
  virtual Result<DeliveryPage> list_deliveries(const std::string& tenant_id,
                                               std::optional<DeliveryStatus> status, size_t limit,
                                               const std::optional<std::string>& cursor) = 0;
  virtual Result<std::optional<DeadLetter>> get_dead_letter(const std::string& tenant_id,
                                                            const std::string& id) = 0;
  virtual Result<int64_t> count_deliveries(std::optional<DeliveryStatus> status) = 0;

  // Drops idempotency records (answers and reservations) created before `before_ms`.
  virtual Status purge_idempotency(int64_t before_ms) = 0;
  // Reserves (scope, key) for a publish about to fan out, atomically: kReserved when this call
  // took it (a record older than `expired_before_ms`, or a reservation older than
  // `stale_before_ms` whose publish died and that was made for the same `request_hash`, is
  // taken over); kMismatch when a record of another request holds it; otherwise what holds it.
  // A record without a hash (made before hashes were kept) matches any request.
  virtual Result<Reservation> reserve_idempotency(const std::string& scope, const std::string& key,
                                                  const std::string& request_hash, int64_t now_ms,
                                                  int64_t expired_before_ms,
                                                  int64_t stale_before_ms) = 0;
  // The reserved publish answered: its answer is kept for the window.
  virtual Status complete_idempotency(const std::string& scope, const std::string& key,
                                      const std::string& response_json) = 0;
  // The reserved publish failed: the key is free again.
  virtual Status release_idempotency(const std::string& scope, const std::string& key) = 0;

  // Replay: atomically dead -> pending, its dead letter removed (false when it was not dead:
  // someone else claimed it).
  virtual Result<bool> claim_dead(const std::string& tenant_id, const std::string& id,
                                  int64_t now_ms) = 0;
  // A claimed replay that could not be queued goes back to dead, with its body.
  virtual Status unclaim_dead(const std::string& tenant_id, const std::string& id,
                              const std::string& body) = 0;

  // Recovery: every delivery recorded as pending and last updated before `updated_before_ms`
  // (INT64_MAX: all of them), as (tenant, id).
  virtual Result<std::vector<std::pair<std::string, std::string>>> pending_deliveries(
      int64_t updated_before_ms) = 0;
  // The same, a page at a time: at most `limit` of them, by tenant and then newest first,
  // after `after` (the last of the previous page; none: from the start). An empty page ends.
  virtual Result<std::vector<std::pair<std::string, std::string>>> pending_deliveries(
      int64_t updated_before_ms, const std::optional<std::pair<std::string, std::string>>& after,
      size_t limit) = 0;
  // Sets the status (and last error) of these deliveries, when they are still pending.
  virtual Status settle_pending(const std::vector<std::pair<std::string, std::string>>& ids,
                                DeliveryStatus status, const std::string& error,
                                int64_t now_ms) = 0;

  // Small facts kept across restarts ("admin_token_sha256", "queue").
  virtual Result<std::optional<std::string>> get_meta(const std::string& key) = 0;
  virtual Status put_meta(const std::string& key, const std::string& value) = 0;

  // For /readyz.
  virtual Status ping() = 0;

  // A push channel for catalog changes made by any process sharing the store: calls
  // `on_change` (on a thread of the store's) after each change, and after each reconnect
  // (changes may have been missed meanwhile). False when the store has none: the periodic
  // version check alone keeps the catalog in step. An empty function stops watching, and
  // returns once `on_change` can no longer be called.
  virtual bool watch_catalog(std::function<void()> on_change) {
    (void)on_change;
    return false;
  }
};

// "sqlite:PATH" (the default, PATH a directory or a .db file), or "postgres://..." /
// "postgresql://..." (a libpq connection URI; see postgres/postgres_store.hpp).
Result<std::unique_ptr<Store>> make_store(const std::string& spec);

}  // namespace sealhook
