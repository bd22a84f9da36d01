// Publish: POST /v1/events and the original's POST /publish.
#include "api/handlers/handlers.hpp"
#include "catalog/event_types.hpp"
#include "core/json_text.hpp"

namespace sealhook::api {

Result<PublishRequest> parse_publish_body(const Principal& p, const net::Request& req, bool legacy,
                                          size_t max_payload_bytes) {
  auto body = parse_object(req);
  if (!body) return body.error();
  if (auto st = legacy ? only_fields(*body, {"type", "payload", "target", "url"})
                       : only_fields(*body, {"type", "payload", "tenant", "id"});
      !st)
    return st.error();
  PublishRequest pr;
  pr.route = legacy ? "/publish" : "/v1/events";
  // W3C trace context: checked where it is used (an invalid one is ignored, never refused).
  if (auto tp = req.find("traceparent"); tp != req.end() && tp->value().size() <= 256)
    pr.traceparent = std::string(tp->value());
  auto type = optional_string(*body, "type", kMaxEventTypeLength);
  if (!type) return type.error();
  if (!type->has_value() && !legacy)
    return make_error(ErrorKind::kBadRequest, "missing_field", "'type' is required");
  pr.type = type->value_or("default");
  if (!is_valid_event_type(pr.type))
    return make_error(ErrorKind::kBadRequest, "invalid_event_type",
                      "'type' must be 1 to 256 letters, digits or . _ : -");
  // The payload's own text, validated by the parse above and never re-encoded.
  auto payload = member_text(req.body(), "payload");
  if (!payload) return payload.error();
  if (!payload->has_value())
    return make_error(ErrorKind::kBadRequest, "missing_field", "'payload' is required");
  pr.payload_json = std::string(**payload);
  size_t size = pr.payload_json.size();
  if (size > max_payload_bytes)
    return make_error(ErrorKind::kTooLarge, "payload_too_large",
                      "payload is " + std::to_string(size) + " bytes, over the limit of " +
                          std::to_string(max_payload_bytes));
  auto tenant = optional_string(*body, legacy ? "target" : "tenant", 64);
  if (!tenant) return tenant.error();
  pr.tenant_id = *tenant;
  if (!legacy) {
    auto key = optional_string(*body, "id", 256);
    if (!key) return key.error();
    if (key->has_value() && (*key)->empty())
      return make_error(ErrorKind::kBadRequest, "invalid_field", "'id' must not be empty");
    pr.idempotency_key = *key;
  }
  if (p.admin) {
    pr.scope = "admin";
  } else {
    if (pr.tenant_id && *pr.tenant_id != p.tenant_id)
      return make_error(ErrorKind::kForbidden, "forbidden",
                        "a tenant key publishes to its own tenant only");
    pr.tenant_id = p.tenant_id;
    pr.scope = p.tenant_id;
  }
  return pr;
}

Result<PublishRequest> parse_publish(ApiContext& ctx, const Principal& p, const net::Request& req,
                                     bool legacy) {
  auto pr = parse_publish_body(p, req, legacy, ctx.max_payload_bytes);
  if (pr && pr->tenant_id && !ctx.catalog.snapshot()->tenants.contains(*pr->tenant_id))
    return make_error(ErrorKind::kNotFound, "not_found", "tenant not found");
  return pr;
}

HandlerResult publish_event(ApiContext& ctx, const Principal& p, const net::Request& req,
                            bool legacy) {
  auto pr = parse_publish(ctx, p, req, legacy);
  if (!pr) return pr.error();
  auto answer = ctx.publisher.publish(*pr);
  if (!answer) return answer.error();
  return net::json_response(202, std::move(answer.value()));
}

}  // namespace sealhook::api
