#pragma once
// The domain records, as the store keeps them and the API shows them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sealhook {

struct Tenant {
  std::string id;  // tn_...
  std::string name;
  int64_t created_at_ms = 0;
  bool operator==(const Tenant&) const = default;
};

// A tenant API key, kept only as the SHA-256 of the token.
struct ApiKey {
  std::string id;  // ak_...
  std::string tenant_id;
  std::string hash_hex;
  int64_t created_at_ms = 0;
  bool operator==(const ApiKey&) const = default;
};

// A tenant's uploaded public key, kept as its public JWK (JSON text).
struct PublicKeyRecord {
  std::string kid;  // RFC 7638 thumbprint
  std::string tenant_id;
  std::string alg;  // RSA-OAEP-256 | ECDH-ES+A256KW
  std::string jwk_json;
  int64_t created_at_ms = 0;
  bool operator==(const PublicKeyRecord&) const = default;
};

enum class Ordering { kUnordered, kOrdered };

// Why an endpoint's state last changed.
enum class StateReason { kNone, kGone, kFailing, kManual };

// Whether an endpoint is sent to. A disabled endpoint's pending deliveries wait (their attempts
// unspent) and its new events are recorded as skipped. Changed only by a change of state, never
// by an edit of the endpoint's other fields (the store writes the two apart).
struct EndpointState {
  bool disabled = false;
  StateReason reason = StateReason::kNone;  // of the last change (kNone: it never changed)
  int64_t changed_at_ms = 0;                // of the last change, 0 when none
  bool operator==(const EndpointState&) const = default;
};

struct Endpoint {
  std::string id;  // ep_...
  std::string tenant_id;
  std::string url;
  std::string secret;                    // whsec_...
  std::vector<std::string> event_types;  // empty: every type the tenant subscribes to
  Ordering ordering = Ordering::kUnordered;
  int max_attempts = 6;
  int64_t created_at_ms = 0;
  // Rotation: the secret `secret` replaced, which signs too until its expiry (Unix ms; "" and 0
  // when there is none). Never shown by the API.
  std::string previous_secret;
  int64_t previous_secret_expires_at_ms = 0;
  EndpointState state = {};
  // Disabled automatically once every attempt failed for this long with at least this many
  // failed attempts; 0: the server's (--disable-after-ms, --disable-min-attempts).
  int64_t disable_after_ms = 0;
  int disable_min_attempts = 0;
  // Deliveries per second at most (in thousandths: 50'000 is 50/s), `rate_burst` of them at
  // once after a pause; 0: no limit.
  int64_t rate_milli_per_s = 0;
  int rate_burst = 0;
  bool operator==(const Endpoint&) const = default;
};

// An endpoint whose every attempt failed since failing_since_ms (its failure streak).
struct EndpointHealth {
  int64_t failing_since_ms = 0;
  int failed_attempts = 0;
  int64_t last_failure_ms = 0;
  bool operator==(const EndpointHealth&) const = default;
};

// kLost: accepted, then lost with the process of a volatile (memory) queue. kSkipped: published
// while its endpoint was disabled: recorded, never queued.
enum class DeliveryStatus { kPending, kDelivered, kDead, kLost, kSkipped };

std::string_view to_string(DeliveryStatus s);
std::optional<DeliveryStatus> parse_delivery_status(std::string_view s);
std::string_view to_string(Ordering o);
std::string_view to_string(StateReason r);                          // "" for kNone
std::optional<StateReason> parse_state_reason(std::string_view s);  // "" is kNone
std::optional<Ordering> parse_ordering(std::string_view s);

// One delivery of one event to one endpoint. Its id is the `webhook-id` on the wire.
struct DeliveryRecord {
  std::string id;  // msg_...
  std::string tenant_id;
  std::string endpoint_id;
  std::string event_id;
  std::string event_type;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  int64_t next_attempt_at_ms = 0;  // 0 when not pending
  std::string last_error;
};

struct AttemptRecord {
  std::string delivery_id;
  int number = 0;  // 1-based
  int64_t at_ms = 0;
  int64_t duration_ms = 0;
  int status_code = 0;  // 0 when no HTTP answer
  std::string error;    // empty on a 2xx
};

}  // namespace sealhook
