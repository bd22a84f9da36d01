#pragma once
// Publish: who subscribes (catalog snapshot) -> one JWE per tenant -> one queued delivery per
// matching endpoint, all-or-nothing into the queue -> records to the journal. Idempotent on
// the caller's key for 24 h.
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "catalog/catalog.hpp"
#include "core/clock.hpp"
#include "publish/publish_trace.hpp"
#include "publish/type_classes.hpp"
#include "queue/queue.hpp"
#include "store/journal.hpp"
#include "store/store.hpp"

namespace sealhook {

struct PublishRequest {
  std::string type;                            // validated: [A-Za-z0-9._:-], nothing to escape
  std::string payload_json;                    // the payload's JSON text as published
  std::optional<std::string> tenant_id;        // only this tenant
  std::optional<std::string> idempotency_key;  // "id"
  std::string scope;                           // "admin" or the caller's tenant id
  std::string traceparent = {};                // the request's W3C header, "" when none
  std::string route = "/v1/events";            // the route it came by (for its span)
};

struct PublishResult {
  std::string event_id;
  size_t deliveries = 0;
  // Deliveries not made: the tenant has no public key (nothing is sent unencrypted), or the
  // endpoint is disabled (`skipped_disabled` of them, each recorded with status skipped).
  size_t skipped = 0;
  size_t skipped_disabled = 0;
  std::string to_json() const;
};

struct PublishCounters {
  explicit PublishCounters(size_t max_type_classes) : events_by_class(max_type_classes) {}
  std::atomic<uint64_t> events{0}, deliveries{0}, rejected_full{0}, skipped_no_key{0},
      skipped_disabled{0};
  TypeClassCounts events_by_class;  // `events`, by the class of their type
};

inline constexpr size_t kDefaultTypeClasses = 20;

using PublishDone = std::function<void(Result<std::string>)>;

class Publisher {
 public:
  // `max_ciphertext_bytes` bounds what one publish seals (its JWE bodies, one per tenant): a
  // large payload fanned out to many tenants is refused (413) before anything is encrypted.
  Publisher(CatalogService& catalog, Queue& queue, Journal& journal, Store& store,
            const Clock& clock, size_t max_ciphertext_bytes = size_t{256} << 20,
            size_t max_type_classes = kDefaultTypeClasses);
  // Returns the JSON answer body (a replay of the first answer for a repeated key). Blocks
  // until the deliveries are queued (durable): not for the io threads.
  Result<std::string> publish(const PublishRequest& request);
  // The same for a request without an idempotency key, never blocking on disk: `done` gets the
  // answer on some thread once the queue has it. Sealing happens on the calling thread.
  void publish_async(const PublishRequest& request, PublishDone done);
  const PublishCounters& counters() const { return counters_; }
  // Spans for each publish from now on (null: off; a caller's traceparent is still carried).
  void set_tracer(trace::Tracer* tracer) { tracer_ = tracer; }

 private:
  struct Prepared {
    PublishResult result;
    std::string type;
    std::vector<QueuedDelivery> batch;
    std::vector<DeliveryUpdate> records;
  };
  // One JWE per subscribed tenant, one delivery and one record per matching endpoint.
  // Each delivery carries the trace context `trace` gives once sealing is done.
  Result<Prepared> prepare(const PublishRequest& request, PublishTrace& trace);
  Result<PublishResult> committed(const Status& pushed, Prepared&& prepared);
  Result<PublishResult> fan_out(const PublishRequest& request, PublishTrace& trace);
  Result<std::string> publish_traced(const PublishRequest& request, PublishTrace& trace);

  CatalogService& catalog_;
  Queue& queue_;
  Journal& journal_;
  Store& store_;
  const Clock& clock_;
  size_t max_ciphertext_bytes_;
  PublishCounters counters_;
  trace::Tracer* tracer_ = nullptr;
};

inline constexpr int64_t kIdempotencyWindowMs = 24LL * 3600 * 1000;
// A reservation this old belongs to a publish that died before it answered: taken over.
inline constexpr int64_t kIdempotencyStaleMs = 60'000;

}  // namespace sealhook
