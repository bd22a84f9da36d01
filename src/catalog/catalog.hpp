#pragma once
// The catalog service: every change goes to the store first, then into the in-memory
// snapshot (Registry) that publish and delivery read. Bounds on counts live here.
#include <array>
#include <atomic>
#include <boost/json/value.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catalog/registry.hpp"
#include "core/clock.hpp"
#include "delivery/ssrf_guard.hpp"
#include "store/store.hpp"

namespace sealhook {

// An endpoint as the catalog serves it: its secrets parsed (the previous one when it has one).
Result<EndpointView> make_endpoint_view(const Endpoint& endpoint);

struct CatalogLimits {
  size_t max_tenants = 100'000;
  size_t max_endpoints_per_tenant = 100;
  size_t max_keys_per_tenant = 10;
  size_t max_api_keys_per_tenant = 10;
  int max_attempts_limit = 50;
  int default_max_attempts = 6;
  // How long a rotated-out signing secret keeps signing (a rotation may ask for 0 up to the max).
  int64_t secret_rotation_grace_ms = 24LL * 3600 * 1000;
  int64_t max_secret_rotation_grace_ms = 7LL * 24 * 3600 * 1000;
};

struct EndpointSpec {  // POST /v1/endpoints and PATCH (unset fields stay as they are)
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> event_types;
  std::optional<Ordering> ordering;
  std::optional<int> max_attempts;
  std::optional<std::string> secret;  // whsec_...; generated when absent on create
  std::optional<bool> disabled;       // a change of state (reason kManual)
  // The automatic disable's bounds for this endpoint; 0: the server's.
  std::optional<int64_t> disable_after_ms;
  std::optional<int> disable_min_attempts;
  // A rate limit: (deliveries per second in thousandths, burst); (0, 0) removes it.
  std::optional<std::pair<int64_t, int>> rate_limit;
};

// The endpoints of subscribed tenants for one event, with the key to encrypt for each tenant.
struct FanoutTarget {
  std::shared_ptr<const TenantView> tenant;
  std::vector<std::shared_ptr<const EndpointView>> endpoints;
};

class CatalogService {
 public:
  // `guard` checks endpoint URLs (the SSRF guard) and outlives the service.
  CatalogService(Store& store, Registry& registry, const Clock& clock, CatalogLimits limits,
                 delivery::UrlGuard& guard);
  // Reads the whole catalog from the store (at start).
  Status load();
  // The change feed's half: when the store's catalog version moved past the one loaded, reloads
  // the tenants changed since (all of them when more than kMaxDelta changes behind). Returns
  // whether anything was reloaded. Readers never wait: the snapshot is swapped as on a write.
  Result<bool> reload_if_changed();
  static constexpr size_t kMaxDelta = 10'000;
  // The store's catalog version the snapshot is in step with.
  int64_t version() const { return version_.load(); }
  // The store the catalog is kept in (the feed watches it for others' changes).
  Store& store() { return store_; }
  // Told after every write made through this service (the feed nudges other processes).
  void set_change_hook(std::function<void()> hook) { change_hook_ = std::move(hook); }
  // Told of an endpoint whose ordering a PATCH changes, before the change is stored, under the
  // catalog's write lock (so switches reach it in the catalog's order): the queue switches what
  // it holds of the endpoint (app/node.cpp wires it). Its failure refuses the PATCH; a store
  // write that fails after it is told again with the endpoint as it was.
  using OrderingHook = std::function<Status(const Endpoint&)>;
  void set_ordering_hook(OrderingHook hook) { ordering_hook_ = std::move(hook); }
  // The same for a switch made through another process, met by reload_if_changed() (its
  // failure fails the reload, tried again at the next check). Unset for a queue the processes
  // share: the process that made the switch has switched it already.
  void set_remote_ordering_hook(OrderingHook hook) { remote_ordering_hook_ = std::move(hook); }

  Result<std::pair<Tenant, std::string>> create_tenant(const std::string& name);
  Status delete_tenant(const std::string& tenant_id);
  Result<std::pair<ApiKey, std::string>> create_api_key(const std::string& tenant_id);
  // The tenant's API keys (ids and creation times; the tokens are never kept), oldest first.
  Result<std::vector<ApiKey>> list_api_keys(const std::string& tenant_id) const;
  // Revokes one key at once (authenticate() stops accepting it as soon as this returns). The
  // tenant's last key is kept (409 last_api_key) unless `allow_last`: a tenant without a key
  // can still be reached by the admin token, but can no longer call the API itself.
  Status delete_api_key(const std::string& tenant_id, const std::string& key_id, bool allow_last);
  // The tenant id owning this API key, if any.
  std::optional<std::string> authenticate(std::string_view token) const;

  Result<PublicKeyRecord> add_public_key(const std::string& tenant_id,
                                         const boost::json::value& key);
  Status delete_public_key(const std::string& tenant_id, const std::string& kid);
  Status set_subscriptions(const std::string& tenant_id, const std::vector<std::string>& patterns);

  Result<Endpoint> create_endpoint(const std::string& tenant_id, const EndpointSpec& spec);
  Result<Endpoint> update_endpoint(const std::string& tenant_id, const std::string& endpoint_id,
                                   const EndpointSpec& spec);
  Status delete_endpoint(const std::string& tenant_id, const std::string& endpoint_id);
  // Enables or disables the endpoint, stored first (every process's catalog follows through
  // the feed). Already in that state: nothing is written, and the answer is the endpoint as it
  // is (so that many attempts answered 410 at once disable it once). `changed`, when given, is
  // told whether this call changed it.
  Result<Endpoint> set_endpoint_state(const std::string& tenant_id, const std::string& endpoint_id,
                                      bool disabled, StateReason reason, bool* changed = nullptr);
  // Told of every change of state made through this service, once stored, under the catalog's
  // write lock (keep it short: post what takes time). app/node.cpp logs it and publishes the
  // system event.
  using StateHook = std::function<void(const Endpoint&)>;
  void set_state_hook(StateHook hook) { state_hook_ = std::move(hook); }
  // Endpoints this service disabled, by the reason.
  uint64_t disables(StateReason reason) const {
    return disables_[static_cast<size_t>(reason)].load();
  }
  // A new generated signing secret; the current one becomes the previous secret and signs too
  // for `grace_ms` (unset: the server's default; 0: not at all). A previous secret still in
  // its grace is dropped: one previous secret at most. Stored, so every process signs alike.
  Result<Endpoint> rotate_endpoint_secret(const std::string& tenant_id,
                                          const std::string& endpoint_id,
                                          std::optional<int64_t> grace_ms);
  // Ends the previous secret's grace now (404 when none is signing).
  Result<Endpoint> expire_previous_secret(const std::string& tenant_id,
                                          const std::string& endpoint_id);

  // Who receives an event of `type` (only `tenant_id` when given). A tenant without a public
  // key is listed too (its `tenant->active_key()` is null), so that the publisher can count
  // what it skips: nothing is ever sent unencrypted.
  std::vector<FanoutTarget> fanout(std::string_view type,
                                   const std::optional<std::string>& tenant_id) const;
  std::shared_ptr<const Snapshot> snapshot() const { return registry_.snapshot(); }

 private:
  Result<std::shared_ptr<const TenantView>> tenant(const Snapshot& s, const std::string& id) const;
  Status validate(EndpointSpec& spec, bool creating) const;
  // Writes `next` (a changed copy of the tenant's endpoint `old`) to the store, then into `s`.
  Result<Endpoint> replace_endpoint(Snapshot& s, const TenantPtr& tenant, const EndpointView& old,
                                    EndpointView&& next);
  // replace_endpoint() once stored: `next` into `s`.
  Result<Endpoint> install_endpoint(Snapshot& s, const TenantPtr& tenant, const EndpointView& old,
                                    EndpointView&& next);
  // update_endpoint()'s edit of the fields other than the state.
  Result<Endpoint> edit_endpoint(const std::string& tenant_id, const std::string& endpoint_id,
                                 const EndpointSpec& spec);
  // The tenant's endpoint in `s`, or 404.
  Result<EndpointPtr> own_endpoint(const Snapshot& s, const std::string& tenant_id,
                                   const std::string& endpoint_id) const;

  // Registry::update, then the change hook when the write succeeded.
  template <class F>
  auto write(F&& edit) {
    auto result = registry_.update(std::forward<F>(edit));
    if (result.ok() && change_hook_) change_hook_();
    return result;
  }
  // Under the registry's write lock: the whole catalog, or the tenants changed since version_.
  Status replace_all(Snapshot& s);
  Status replace_tenants(Snapshot& s, const CatalogChanges& changes);

  Store& store_;
  Registry& registry_;
  const Clock& clock_;
  CatalogLimits limits_;
  delivery::UrlGuard& guard_;
  OrderingHook ordering_hook_;
  OrderingHook remote_ordering_hook_;
  std::function<void()> change_hook_;
  StateHook state_hook_;
  std::array<std::atomic<uint64_t>, 4> disables_{};  // by StateReason
  std::atomic<int64_t> version_{0};
};

}  // namespace sealhook
