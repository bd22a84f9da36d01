#include "publish/publisher.hpp"

#include <spdlog/spdlog.h>

#include "catalog/event_types.hpp"
#include "core/ids.hpp"
#include "crypto/jwe.hpp"
#include "publish/request_hash.hpp"

namespace sealhook {

// event_id is a minted id (token characters only), so no escaping is needed.
std::string PublishResult::to_json() const {
  return R"({"event_id":")" + event_id + R"(","deliveries":)" + std::to_string(deliveries) +
         R"(,"skipped":)" + std::to_string(skipped) + "}";
}

Publisher::Publisher(CatalogService& catalog, Queue& queue, Journal& journal, Store& store,
                     const Clock& clock, size_t max_ciphertext_bytes, size_t max_type_classes)
    : catalog_(catalog),
      queue_(queue),
      journal_(journal),
      store_(store),
      clock_(clock),
      max_ciphertext_bytes_(max_ciphertext_bytes),
      counters_(max_type_classes) {}

namespace {

// An upper bound of one JWE compact body for `plain_bytes` of plaintext: base64url of the
// ciphertext, plus the header, an RSA-4096 encrypted key, the IV and the tag.
size_t jwe_bytes_bound(size_t plain_bytes) { return (plain_bytes + 2) / 3 * 4 + 1024; }

}  // namespace

Result<std::string> Publisher::publish(const PublishRequest& request) {
  PublishTrace trace(tracer_, request.route, request.traceparent);
  auto answer = publish_traced(request, trace);
  trace.answered(answer ? Status{} : Status(answer.error()));
  return answer;
}

Result<std::string> Publisher::publish_traced(const PublishRequest& request, PublishTrace& trace) {
  // fan_out() splices the type into JSON unescaped: only token characters may pass.
  if (!is_valid_event_type(request.type))
    return make_error(ErrorKind::kBadRequest, "invalid_event_type", "invalid event type");
  if (!request.idempotency_key) {
    auto r = fan_out(request, trace);
    if (!r) return r.error();
    return r->to_json();
  }
  // The key is reserved before anything is queued, atomically in the store: of two concurrent
  // publishes with one key only one fans out, in this process or another; the key keeps the
  // request's hash, so a reuse with another request is refused instead of answered.
  const std::string& key = *request.idempotency_key;
  int64_t now = clock_.now_ms();
  auto seen = store_.reserve_idempotency(request.scope, key, publish_request_hash(request), now,
                                         now - kIdempotencyWindowMs, now - kIdempotencyStaleMs);
  if (!seen) return seen.error();
  if (seen->state == Reservation::kMismatch)
    return make_error(ErrorKind::kUnprocessable, "idempotency_key_reused",
                      "this id was used within the last 24 h for a publish with another tenant, "
                      "type or payload; publish a new event under a new id");
  if (seen->state == Reservation::kDone) return seen->response_json;
  if (seen->state == Reservation::kInProgress)
    return make_error(ErrorKind::kConflict, "idempotency_in_progress",
                      "a publish with this id is in progress; retry shortly");
  auto r = fan_out(request, trace);
  if (!r) {
    if (auto st = store_.release_idempotency(request.scope, key); !st)
      spdlog::error("publish: releasing idempotency key failed: {}", st.error().message);
    return r.error();
  }
  std::string body = r->to_json();
  // The deliveries are queued: the answer is 202 even if the answer cannot be kept (the key
  // then stays reserved until it is stale).
  if (auto st = store_.complete_idempotency(request.scope, key, body); !st)
    spdlog::error("publish: recording the answer for an idempotency key failed: {}",
                  st.error().message);
  return body;
}

namespace {

DeliveryUpdate skipped_record(const std::string& tenant_id, const EndpointView& ep,
                              const std::string& event_id, const std::string& type, int64_t now) {
  DeliveryUpdate u;
  u.create_only = true;
  u.record.id = new_id("msg_", now);
  u.record.tenant_id = tenant_id;
  u.record.endpoint_id = ep.endpoint.id;
  u.record.event_id = event_id;
  u.record.event_type = type;
  u.record.status = DeliveryStatus::kSkipped;
  u.record.created_at_ms = now;
  u.record.updated_at_ms = now;
  u.record.last_error =
      "endpoint disabled (" + std::string(to_string(ep.endpoint.state.reason)) + "): not sent";
  return u;
}

}  // namespace

Result<Publisher::Prepared> Publisher::prepare(const PublishRequest& request, PublishTrace& trace) {
  int64_t now = clock_.now_ms();
  Prepared out;
  out.result = PublishResult{new_id("evt_", now), 0};
  out.type = request.type;
  auto targets = catalog_.fanout(request.type, request.tenant_id);
  // The plaintext {"id","type","tenant","timestamp","data"}: ids and the type are validated
  // token characters, so it is assembled once around the already-serialized payload and only
  // the tenant id changes per tenant.
  std::string plain =
      "{\"id\":\"" + out.result.event_id + "\",\"type\":\"" + request.type + "\",\"tenant\":\"";
  const size_t prefix_len = plain.size();
  std::string suffix = "\",\"timestamp\":" + std::to_string(now) + ",\"data\":";
  suffix.append(request.payload_json).push_back('}');
  size_t sealed_tenants = 0;
  for (const auto& target : targets) sealed_tenants += target.tenant->active_key() ? 1 : 0;
  const size_t bound = sealed_tenants * jwe_bytes_bound(plain.size() + 64 + suffix.size());
  if (bound > max_ciphertext_bytes_)
    return make_error(ErrorKind::kTooLarge, "publish_too_large",
                      "this event would be about " + std::to_string(bound) +
                          " bytes of ciphertext for " + std::to_string(sealed_tenants) +
                          " tenants, over the limit of " + std::to_string(max_ciphertext_bytes_) +
                          " (--max-publish-bytes); publish to fewer tenants or a smaller payload");
  for (const auto& target : targets) {
    const TenantView& tenant = *target.tenant;
    if (!tenant.active_key()) {
      out.result.skipped += target.endpoints.size();
      continue;
    }
    plain.resize(prefix_len);
    plain.append(tenant.tenant.id).append(suffix);
    auto sealed = crypto::jwe_seal(*tenant.active_key()->key, plain);
    if (!sealed) return sealed.error();
    auto body = std::make_shared<const std::string>(std::move(sealed.value()));
    for (const auto& ep : target.endpoints) {
      if (ep->endpoint.state.disabled) {  // recorded, never queued
        out.records.push_back(
            skipped_record(tenant.tenant.id, *ep, out.result.event_id, request.type, now));
        out.result.skipped++;
        out.result.skipped_disabled++;
        continue;
      }
      QueuedDelivery d;
      d.id = new_id("msg_", now);
      d.tenant_id = tenant.tenant.id;
      d.endpoint_id = ep->endpoint.id;
      d.event_id = out.result.event_id;
      d.event_type = request.type;
      d.body = body;
      d.ordered = ep->endpoint.ordering == Ordering::kOrdered;
      d.not_before_ms = now;
      d.published_at_ms = now;
      DeliveryUpdate u;
      u.create_only = true;
      u.record = to_record(d, DeliveryStatus::kPending, 0, now);
      u.record.next_attempt_at_ms = now;
      out.records.push_back(std::move(u));
      out.batch.push_back(std::move(d));
    }
  }
  out.result.deliveries = out.batch.size();
  trace.sealed(request.type, out.batch.size());
  for (auto& d : out.batch) d.traceparent = trace.delivery_traceparent();
  return out;
}

// After the queue answered. Queue first, so a refused (503) publish leaves no trace; the
// publish-time records are create_only, so they never overwrite an attempt that raced ahead.
Result<PublishResult> Publisher::committed(const Status& pushed, Prepared&& p) {
  if (!pushed) {
    counters_.rejected_full++;
    return pushed.error();
  }
  if (!p.records.empty()) journal_.submit(std::move(p.records));
  counters_.events++;
  counters_.events_by_class.count(p.type);
  counters_.deliveries += p.result.deliveries;
  counters_.skipped_no_key += p.result.skipped - p.result.skipped_disabled;
  counters_.skipped_disabled += p.result.skipped_disabled;
  return p.result;
}

Result<PublishResult> Publisher::fan_out(const PublishRequest& request, PublishTrace& trace) {
  auto p = prepare(request, trace);
  if (!p) return p.error();
  Status pushed = p->batch.empty() ? Status{} : queue_.push(std::move(p->batch));
  return committed(pushed, std::move(p.value()));
}

void Publisher::publish_async(const PublishRequest& request, PublishDone done) {
  auto trace = std::make_shared<PublishTrace>(tracer_, request.route, request.traceparent);
  // Ends the publish's spans as it is answered.
  auto answer = [trace, done = std::move(done)](Result<std::string> r) {
    trace->answered(r ? Status{} : Status(r.error()));
    done(std::move(r));
  };
  if (!is_valid_event_type(request.type))
    return answer(make_error(ErrorKind::kBadRequest, "invalid_event_type", "invalid event type"));
  auto p = prepare(request, *trace);
  if (!p) return answer(p.error());
  if (p->batch.empty()) {
    auto r = committed(Status{}, std::move(p.value()));
    return answer(r->to_json());
  }
  auto batch = std::move(p->batch);
  auto prepared = std::make_shared<Prepared>(std::move(p.value()));
  queue_.push_async(std::move(batch), [this, prepared, answer = std::move(answer)](Status st) {
    auto r = committed(st, std::move(*prepared));
    if (!r) return answer(r.error());
    answer(r->to_json());
  });
}

}  // namespace sealhook
