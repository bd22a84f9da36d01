#pragma once
// The catalog in memory: an immutable snapshot of tenants, API keys, parsed public keys,
// subscriptions and endpoints, replaced whole on every write (copy-on-write; writes are rare,
// reads are on every publish and every delivery attempt and never take a lock).
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/model.hpp"
#include "crypto/jwk.hpp"
#include "crypto/signature.hpp"

namespace sealhook {

struct EndpointView {
  Endpoint endpoint;
  crypto::SigningSecret secret;
};

struct KeyView {
  PublicKeyRecord record;
  std::shared_ptr<const crypto::PublicKey> key;
};

// Which of a tenant's endpoints an event type reaches, without looking at every endpoint:
// endpoints filtering on exact types are indexed by type; the others (no filter, or a
// wildcard) are checked one by one.
struct EndpointRoutes {
  std::unordered_map<std::string, std::vector<std::shared_ptr<const EndpointView>>> by_exact_type;
  std::vector<std::shared_ptr<const EndpointView>> by_pattern;
};

struct TenantView {
  Tenant tenant;
  std::vector<KeyView> keys;              // oldest first; the newest encrypts new events
  std::vector<std::string> patterns;      // subscriptions
  std::vector<std::string> endpoint_ids;  // oldest first
  std::shared_ptr<const EndpointRoutes> routes = std::make_shared<const EndpointRoutes>();
  const KeyView* active_key() const { return keys.empty() ? nullptr : &keys.back(); }
};

struct Snapshot {
  std::map<std::string, std::shared_ptr<const TenantView>> tenants;  // by id (time order)
  std::unordered_map<std::string, std::shared_ptr<const EndpointView>> endpoints;
  std::unordered_map<std::string, ApiKey> api_keys;  // by SHA-256 hex of the token
};

// Rebuilds the routes of `tenant_id` in `s` from its endpoints (after any endpoint change).
void rebuild_routes(Snapshot& s, const std::string& tenant_id);

class Registry {
 public:
  Registry() : current_(std::make_shared<const Snapshot>()) {}
  std::shared_ptr<const Snapshot> snapshot() const { return current_.load(); }
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
};

}  // namespace sealhook
