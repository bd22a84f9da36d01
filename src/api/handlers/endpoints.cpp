// Tenant routes: /v1/endpoints
#include <algorithm>
#include <cmath>

#include "api/handlers/handlers.hpp"

namespace sealhook::api {

boost::json::object endpoint_json(const Endpoint& e, bool with_secret, int64_t now_ms) {
  boost::json::array types;
  for (const auto& t : e.event_types) types.push_back(boost::json::value(t));
  boost::json::object o{{"id", e.id},
                        {"url", e.url},
                        {"event_types", std::move(types)},
                        {"ordering", to_string(e.ordering)},
                        {"max_attempts", e.max_attempts},
                        {"created_at", e.created_at_ms}};
  // Whether a rotated-out secret still signs, and until when; never the secret itself.
  if (!e.previous_secret.empty() && now_ms < e.previous_secret_expires_at_ms)
    o["previous_secret_expires_at"] = e.previous_secret_expires_at_ms;
  else
    o["previous_secret_expires_at"] = nullptr;
  o["state"] = e.state.disabled ? "disabled" : "enabled";
  o["disabled"] = e.state.disabled;
  if (e.state.reason == StateReason::kNone)
    o["state_reason"] = nullptr;
  else
    o["state_reason"] = to_string(e.state.reason);
  if (e.state.changed_at_ms > 0)
    o["state_changed_at"] = e.state.changed_at_ms;
  else
    o["state_changed_at"] = nullptr;
  o["disable_after_ms"] = e.disable_after_ms;
  o["disable_min_attempts"] = e.disable_min_attempts;
  if (e.rate_milli_per_s > 0)
    o["rate_limit"] = boost::json::object{
        {"per_second", static_cast<double>(e.rate_milli_per_s) / 1000.0}, {"burst", e.rate_burst}};
  else
    o["rate_limit"] = nullptr;
  if (with_secret) o["secret"] = e.secret;
  return o;
}

HandlerResult endpoint_answer(const ApiContext& ctx, const Result<Endpoint>& e, unsigned status,
                              bool with_secret) {
  if (!e) return e.error();
  return ok_json(status, endpoint_json(*e, with_secret, ctx.clock.now_ms()));
}

namespace {

const EndpointView* find_own(const Snapshot& s, const Principal& p, const std::string& id) {
  const EndpointPtr* ep = s.endpoints.find(id);
  if (!ep || (*ep)->endpoint.tenant_id != p.tenant_id) return nullptr;
  return ep->get();
}

}  // namespace

namespace {

// "rate_limit": {"per_second": 0.001 to 100000, "burst": 1 to 100000 (the rate, rounded up,
// when absent)}, or null to remove it; absent: unchanged.
Result<std::optional<std::pair<int64_t, int>>> parse_rate_limit(const boost::json::object& body) {
  using Limit = std::optional<std::pair<int64_t, int>>;
  auto it = body.find("rate_limit");
  if (it == body.end()) return Limit{};
  if (it->value().is_null()) return Limit(std::pair<int64_t, int>{0, 0});
  auto invalid = [](const std::string& why) {
    return make_error(ErrorKind::kBadRequest, "invalid_field", "'rate_limit' " + why);
  };
  if (!it->value().is_object()) return invalid("must be {\"per_second\": N, \"burst\": M} or null");
  const auto& o = it->value().as_object();
  if (auto st = only_fields(o, {"per_second", "burst"}); !st) return st.error();
  auto rate = o.find("per_second");
  if (rate == o.end() || !rate->value().is_number())
    return invalid("needs \"per_second\", a number");
  const double per_second = rate->value().to_number<double>();
  const auto milli = static_cast<int64_t>(std::llround(per_second * 1000));
  if (!(per_second > 0) || per_second > 100'000 || milli < 1)
    return invalid("per_second must be from 0.001 to 100000");
  auto burst = optional_int(o, "burst");
  if (!burst) return burst.error();
  const int b = burst->value_or(std::max(1, static_cast<int>(std::ceil(per_second))));
  if (b < 1 || b > 100'000) return invalid("burst must be from 1 to 100000");
  return Limit(std::pair<int64_t, int>{milli, b});
}

}  // namespace

Result<EndpointSpec> parse_endpoint_spec(const net::Request& req) {
  auto body = parse_object(req);
  if (!body) return body.error();
  if (auto st = only_fields(*body,
                            {"url", "event_types", "ordering", "max_attempts", "secret", "disabled",
                             "disable_after_ms", "disable_min_attempts", "rate_limit"});
      !st)
    return st.error();
  EndpointSpec spec;
  auto url = optional_string(*body, "url");
  if (!url) return url.error();
  spec.url = *url;
  auto types = optional_string_list(*body, "event_types");
  if (!types) return types.error();
  spec.event_types = *types;
  auto ordering = optional_string(*body, "ordering", 32);
  if (!ordering) return ordering.error();
  if (ordering->has_value()) {
    spec.ordering = parse_ordering(**ordering);
    if (!spec.ordering)
      return make_error(ErrorKind::kBadRequest, "invalid_field",
                        "'ordering' must be \"unordered\" or \"ordered\"");
  }
  auto attempts = optional_int(*body, "max_attempts");
  if (!attempts) return attempts.error();
  spec.max_attempts = *attempts;
  auto secret = optional_string(*body, "secret", 128);
  if (!secret) return secret.error();
  spec.secret = *secret;
  auto disabled = optional_bool(*body, "disabled");
  if (!disabled) return disabled.error();
  spec.disabled = *disabled;
  auto after = optional_int64(*body, "disable_after_ms");
  if (!after) return after.error();
  spec.disable_after_ms = *after;
  auto min_attempts = optional_int(*body, "disable_min_attempts");
  if (!min_attempts) return min_attempts.error();
  spec.disable_min_attempts = *min_attempts;
  auto rate = parse_rate_limit(*body);
  if (!rate) return rate.error();
  spec.rate_limit = *rate;
  return spec;
}

HandlerResult create_endpoint(ApiContext& ctx, const Principal& p, const net::Request& req) {
  auto spec = parse_endpoint_spec(req);
  if (!spec) return spec.error();
  return endpoint_answer(ctx, ctx.catalog.create_endpoint(p.tenant_id, *spec), 201, true);
}

HandlerResult list_endpoints(ApiContext& ctx, const Principal& p, const Target& t) {
  auto page = page_params(t, "ep_");
  if (!page) return page.error();
  auto snap = ctx.catalog.snapshot();
  const int64_t now = ctx.clock.now_ms();
  boost::json::array data;
  std::optional<std::string> next;
  if (const TenantPtr* tenant = snap->tenants.find(p.tenant_id)) {
    const EndpointsById& endpoints = (*tenant)->endpoints;
    auto it = page->cursor ? endpoints.upper_bound(*page->cursor) : endpoints.begin();
    for (; it != endpoints.end(); ++it) {
      if (data.size() == page->limit) {
        next = std::string(data.back().as_object().at("id").as_string());
        break;
      }
      data.push_back(endpoint_json(it->second->endpoint, false, now));
    }
  }
  return net::json_response(200, page_json(std::move(data), next));
}

HandlerResult get_endpoint(ApiContext& ctx, const Principal& p, const std::string& id) {
  auto snap = ctx.catalog.snapshot();
  const EndpointView* e = find_own(*snap, p, id);
  if (!e) return make_error(ErrorKind::kNotFound, "not_found", "endpoint not found");
  return ok_json(200, endpoint_json(e->endpoint, false, ctx.clock.now_ms()));
}

HandlerResult patch_endpoint(ApiContext& ctx, const Principal& p, const std::string& id,
                             const net::Request& req) {
  auto spec = parse_endpoint_spec(req);
  if (!spec) return spec.error();
  return endpoint_answer(ctx, ctx.catalog.update_endpoint(p.tenant_id, id, *spec), 200, false);
}

HandlerResult delete_endpoint(ApiContext& ctx, const Principal& p, const std::string& id) {
  if (auto st = ctx.catalog.delete_endpoint(p.tenant_id, id); !st) return st.error();
  return no_content();
}

}  // namespace sealhook::api
