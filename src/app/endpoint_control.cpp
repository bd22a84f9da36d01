#include "app/endpoint_control.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace sealhook::app {

std::function<bool(const std::string&, const std::string&, StateReason)> endpoint_disabler(
    Node& n) {
  return [&n](const std::string& tenant, const std::string& endpoint, StateReason reason) {
    bool changed = false;
    auto r = n.catalog->set_endpoint_state(tenant, endpoint, true, reason, &changed);
    if (!r && r.error().kind != ErrorKind::kNotFound)
      spdlog::error("endpoint {}: disabling it failed: {}", endpoint, r.error().message);
    return changed;
  };
}

std::unique_ptr<delivery::EndpointHealthTracker> make_health_tracker(Node& n) {
  const ServeConfig& c = n.config;
  auto disable = endpoint_disabler(n);
  return std::make_unique<delivery::EndpointHealthTracker>(
      *n.store, n.clock,
      delivery::HealthOptions{.disable_after_ms = parse_duration_ms(c.disable_after).value(),
                              .disable_min_attempts = c.disable_min_attempts},
      [&n](std::function<void()> task) { boost::asio::post(*n.blocking, std::move(task)); },
      [disable](const std::string& tenant, const std::string& endpoint) {
        disable(tenant, endpoint, StateReason::kFailing);
      });
}

std::string endpoint_disabled_payload(const Endpoint& e) {
  boost::json::object o{{"endpoint_id", e.id},
                        {"tenant_id", e.tenant_id},
                        {"url", e.url},
                        {"reason", to_string(e.state.reason)},
                        {"disabled_at", e.state.changed_at_ms}};
  return boost::json::serialize(o);
}

void watch_endpoint_states(Node& n) {
  n.catalog->set_state_hook([&n](const Endpoint& e) {
    spdlog::warn(R"("msg":"{}","endpoint_id":"{}","tenant_id":"{}","reason":"{}")",
                 e.state.disabled ? "endpoint_disabled" : "endpoint_enabled", e.id, e.tenant_id,
                 to_string(e.state.reason));
    if (!e.state.disabled) {  // enabled again: the failures that disabled it are forgotten
      if (n.health) boost::asio::post(*n.blocking, [&n, id = e.id] { n.health->enabled(id); });
      return;
    }
    if (n.config.system_tenant.empty() || !n.publisher) return;
    PublishRequest req;
    req.type = kEndpointDisabledType;
    req.payload_json = endpoint_disabled_payload(e);
    req.tenant_id = n.config.system_tenant;
    // One event per change: a publish tried again (or raced) never makes two.
    req.idempotency_key =
        "sealhook.endpoint.disabled:" + e.id + ":" + std::to_string(e.state.changed_at_ms);
    req.scope = "admin";
    boost::asio::post(*n.blocking, [&n, req = std::move(req)] {
      if (auto r = n.publisher->publish(req); !r)
        spdlog::error("endpoint {}: publishing {} failed: {}", req.payload_json, req.type,
                      r.error().message);
    });
  });
}

}  // namespace sealhook::app
