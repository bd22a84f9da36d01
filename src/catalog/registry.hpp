#pragma once
// The catalog in memory: an immutable snapshot of tenants, API keys, parsed public keys,
// subscriptions and endpoints, replaced on every write (copy-on-write; writes are rare, reads
// are on every publish and every delivery attempt and never take a lock). Its maps are
// CowMaps, so a write copies a few chunks, not the catalog.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "catalog/cow_map.hpp"
#include "catalog/type_index.hpp"
#include "core/model.hpp"
#include "crypto/jwk.hpp"
#include "crypto/signature.hpp"

namespace sealhook {

struct EndpointView {
  Endpoint endpoint;
  crypto::SigningSecret secret;
  // After a rotation: the secret it replaced, which also signs until
  // endpoint.previous_secret_expires_at_ms.
  std::optional<crypto::SigningSecret> previous;
  // The previous secret if it still signs at `now_ms`, else null.
  const crypto::SigningSecret* previous_at(int64_t now_ms) const {
    return previous && now_ms < endpoint.previous_secret_expires_at_ms ? &*previous : nullptr;
  }
};
using EndpointPtr = std::shared_ptr<const EndpointView>;
using EndpointsById = CowMap<std::string, EndpointPtr>;

struct KeyView {
  PublicKeyRecord record;
  std::shared_ptr<const crypto::PublicKey> key;
};

// A tenant's endpoints by the event types they filter on (no filter: every type).
using EndpointRoutes = TypeIndex<EndpointPtr>;

struct TenantView {
  Tenant tenant;
  std::vector<KeyView> keys;                // oldest first; the newest encrypts new events
  std::vector<std::string> patterns;        // subscriptions
  std::vector<std::string> api_key_hashes;  // its API keys (Snapshot::api_keys)
  EndpointsById endpoints;                  // by id: oldest first
  EndpointRoutes routes;
  const KeyView* active_key() const { return keys.empty() ? nullptr : &keys.back(); }
};
using TenantPtr = std::shared_ptr<const TenantView>;

struct Snapshot {
  CowMap<std::string, TenantPtr> tenants;  // by id (time order)
  EndpointsById endpoints;                 // every tenant's
  CowMap<std::string, ApiKey> api_keys;    // by SHA-256 hex of the token
  // Tenant ids by their subscription patterns (tenants without any are not in it), so a
  // publish looks at the tenants that may want its type, not at every tenant.
  TypeIndex<bool> subscribers;
};

class Registry {
 public:
  Registry() : current_(std::make_shared<const Snapshot>()) {}
  std::shared_ptr<const Snapshot> snapshot() const { return current_.load(); }
  // The snapshot holds every catalog write committed before this time (Unix ms): set by the
  // change feed when a check of the store begins. Without a feed this process is the only
  // writer, so the snapshot is always in step (the maximum).
  int64_t synced_at_ms() const { return synced_at_ms_.load(); }
  void set_synced_at_ms(int64_t ms) { synced_at_ms_.store(ms); }
  // Serialises writers: `edit` gets a copy of the current snapshot to change and returns a
  // Result; the copy replaces the snapshot only when that result is ok.
  template <class F>
  auto update(F&& edit) {
    std::lock_guard lock(write_mu_);
    auto next = std::make_shared<Snapshot>(*current_.load());
    auto result = edit(*next);
    if (result.ok()) current_.store(std::move(next));
    return result;
  }

 private:
  std::mutex write_mu_;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<int64_t> synced_at_ms_{INT64_MAX};
};

}  // namespace sealhook
